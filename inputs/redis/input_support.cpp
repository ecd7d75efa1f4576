#include "inputs/redis/input_support.hpp"

#include <fmt/format.h>

#include "engine/json.hpp"

namespace slipway::inputs::redis_modes {

bool connect_with_backoff(redis::Connection& connection, redis::Backoff& backoff, InputContext& context) {
  const std::string server = connection.settings().endpoint.describe();
  while (!context.stop_requested()) {
    if (connection.connect()) {
      if (backoff.attempts() > 0) {
        context.log().info("Connected to Redis again. server={} attempts={}", server, backoff.attempts() + 1);
      }
      backoff.reset();
      context.health().set_healthy();
      return true;
    }

    const std::chrono::milliseconds delay = backoff.next();
    context.health().set_degraded(fmt::format("cannot connect to Redis at {}: {}", server, connection.error()));
    // The first failure and then every tenth attempt are logged, so an
    // unreachable server does not flood the log.
    if (backoff.attempts() == 1 || backoff.attempts() % 10 == 0) {
      context.metrics().errors.fetch_add(1, std::memory_order_relaxed);
      context.log().warn("Cannot connect to Redis; retrying. server={} attempt={} retry_in_ms={} error=\"{}\"", server,
                         backoff.attempts(), delay.count(), connection.error());
    }
    if (context.wait_for_stop(delay)) {
      return false;
    }
  }
  return false;
}

bool decode_payload(json::LineDecoder& decoder, std::string_view payload, Event& event, std::string& reason) {
  json::DecodedLine decoded = decoder.decode(payload);
  if (decoded.kind == json::LineKind::Blank) {
    reason = "the payload is empty, expected a JSON object";
    return false;
  }
  if (decoded.kind == json::LineKind::Rejected) {
    reason = std::move(decoded.reason);
    return false;
  }
  event.json = decoded.rewritten ? std::move(decoded.json) : std::string(payload);
  return true;
}

void add_string_member(std::string& object_json, std::string_view name, std::string_view value) {
  const std::size_t closing = object_json.rfind('}');
  if (closing == std::string::npos) {
    return;
  }
  // An object with no members before the brace needs no separating comma.
  std::size_t before = closing;
  while (before > 0 && (object_json[before - 1] == ' ' || object_json[before - 1] == '\t' ||
                        object_json[before - 1] == '\n' || object_json[before - 1] == '\r')) {
    --before;
  }
  const bool empty_object = before > 0 && object_json[before - 1] == '{';

  std::string member = empty_object ? "" : ",";
  json::append_quoted(name, member);
  member += ':';
  json::append_quoted(value, member);
  object_json.insert(closing, member);
}

Acknowledger::Acknowledger(redis::ConnectionSettings settings, std::string password, SendFunction send,
                           InputContext& context)
    : connection_(settings, std::move(password)),
      send_(std::move(send)),
      context_(context),
      backoff_(settings.reconnect_initial, settings.reconnect_max) {}

void Acknowledger::acknowledge(const std::vector<std::string>& ids) {
  std::lock_guard lock(mutex_);
  waiting_.insert(waiting_.end(), ids.begin(), ids.end());
  send_locked();
}

void Acknowledger::retry() {
  std::lock_guard lock(mutex_);
  if (!waiting_.empty()) {
    send_locked();
  }
}

std::size_t Acknowledger::waiting() const {
  std::lock_guard lock(mutex_);
  return waiting_.size();
}

// Runs on whichever thread released the batch, so a server that is down
// costs one failed connection attempt per backoff interval, not per batch.
void Acknowledger::send_locked() {
  if (waiting_.empty() || std::chrono::steady_clock::now() < next_attempt_) {
    return;
  }
  if (!connection_.connected() && !connection_.connect()) {
    next_attempt_ = std::chrono::steady_clock::now() + backoff_.next();
    context_.metrics().errors.fetch_add(1, std::memory_order_relaxed);
    context_.log().warn(
        "Cannot acknowledge delivered events; Redis keeps them pending until it works. waiting={} "
        "error=\"{}\"",
        waiting_.size(), connection_.error());
    return;
  }
  if (!send_(connection_, waiting_)) {
    next_attempt_ = std::chrono::steady_clock::now() + backoff_.next();
    context_.metrics().errors.fetch_add(1, std::memory_order_relaxed);
    context_.log().warn("Acknowledging delivered events failed; retrying. waiting={} error=\"{}\"", waiting_.size(),
                        connection_.error());
    return;
  }
  backoff_.reset();
  waiting_.clear();
}

AckRef track_batch(const std::shared_ptr<Acknowledger>& acknowledger, std::vector<std::string> ids) {
  // One tracker per batch: Redis acknowledges entries one by one, so a
  // batch need not wait for earlier ones as a file offset would.
  auto tracker = std::make_shared<AckTracker>(
      [acknowledger, ids = std::move(ids)](const std::vector<CheckpointEntry>&) { acknowledger->acknowledge(ids); });
  return tracker->track(CheckpointEntry{});
}

}  // namespace slipway::inputs::redis_modes
