// The tcp protocol: one JSON object per line, as Logstash's tcp input reads
// with the json_lines codec. The protocol has no acknowledgement, so a
// batch counts as delivered once the receiver's TCP has acknowledged every
// byte (the socket's send queue is empty). A batch that fails before then
// is sent again whole on a new connection: the receiver may get some lines
// twice, but none is lost. Each connection starts with the first byte of a
// line, because a batch is only ever sent again from its start.
// NOTE: a receiver that stops after its TCP acknowledged bytes but before
// it read them loses those lines — json_lines gives the sender no way to
// know.
#include <thread>

#include <fmt/format.h>

#include "outputs/logstash/host_pool.hpp"
#include "outputs/logstash/logstash_output.hpp"

namespace slipway::outputs::logstash {

namespace {

// How often the send queue is checked while waiting for the receiver's TCP.
constexpr auto kSendQueuePollInterval = std::chrono::milliseconds(1);

class JsonLinesSender final : public Sender {
 public:
  explicit JsonLinesSender(const LogstashOutputConfig& config) : config_(config) {}

  void start(OutputContext& context) override {
    pool_ = std::make_unique<HostPool>(config_.endpoints, config_.tls, config_.connect_timeout);
    if (config_.tls.enabled && !config_.tls.verify) {
      context.log().warn("TLS certificate verification is off, so any server can pose as Logstash.");
    }
    context.log().info("Sending events as JSON lines over TCP. hosts={} tls={}", config_.endpoints.size(),
                       config_.tls.enabled ? "on" : "off");
  }

  DeliveryResult deliver(const BatchPtr& batch, OutputContext& context) override {
    std::string error;
    StreamConnection* connection = pool_->connection(context, error);
    if (connection == nullptr) {
      return DeliveryResult::retry(error);
    }
    const std::string host = pool_->current().text();

    lines_.clear();
    for (const Event& event : batch->events) {
      lines_ += event.json;
      lines_ += '\n';
    }
    if (const IoResult written = connection->write_all(lines_, config_.timeout); !written.ok()) {
      return fail(context, fmt::format("sending {} lines to {} failed: {}", batch->events.size(), host, written.error));
    }
    if (const std::string unconfirmed = wait_until_acknowledged(*connection); !unconfirmed.empty()) {
      return fail(context, fmt::format("{} lines sent to {} were not confirmed: {}", batch->events.size(), host,
                                       unconfirmed));
    }
    return DeliveryResult::delivered();
  }

  void stop(OutputContext& /*context*/) override {
    if (pool_) {
      pool_->close();
    }
  }

 private:
  // Waits until the receiver's TCP has acknowledged every byte written;
  // returns why not, or an empty string once it has.
  std::string wait_until_acknowledged(StreamConnection& connection) const {
    const auto deadline = std::chrono::steady_clock::now() + config_.timeout;
    while (true) {
      const std::optional<std::size_t> queued = connection.unacknowledged_bytes();
      if (!queued || *queued == 0) {
        return {};
      }
      if (connection.peer_closed()) {
        return fmt::format("the receiver closed the connection with {} bytes unacknowledged", *queued);
      }
      if (std::chrono::steady_clock::now() >= deadline) {
        return fmt::format("{} bytes still unacknowledged after timeout_ms ({} ms)", *queued,
                           config_.timeout.count());
      }
      std::this_thread::sleep_for(kSendQueuePollInterval);
    }
  }

  DeliveryResult fail(OutputContext& context, std::string reason) {
    pool_->fail(context, reason);
    return DeliveryResult::retry(std::move(reason));
  }

  const LogstashOutputConfig& config_;
  std::unique_ptr<HostPool> pool_;
  std::string lines_;
};

}  // namespace

std::unique_ptr<Sender> make_json_lines_sender(const LogstashOutputConfig& config) {
  return std::make_unique<JsonLinesSender>(config);
}

}  // namespace slipway::outputs::logstash
