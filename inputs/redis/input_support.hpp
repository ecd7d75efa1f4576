// Pieces the modes of the `redis` input share: connecting with backoff,
// turning payloads into events, and acknowledging delivered batches on a
// connection of their own.
#pragma once

#include <chrono>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

#include "engine/component.hpp"
#include "engine/json_line.hpp"
#include "inputs/redis/redis_connection.hpp"

namespace slipway::inputs::redis_modes {

// Connects `connection`, waiting with `backoff` between attempts and
// marking the input degraded meanwhile. Returns false when a stop was
// requested before a connection succeeded.
bool connect_with_backoff(redis::Connection& connection, redis::Backoff& backoff, InputContext& context);

// Decodes one payload into `event.json`. Returns false with `reason` set
// when it is not exactly one JSON object.
bool decode_payload(json::LineDecoder& decoder, std::string_view payload, Event& event, std::string& reason);

// Adds the member `name` with the string `value` to a JSON object text.
void add_string_member(std::string& object_json, std::string_view name, std::string_view value);

// Sends acknowledgements for delivered batches. Output threads call
// acknowledge() when the last output released a batch. The ids wait here
// until a command succeeds, so a connection failure delays an
// acknowledgement instead of losing it.
class Acknowledger {
 public:
  // Sends the commands that acknowledge `ids`; returns false when the
  // connection failed, and then the ids are sent again later.
  using SendFunction = std::function<bool(redis::Connection&, const std::vector<std::string>& ids)>;

  Acknowledger(redis::ConnectionSettings settings, std::string password, SendFunction send, InputContext& context);

  // Queues `ids` and tries to send everything queued.
  void acknowledge(const std::vector<std::string>& ids);
  // Tries again to send what failed before; the input thread calls it.
  void retry();
  // Number of ids waiting to be acknowledged.
  std::size_t waiting() const;

 private:
  void send_locked();

  mutable std::mutex mutex_;
  redis::Connection connection_;
  SendFunction send_;
  InputContext& context_;
  std::vector<std::string> waiting_;
  std::chrono::steady_clock::time_point next_attempt_{};
  redis::Backoff backoff_;
};

// Registers a batch whose ids `acknowledger` acknowledges once every
// output delivered or dead-lettered it. A batch marked undelivered is
// never acknowledged, so Redis keeps it for a later read.
AckRef track_batch(const std::shared_ptr<Acknowledger>& acknowledger, std::vector<std::string> ids);

}  // namespace slipway::inputs::redis_modes
