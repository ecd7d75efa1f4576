// The `redis` input: reads events from a Redis server in one of three modes.
//   stream  XREADGROUP in a consumer group, so several processes share one
//           stream; an entry is acknowledged (XACK) only once every output
//           delivered or dead-lettered it, and entries a dead consumer left
//           pending are claimed after `claim_idle_ms`. At least once.
//   list    a reliable queue: an item moves to a processing list and is
//           removed from it only once delivered; items left there by an
//           earlier run are read again at start. At least once.
//   pubsub  SUBSCRIBE and PSUBSCRIBE, e.g. to the channels Slips publishes
//           evidence and alerts on. Pub/sub keeps nothing, so messages
//           published while this input is disconnected or stopped are lost.
// A payload that is not a JSON object is dead-lettered.
#pragma once

#include <chrono>
#include <cstddef>
#include <memory>
#include <string>
#include <vector>

#include "config/errors.hpp"
#include "config/schema.hpp"
#include "engine/component.hpp"
#include "inputs/redis/redis_connection.hpp"

namespace slipway::inputs {

enum class RedisInputMode { Stream, List, Pubsub };

struct RedisInputConfig {
  RedisInputMode mode = RedisInputMode::Stream;
  redis::ConnectionSettings connection;
  std::size_t batch_max_events = 512;
  std::chrono::milliseconds block{1000};

  // mode: stream
  std::string stream;
  std::string group = "slipway";
  std::string consumer;  // host name and process id when not configured
  std::string start_id = "0";
  std::chrono::milliseconds claim_idle{60'000};
  std::string payload_field = "event";
  std::string entry_id_field;  // empty: the entry ID is not added

  // mode: list
  std::string key;
  std::string processing_list;  // KEY:processing when not configured

  // mode: pubsub
  std::vector<std::string> channels;
  std::vector<std::string> patterns;
  std::string channel_field;  // empty: the channel is not added

  static const config::Schema kSchema;
  // Reads settings the schema has checked; adds errors for keys that do
  // not fit the mode and for values the schema cannot check.
  static RedisInputConfig parse(const config::Section& settings, config::Errors& errors);
};

class RedisInput final : public Input {
 public:
  explicit RedisInput(RedisInputConfig config) : config_(std::move(config)) {}

  static std::unique_ptr<Input> create(const config::Section& settings, config::Errors& errors);

  // Reads until a stop is requested, reconnecting with backoff when the
  // server is unreachable. Throws when the password file cannot be read.
  void run(InputContext& context) override;

 private:
  RedisInputConfig config_;
};

namespace redis_modes {
// One function per mode, each in its own file.
void run_stream(const RedisInputConfig& config, const std::string& password, InputContext& context);
void run_list(const RedisInputConfig& config, const std::string& password, InputContext& context);
void run_pubsub(const RedisInputConfig& config, const std::string& password, InputContext& context);
}  // namespace redis_modes

}  // namespace slipway::inputs
