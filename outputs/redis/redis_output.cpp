#include "outputs/redis/redis_output.hpp"

#include <chrono>

#include <fmt/format.h>

#include "engine/json.hpp"
#include "engine/registry.hpp"

namespace slipway::outputs {

namespace {

RedisOutputMode parse_mode(const std::string& text) {
  if (text == "list") {
    return RedisOutputMode::List;
  }
  return text == "pubsub" ? RedisOutputMode::Pubsub : RedisOutputMode::Stream;
}

config::Schema build_schema() {
  config::Schema schema;
  schema.fields.push_back(
      config::Field{.name = "mode",
                    .type = config::FieldType::Enum,
                    .doc = "stream: XADD to a stream; list: LPUSH onto a list; pubsub: PUBLISH on a channel",
                    .required = true,
                    .choices = {"stream", "list", "pubsub"}});
  for (config::Field& field : redis::ConnectionSettings::fields()) {
    schema.fields.push_back(std::move(field));
  }
  schema.fields.push_back(config::Field{
      .name = "key",
      .type = config::FieldType::String,
      .doc = "Stream, list or channel to write to; a template such as slips:{{ Category[0] }} picks it per event",
      .required = true});
  schema.fields.push_back(
      config::Field{.name = "max_len",
                    .type = config::FieldType::Integer,
                    .doc = "stream: trim the stream to about this many entries (XADD MAXLEN ~); 0 keeps every entry",
                    .default_text = "0",
                    .min = 0});
  schema.fields.push_back(
      config::Field{.name = "payload_field",
                    .type = config::FieldType::String,
                    .doc = "stream: entry field that holds the event as JSON, as the redis input reads it",
                    .default_text = "event"});
  return schema;
}

std::int64_t now_micros() {
  return std::chrono::duration_cast<std::chrono::microseconds>(std::chrono::system_clock::now().time_since_epoch())
      .count();
}

// The key of `event`, or nullopt with `reason` set when the template
// reads a field the event lacks.
std::optional<std::string> render_key(const filters::FieldTemplate& key, const Event& event,
                                      filters::MatchCounters& counters, std::string& reason) {
  const json::ParseResult parsed = json::parse(event.json);
  if (!parsed.value) {
    reason = fmt::format("the event is not valid JSON: {}", parsed.error);
    return std::nullopt;
  }
  const std::optional<json::Value> value = key.render(*parsed.value, now_micros(), counters);
  if (!value) {
    reason = "the key template reads a field this event does not have";
    return std::nullopt;
  }
  if (value->is_string()) {
    return value->as_string();
  }
  return json::to_string(*value);
}

}  // namespace

const config::Schema RedisOutputConfig::kSchema = build_schema();

RedisOutputConfig RedisOutputConfig::parse(const config::Section& settings, config::Errors& errors) {
  RedisOutputConfig config;
  config.mode = parse_mode(settings.string("mode"));
  config.connection = redis::ConnectionSettings::parse(settings, errors);
  config.key_text = settings.string("key");
  std::string problem;
  config.key = filters::FieldTemplate::parse(config.key_text, problem);
  if (!config.key) {
    errors.add(settings.location("key"), fmt::format("{}: key \"key\": invalid template \"{}\": {}", settings.context(),
                                                     config.key_text, problem));
  } else if (config.key_text.empty()) {
    errors.add(settings.location("key"),
               fmt::format("{}: key \"key\" is empty; name the stream, list or channel", settings.context()));
  }
  config.max_len = static_cast<std::size_t>(settings.integer("max_len"));
  config.payload_field = settings.string("payload_field");
  for (const char* key : {"max_len", "payload_field"}) {
    if (config.mode != RedisOutputMode::Stream && settings.has(key)) {
      errors.add(settings.location(key), fmt::format("{}: key \"{}\" applies to mode stream only; remove it or set "
                                                     "mode: stream",
                                                     settings.context(), key));
    }
  }
  return config;
}

std::unique_ptr<Output> RedisOutput::create(const config::Section& settings, config::Errors& errors) {
  return std::make_unique<RedisOutput>(RedisOutputConfig::parse(settings, errors));
}

void RedisOutput::start(OutputContext& context) {
  const std::string password = config_.connection.password_file.empty()
                                   ? std::string()
                                   : redis::read_password_file(config_.connection.password_file);
  connection_ = std::make_unique<redis::Connection>(config_.connection, password);
  max_len_text_ = std::to_string(config_.max_len);
  if (!connection_->connect()) {
    context.log().warn("Redis is not reachable yet; batches wait and are retried. error=\"{}\"", connection_->error());
  }
  context.log().info("Writing to Redis. server={} key={}", config_.connection.endpoint.describe(), config_.key_text);
}

bool RedisOutput::append_command(const std::string& key, const std::string& event_json) {
  switch (config_.mode) {
    case RedisOutputMode::Stream:
      if (config_.max_len > 0) {
        return connection_->append({"XADD", key, "MAXLEN", "~", max_len_text_, "*", config_.payload_field, event_json});
      }
      return connection_->append({"XADD", key, "*", config_.payload_field, event_json});
    case RedisOutputMode::List:
      return connection_->append({"LPUSH", key, event_json});
    case RedisOutputMode::Pubsub:
      // NOTE: a channel without subscribers drops the message, and PUBLISH
      // still succeeds, so such an event counts as delivered.
      return connection_->append({"PUBLISH", key, event_json});
  }
  return false;
}

DeliveryResult RedisOutput::deliver(const BatchPtr& batch, OutputContext& context) {
  if (!connection_->connected() && !connection_->connect()) {
    context.health().set_degraded(fmt::format("cannot connect to Redis: {}", connection_->error()));
    return DeliveryResult::retry(connection_->error());
  }

  // Events whose key cannot be rendered are not sent, and fail alone.
  DeliveryResult result = DeliveryResult::delivered();
  std::vector<std::size_t> sent;  // batch positions, in the order of the pipeline
  sent.reserve(batch->events.size());
  filters::MatchCounters counters;
  const bool constant_key = config_.key->is_constant();
  for (std::size_t event_idx = 0; event_idx < batch->events.size(); ++event_idx) {
    const Event& event = batch->events[event_idx];
    std::string reason;
    const std::optional<std::string> key =
        constant_key ? std::optional<std::string>(config_.key_text) : render_key(*config_.key, event, counters, reason);
    if (!key) {
      result.failures.push_back(EventFailure{event_idx, false, reason});
      continue;
    }
    if (!append_command(*key, event.json)) {
      return DeliveryResult::retry(connection_->error());
    }
    sent.push_back(event_idx);
  }

  for (std::size_t position : sent) {
    const redis::Reply reply = connection_->read_reply();
    if (!reply) {
      // Part of the pipeline may have arrived; the retry sends it all again.
      context.health().set_degraded(fmt::format("connection to Redis lost: {}", connection_->error()));
      return DeliveryResult::retry(connection_->error());
    }
    if (reply.is_error()) {
      // An error reply (wrong key type, out of memory) concerns one command.
      const bool retryable = reply.text().starts_with("OOM") || reply.text().starts_with("LOADING") ||
                             reply.text().starts_with("BUSY") || reply.text().starts_with("TRYAGAIN");
      result.failures.push_back(EventFailure{position, retryable, std::string(reply.text())});
    }
  }
  context.health().set_healthy();
  return result;
}

void RedisOutput::stop(OutputContext& /*context*/) {
  if (connection_) {
    connection_->close();
  }
}

SLIPWAY_REGISTER_OUTPUT("redis", "Writes events to a Redis stream (XADD), list (LPUSH) or pub/sub channel (PUBLISH)",
                        RedisOutputConfig::kSchema, &RedisOutput::create);

}  // namespace slipway::outputs
