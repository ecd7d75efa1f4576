// Pub/sub mode of the `redis` input: SUBSCRIBE to channels and PSUBSCRIBE
// to patterns, one event per message. Redis keeps no published message, so
// nothing is acknowledged: a message published while this input is not
// connected is lost, and one already emitted is safe only as far as the
// outputs keep it. Slips publishes JSON objects with a "version" member;
// every version is accepted, and a change of version is logged.
#include <map>

#include <fmt/format.h>
#include <fmt/ranges.h>
#include <hiredis/hiredis.h>

#include "engine/json.hpp"
#include "inputs/redis/input_support.hpp"
#include "inputs/redis/redis_input.hpp"

namespace slipway::inputs::redis_modes {

namespace {

// How long one wait for a message lasts, so a stop is noticed quickly.
constexpr std::chrono::milliseconds kPollInterval{200};

class PubsubReader {
 public:
  PubsubReader(const RedisInputConfig& config, const std::string& password, InputContext& context)
      : config_(config),
        context_(context),
        connection_(config.connection, password),
        backoff_(config.connection.reconnect_initial, config.connection.reconnect_max) {}

  void run();

 private:
  bool subscribe();
  bool read_messages();
  // Adds the message in `push` to `batch`; other pushes are ignored.
  void add_message(const redisReply* push, Batch& batch);
  void note_version(const std::string& event_json);
  std::shared_ptr<const std::string> origin_of(std::string_view channel);

  const RedisInputConfig& config_;
  InputContext& context_;
  redis::Connection connection_;
  redis::Backoff backoff_;
  json::LineDecoder decoder_;
  std::map<std::string, std::shared_ptr<const std::string>, std::less<>> origins_;
  std::string slips_version_;
  bool was_connected_ = false;
};

void PubsubReader::run() {
  context_.log().info("Subscribing to Redis. server={} channels=[{}] patterns=[{}]",
                      config_.connection.endpoint.describe(), fmt::join(config_.channels, ", "),
                      fmt::join(config_.patterns, ", "));
  while (!context_.stop_requested()) {
    if (!connection_.connected()) {
      if (!connect_with_backoff(connection_, backoff_, context_) || !subscribe()) {
        continue;
      }
    }
    read_messages();
  }
}

bool PubsubReader::subscribe() {
  std::size_t confirmations = 0;
  if (!config_.channels.empty()) {
    std::vector<std::string_view> arguments = {"SUBSCRIBE"};
    arguments.insert(arguments.end(), config_.channels.begin(), config_.channels.end());
    connection_.append(arguments);
    confirmations += config_.channels.size();
  }
  if (!config_.patterns.empty()) {
    std::vector<std::string_view> arguments = {"PSUBSCRIBE"};
    arguments.insert(arguments.end(), config_.patterns.begin(), config_.patterns.end());
    connection_.append(arguments);
    confirmations += config_.patterns.size();
  }
  for (std::size_t confirmation_idx = 0; confirmation_idx < confirmations; ++confirmation_idx) {
    const redis::Reply reply = connection_.read_reply();
    if (!reply || reply.is_error()) {
      context_.metrics().errors.fetch_add(1, std::memory_order_relaxed);
      context_.log().warn("Subscribing failed; reconnecting. error=\"{}\"",
                          reply ? std::string(reply.text()) : connection_.error());
      connection_.close();
      context_.wait_for_stop(backoff_.next());
      return false;
    }
  }
  if (was_connected_) {
    context_.log().warn(
        "Subscribed again after a lost connection; messages published in between are lost, because "
        "Redis pub/sub keeps none.");
  }
  was_connected_ = true;
  return true;
}

// Waits for one message, then takes whatever else has already arrived, up
// to a full batch, so a burst travels as one batch.
// NOTE: while full queues block emit(), Redis keeps this client's messages
// only up to its pub/sub output buffer limit (by default 32 MB, or 8 MB for
// 60 s), then disconnects it, and those messages are lost.
bool PubsubReader::read_messages() {
  bool failed = false;
  redis::Reply push = connection_.wait_for_push(kPollInterval, failed);
  Batch batch;
  while (push && batch.events.size() < config_.batch_max_events) {
    add_message(push.get(), batch);
    push = connection_.wait_for_push(std::chrono::milliseconds(0), failed);
  }
  if (push) {
    add_message(push.get(), batch);
  }
  context_.emit(std::move(batch));

  if (failed) {
    context_.metrics().errors.fetch_add(1, std::memory_order_relaxed);
    context_.health().set_degraded(fmt::format("connection to Redis lost: {}", connection_.error()));
    context_.log().warn(
        "Connection to Redis lost; reconnecting. Messages published until then are lost. "
        "error=\"{}\"",
        connection_.error());
    return false;
  }
  return true;
}

void PubsubReader::add_message(const redisReply* push, Batch& batch) {
  if (push->type != REDIS_REPLY_ARRAY || push->elements < 3) {
    return;
  }
  const std::string_view kind = redis::element_text(push->element[0]);
  std::string_view channel;
  std::string_view payload;
  if (kind == "message") {
    channel = redis::element_text(push->element[1]);
    payload = redis::element_text(push->element[2]);
  } else if (kind == "pmessage" && push->elements >= 4) {
    channel = redis::element_text(push->element[2]);
    payload = redis::element_text(push->element[3]);
  } else {
    return;
  }

  Event event;
  event.origin.source = origin_of(channel);
  std::string reason;
  if (!decode_payload(decoder_, payload, event, reason)) {
    context_.dead_letter(payload, event.origin, reason);
    return;
  }
  note_version(event.json);
  if (!config_.channel_field.empty()) {
    add_string_member(event.json, config_.channel_field, channel);
  }
  batch.events.push_back(std::move(event));
}

// Slips modules drop messages of another Slips version; this input keeps
// them and only logs which version publishes.
void PubsubReader::note_version(const std::string& event_json) {
  const json::ParseResult parsed = json::parse(event_json);
  const json::Value* version = parsed.value ? parsed.value->find("version") : nullptr;
  if (version == nullptr || !version->is_string() || version->as_string() == slips_version_) {
    return;
  }
  context_.log().info("Messages come from Slips version {}. previous_version={}", version->as_string(),
                      slips_version_.empty() ? "none" : slips_version_);
  slips_version_ = version->as_string();
}

std::shared_ptr<const std::string> PubsubReader::origin_of(std::string_view channel) {
  auto found = origins_.find(channel);
  if (found == origins_.end()) {
    found = origins_
                .emplace(std::string(channel), std::make_shared<const std::string>(fmt::format(
                                                   "{} channel {}", config_.connection.endpoint.describe(), channel)))
                .first;
  }
  return found->second;
}

}  // namespace

void run_pubsub(const RedisInputConfig& config, const std::string& password, InputContext& context) {
  PubsubReader reader(config, password, context);
  reader.run();
}

}  // namespace slipway::inputs::redis_modes
