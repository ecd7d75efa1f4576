// The `redis` output: writes each event as JSON to a Redis stream (XADD,
// optionally trimmed to about `max_len` entries), a list (LPUSH, read back
// oldest first by the `redis` input in list mode) or a pub/sub channel
// (PUBLISH). The key or channel is a template over the event's fields. A
// batch is sent as one pipeline, and a lost connection retries the whole
// batch, so an event may arrive twice. An event that cannot be written
// (missing key field, an error reply such as WRONGTYPE) goes to the
// dead-letter file; OOM, LOADING, BUSY and TRYAGAIN replies are retried.
#pragma once

#include <cstddef>
#include <memory>
#include <optional>
#include <string>

#include "config/errors.hpp"
#include "config/schema.hpp"
#include "engine/component.hpp"
#include "filters/field_template.hpp"
#include "inputs/redis/redis_connection.hpp"

namespace slipway::outputs {

enum class RedisOutputMode { Stream, List, Pubsub };

struct RedisOutputConfig {
  RedisOutputMode mode = RedisOutputMode::Stream;
  redis::ConnectionSettings connection;
  std::string key_text;  // the template as written
  std::optional<filters::FieldTemplate> key;
  std::size_t max_len = 0;  // 0: the stream is not trimmed
  std::string payload_field = "event";

  static const config::Schema kSchema;
  static RedisOutputConfig parse(const config::Section& settings, config::Errors& errors);
};

class RedisOutput final : public Output {
 public:
  explicit RedisOutput(RedisOutputConfig config) : config_(std::move(config)) {}

  static std::unique_ptr<Output> create(const config::Section& settings, config::Errors& errors);

  // Reads the password file; a server that is down is retried by deliver().
  void start(OutputContext& context) override;
  DeliveryResult deliver(const BatchPtr& batch, OutputContext& context) override;
  void stop(OutputContext& context) override;

 private:
  // Appends the command that writes `event` to `key`.
  bool append_command(const std::string& key, const std::string& event_json);

  RedisOutputConfig config_;
  std::unique_ptr<redis::Connection> connection_;
  std::string max_len_text_;
};

}  // namespace slipway::outputs
