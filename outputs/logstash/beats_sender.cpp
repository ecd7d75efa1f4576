// The beats protocol: each window of events is written as one window frame
// and JSON frames, optionally compressed, and counts as delivered only when
// the receiver ACKs the window's last sequence number. ACKs for fewer
// events (partial ACKs) confirm those events, so after a failure only the
// rest is sent again; ACKs for sequence 0 are keep-alives that restart the
// wait.
#include <cstring>
#include <string>

#include <fmt/format.h>

#include "outputs/logstash/host_pool.hpp"
#include "outputs/logstash/logstash_output.hpp"
#include "outputs/logstash/lumberjack.hpp"

namespace slipway::outputs::logstash {

namespace {

struct WindowOutcome {
  std::size_t acknowledged = 0;  // events from the start of the window the receiver confirmed
  std::string error;             // empty when the whole window was confirmed
};

std::string hex_bytes(const char* bytes, std::size_t size) {
  std::string text;
  for (std::size_t index = 0; index < size; ++index) {
    text += fmt::format("{}{:02x}", index == 0 ? "" : " ", static_cast<unsigned char>(bytes[index]));
  }
  return text;
}

class BeatsSender final : public Sender {
 public:
  explicit BeatsSender(const LogstashOutputConfig& config) : config_(config) {}

  void start(OutputContext& context) override {
    pool_ = std::make_unique<HostPool>(config_.endpoints, config_.tls, config_.connect_timeout);
    if (config_.compression_level > 0) {
      compressor_ = std::make_unique<lumberjack::FrameCompressor>(config_.compression_level);
    }
    if (config_.tls.enabled && !config_.tls.verify) {
      context.log().warn("TLS certificate verification is off, so any server can pose as Logstash.");
    }
    context.log().info("Sending events with the beats protocol. hosts={} window_max_events={} compression_level={}",
                       config_.endpoints.size(), config_.batch_max_events, config_.compression_level);
  }

  DeliveryResult deliver(const BatchPtr& batch, OutputContext& context) override {
    const std::vector<Event>& events = batch->events;
    std::size_t confirmed = 0;
    while (confirmed < events.size()) {
      const std::size_t count = std::min(config_.batch_max_events, events.size() - confirmed);
      const WindowOutcome outcome = send_window(events, confirmed, count, context);
      confirmed += outcome.acknowledged;
      if (outcome.error.empty()) {
        continue;
      }

      if (confirmed == 0) {
        return DeliveryResult::retry(outcome.error);
      }
      DeliveryResult partial = DeliveryResult::delivered();
      for (std::size_t index = confirmed; index < events.size(); ++index) {
        partial.failures.push_back(EventFailure{index, true, outcome.error});
      }
      return partial;
    }
    return DeliveryResult::delivered();
  }

  void stop(OutputContext& /*context*/) override {
    if (pool_) {
      pool_->close();
    }
  }

 private:
  void encode_window(const std::vector<Event>& events, std::size_t first, std::size_t count) {
    wire_.clear();
    frames_.clear();
    lumberjack::append_window(static_cast<std::uint32_t>(count), wire_);
    // Uncompressed JSON frames follow the window frame directly.
    std::string& frames = compressor_ ? frames_ : wire_;
    for (std::size_t offset = 0; offset < count; ++offset) {
      // Sequence numbers start at 1 in every window, as Filebeat numbers them.
      lumberjack::append_json(static_cast<std::uint32_t>(offset + 1), events[first + offset].json, frames);
    }
    if (compressor_) {
      compressor_->append_compressed(frames_, wire_);
    }
  }

  WindowOutcome send_window(const std::vector<Event>& events, std::size_t first, std::size_t count,
                            OutputContext& context) {
    std::string error;
    StreamConnection* connection = pool_->connection(context, error);
    if (connection == nullptr) {
      return WindowOutcome{0, error};
    }
    const std::string host = pool_->current().text();

    encode_window(events, first, count);
    if (const IoResult written = connection->write_all(wire_, config_.timeout); !written.ok()) {
      return fail(context, 0, fmt::format("sending a window of {} events to {} failed: {}", count, host, written.error));
    }

    // The wait for each ACK restarts with every ACK, so a receiver that
    // sends keep-alives or partial ACKs may take longer than timeout_ms
    // for the whole window.
    std::size_t acknowledged = 0;
    char frame[lumberjack::kAckFrameBytes];
    while (true) {
      const IoResult read = connection->read_exact(frame, sizeof(frame), config_.timeout);
      if (!read.ok()) {
        const std::string what = read.status == IoStatus::Timeout
                                     ? fmt::format("no ACK within timeout_ms ({} ms)", config_.timeout.count())
                                     : read.error;
        return fail(context, acknowledged,
                    fmt::format("waiting for the ACK of {} events from {} failed after {} were confirmed: {}", count,
                                host, acknowledged, what));
      }
      const std::optional<std::uint32_t> sequence = lumberjack::parse_ack(frame);
      if (!sequence) {
        return fail(context, acknowledged,
                    fmt::format("protocol error from {}: expected an ACK frame (32 41 ...), received {}", host,
                                hex_bytes(frame, sizeof(frame))));
      }
      if (*sequence > count) {
        return fail(context, acknowledged,
                    fmt::format("protocol error from {}: ACK for sequence {} in a window of {} events", host, *sequence,
                                count));
      }
      acknowledged = std::max<std::size_t>(acknowledged, *sequence);
      if (acknowledged == count) {
        return WindowOutcome{count, {}};
      }
    }
  }

  WindowOutcome fail(OutputContext& context, std::size_t acknowledged, std::string reason) {
    pool_->fail(context, reason);
    return WindowOutcome{acknowledged, std::move(reason)};
  }

  const LogstashOutputConfig& config_;
  std::unique_ptr<HostPool> pool_;
  std::unique_ptr<lumberjack::FrameCompressor> compressor_;
  std::string frames_;  // JSON frames before compression
  std::string wire_;    // the window as sent
};

}  // namespace

std::unique_ptr<Sender> make_beats_sender(const LogstashOutputConfig& config) {
  return std::make_unique<BeatsSender>(config);
}

}  // namespace slipway::outputs::logstash
