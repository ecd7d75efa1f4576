// Stream mode of the `redis` input: a consumer in a consumer group. New
// entries come from XREADGROUP. Entries this consumer name left pending in
// an earlier run are read first, and entries idle longer than `claim_idle`
// at any consumer are taken over with XAUTOCLAIM (Redis 6.2 and later) or
// XPENDING and XCLAIM.
// XACK follows end-to-end delivery, so an entry is delivered at least once.
#include <algorithm>
#include <unordered_set>

#include <fmt/format.h>
#include <hiredis/hiredis.h>

#include "inputs/redis/input_support.hpp"
#include "inputs/redis/redis_input.hpp"

namespace slipway::inputs::redis_modes {

namespace {

// Shortest time between two passes that claim idle entries, in milliseconds.
constexpr std::int64_t kMinClaimIntervalMs = 100;

// Entry IDs per XACK command, so a backlog of acknowledgements after an
// outage does not become one huge command.
constexpr std::size_t kIdsPerXack = 1000;

bool send_xack(const std::string& stream, const std::string& group, redis::Connection& connection,
               const std::vector<std::string>& ids) {
  std::size_t commands = 0;
  for (std::size_t first = 0; first < ids.size(); first += kIdsPerXack) {
    std::vector<std::string_view> arguments = {"XACK", stream, group};
    const std::size_t last = std::min(ids.size(), first + kIdsPerXack);
    arguments.insert(arguments.end(), ids.begin() + static_cast<std::ptrdiff_t>(first),
                     ids.begin() + static_cast<std::ptrdiff_t>(last));
    if (!connection.append(arguments)) {
      return false;
    }
    ++commands;
  }
  for (std::size_t command_idx = 0; command_idx < commands; ++command_idx) {
    const redis::Reply reply = connection.read_reply();
    if (!reply || reply.is_error()) {
      return false;
    }
  }
  return true;
}

class StreamReader {
 public:
  StreamReader(const RedisInputConfig& config, const std::string& password, InputContext& context);

  void run();

 private:
  struct InFlightBatch {
    std::weak_ptr<AckState> ack;
    std::vector<std::string> ids;
  };

  bool ensure_group();
  bool read_own_pending();
  bool claim_idle_entries();
  bool claim_with_xclaim();
  void report_claimed(std::size_t entries);
  bool read_new_entries();
  // Emits the entries of an XREADGROUP or XAUTOCLAIM reply, skipping those
  // already in flight here when `skip_in_flight`. Returns how many it emitted.
  std::size_t emit_entries(const redisReply* entries, bool skip_in_flight);
  // Builds the event of `entry`. On failure returns false with `reason`
  // set and `payload` pointing at the text that could not be decoded.
  bool entry_event(const redisReply* entry, Event& event, std::string_view& payload, std::string& reason);
  void acknowledge_now(std::vector<std::string> ids);
  std::unordered_set<std::string> live_in_flight_ids();
  void forget_finished_batches();
  bool report_failure(std::string_view operation, const redis::Reply& reply);

  const RedisInputConfig& config_;
  InputContext& context_;
  redis::Connection connection_;
  redis::Backoff backoff_;
  std::shared_ptr<Acknowledger> acknowledger_;
  std::shared_ptr<const std::string> origin_;
  json::LineDecoder decoder_;
  std::vector<InFlightBatch> in_flight_;
  std::size_t in_flight_limit_ = 1024;  // next size at which finished batches are forgotten
  std::chrono::steady_clock::time_point next_claim_{};
  std::chrono::milliseconds claim_interval_;
  bool has_autoclaim_ = true;  // false once the server rejected XAUTOCLAIM as unknown
  bool needs_setup_ = true;    // the group must be checked and own pending entries read
};

StreamReader::StreamReader(const RedisInputConfig& config, const std::string& password, InputContext& context)
    : config_(config),
      context_(context),
      connection_(config.connection, password),
      backoff_(config.connection.reconnect_initial, config.connection.reconnect_max),
      claim_interval_(
          std::max<std::chrono::milliseconds>(config.claim_idle / 2, std::chrono::milliseconds(kMinClaimIntervalMs))) {
  const std::string stream = config.stream;
  const std::string group = config.group;
  acknowledger_ = std::make_shared<Acknowledger>(
      config.connection, password,
      [stream, group](redis::Connection& connection, const std::vector<std::string>& ids) {
        return send_xack(stream, group, connection, ids);
      },
      context);
  origin_ = std::make_shared<const std::string>(
      fmt::format("{} stream {} group {}", config.connection.endpoint.describe(), config.stream, config.group));
}

void StreamReader::run() {
  context_.log().info("Reading Redis stream. server={} stream={} group={} consumer={}",
                      config_.connection.endpoint.describe(), config_.stream, config_.group, config_.consumer);
  while (!context_.stop_requested()) {
    if (!connection_.connected()) {
      if (!connect_with_backoff(connection_, backoff_, context_)) {
        break;
      }
      // A blocking read needs longer than the plain reply timeout.
      connection_.set_timeout(config_.connection.timeout + config_.block);
      needs_setup_ = true;
    }
    if (needs_setup_) {
      if (!ensure_group() || !read_own_pending()) {
        continue;
      }
      needs_setup_ = false;
    }

    acknowledger_->retry();
    if (std::chrono::steady_clock::now() >= next_claim_) {
      if (!claim_idle_entries()) {
        continue;
      }
      next_claim_ = std::chrono::steady_clock::now() + claim_interval_;
    }
    read_new_entries();
  }
  context_.log().info(
      "Stopped reading the Redis stream; delivered entries are acknowledged as outputs finish. "
      "consumer={}",
      config_.consumer);
}

// Logs a failed command. Returns false, so callers can return its result.
bool StreamReader::report_failure(std::string_view operation, const redis::Reply& reply) {
  context_.metrics().errors.fetch_add(1, std::memory_order_relaxed);
  if (!reply) {
    context_.health().set_degraded(fmt::format("connection to Redis lost: {}", connection_.error()));
    context_.log().warn("{} failed; reconnecting. error=\"{}\"", operation, connection_.error());
  } else {
    context_.health().set_degraded(fmt::format("{} failed: {}", operation, reply.text()));
    context_.log().error("{} failed. error=\"{}\"", operation, reply.text());
    // Someone deleted the group (XGROUP DESTROY): it is created again.
    if (reply.text().starts_with("NOGROUP")) {
      needs_setup_ = true;
    }
    // A server error (wrong type, missing command) repeats at once, so the
    // next attempt waits like a reconnection does.
    context_.wait_for_stop(backoff_.next());
  }
  return false;
}

bool StreamReader::ensure_group() {
  const redis::Reply reply =
      connection_.command({"XGROUP", "CREATE", config_.stream, config_.group, config_.start_id, "MKSTREAM"});
  if (reply && reply.is_error() && reply.text().starts_with("BUSYGROUP")) {
    return true;
  }
  if (!reply || reply.is_error()) {
    return report_failure(fmt::format("Creating consumer group {} on stream {}", config_.group, config_.stream), reply);
  }
  context_.log().info("Created consumer group. stream={} group={} start_id={}", config_.stream, config_.group,
                      config_.start_id);
  return true;
}

// Entries delivered to this consumer name before a restart and never
// acknowledged are read again from the start of its pending list.
bool StreamReader::read_own_pending() {
  std::string after = "0";
  const std::string count = std::to_string(config_.batch_max_events);
  while (!context_.stop_requested()) {
    const redis::Reply reply = connection_.command(
        {"XREADGROUP", "GROUP", config_.group, config_.consumer, "COUNT", count, "STREAMS", config_.stream, after});
    if (!reply || reply.is_error()) {
      return report_failure("Reading this consumer's pending entries", reply);
    }
    if (!reply.is_array() || reply.get()->elements == 0) {
      return true;
    }
    const redisReply* entries = reply.get()->element[0]->element[1];
    if (entries->elements == 0) {
      return true;
    }
    after = std::string(redis::element_text(entries->element[entries->elements - 1]->element[0]));
    emit_entries(entries, true);
  }
  return true;
}

bool StreamReader::claim_idle_entries() {
  if (!has_autoclaim_) {
    return claim_with_xclaim();
  }
  const std::string idle = std::to_string(config_.claim_idle.count());
  const std::string count = std::to_string(config_.batch_max_events);
  std::string cursor = "0-0";
  do {
    const redis::Reply reply = connection_.command(
        {"XAUTOCLAIM", config_.stream, config_.group, config_.consumer, idle, cursor, "COUNT", count});
    if (reply && reply.is_error() && reply.text().find("unknown command") != std::string_view::npos) {
      context_.log().info(
          "This Redis has no XAUTOCLAIM (added in 6.2); claiming with XPENDING and XCLAIM. "
          "stream={}",
          config_.stream);
      has_autoclaim_ = false;
      return claim_with_xclaim();
    }
    if (!reply || reply.is_error() || !reply.is_array() || reply.get()->elements < 2) {
      return report_failure("Claiming idle pending entries", reply);
    }
    cursor = std::string(redis::element_text(reply.get()->element[0]));
    // Entries still in flight here come back too once idle; only the
    // others are delivered again.
    report_claimed(emit_entries(reply.get()->element[1], true));
  } while (cursor != "0-0" && !context_.stop_requested());
  return true;
}

// Claims through the commands Redis 5.0 has.
// NOTE: a pass claims among the oldest batch_max_events pending entries,
// so idle entries behind that many busy ones wait for a later pass.
bool StreamReader::claim_with_xclaim() {
  const std::string idle = std::to_string(config_.claim_idle.count());
  const redis::Reply pending = connection_.command(
      {"XPENDING", config_.stream, config_.group, "-", "+", std::to_string(config_.batch_max_events)});
  if (!pending || pending.is_error() || !pending.is_array()) {
    return report_failure("Listing pending entries", pending);
  }
  // Each element is [entry ID, consumer, milliseconds idle, deliveries].
  std::vector<std::string> idle_ids;
  for (std::size_t entry_idx = 0; entry_idx < pending.get()->elements; ++entry_idx) {
    const redisReply* entry = pending.get()->element[entry_idx];
    if (entry->type == REDIS_REPLY_ARRAY && entry->elements >= 3 &&
        entry->element[2]->integer >= config_.claim_idle.count()) {
      idle_ids.emplace_back(redis::element_text(entry->element[0]));
    }
  }
  if (idle_ids.empty()) {
    return true;
  }

  std::vector<std::string_view> arguments = {"XCLAIM", config_.stream, config_.group, config_.consumer, idle};
  arguments.insert(arguments.end(), idle_ids.begin(), idle_ids.end());
  const redis::Reply claimed = connection_.command(arguments);
  if (!claimed || claimed.is_error() || !claimed.is_array()) {
    return report_failure("Claiming idle pending entries", claimed);
  }
  report_claimed(emit_entries(claimed.get(), true));
  return true;
}

void StreamReader::report_claimed(std::size_t entries) {
  if (entries > 0) {
    context_.log().info("Claimed idle pending entries. stream={} entries={}", config_.stream, entries);
  }
}

bool StreamReader::read_new_entries() {
  const std::string count = std::to_string(config_.batch_max_events);
  const std::string block = std::to_string(config_.block.count());
  const redis::Reply reply = connection_.command({"XREADGROUP", "GROUP", config_.group, config_.consumer, "COUNT",
                                                  count, "BLOCK", block, "STREAMS", config_.stream, ">"});
  if (!reply || reply.is_error()) {
    return report_failure("Reading new entries", reply);
  }
  context_.health().set_healthy();
  if (reply.is_array() && reply.get()->elements > 0) {
    emit_entries(reply.get()->element[0]->element[1], false);
  }
  return true;
}

std::size_t StreamReader::emit_entries(const redisReply* entries, bool skip_in_flight) {
  std::unordered_set<std::string> in_flight;
  if (skip_in_flight) {
    in_flight = live_in_flight_ids();
  }
  Batch batch;
  std::vector<std::string> ids;
  std::vector<std::string> finished_ids;  // nothing to deliver: acknowledged at once
  batch.events.reserve(entries->elements);
  for (std::size_t entry_idx = 0; entry_idx < entries->elements; ++entry_idx) {
    const redisReply* entry = entries->element[entry_idx];
    // Depending on the Redis version, XCLAIM returns nil for an entry
    // deleted from the stream instead of leaving it out.
    if (entry->type != REDIS_REPLY_ARRAY || entry->elements == 0) {
      continue;
    }
    std::string id(redis::element_text(entry->element[0]));
    if (in_flight.contains(id)) {
      continue;
    }
    // A pending entry trimmed from the stream comes back without fields;
    // there is nothing left to deliver, so it is only acknowledged.
    if (entry->elements < 2 || entry->element[1]->type != REDIS_REPLY_ARRAY) {
      context_.log().warn("A pending entry was deleted from the stream before delivery. stream={} id={}",
                          config_.stream, id);
      finished_ids.push_back(std::move(id));
      continue;
    }
    Event event;
    event.origin.source = origin_;
    std::string reason;
    std::string_view payload;
    if (!entry_event(entry, event, payload, reason)) {
      context_.dead_letter(payload, event.origin, fmt::format("entry {}: {}", id, reason));
      finished_ids.push_back(std::move(id));
      continue;
    }
    if (!config_.entry_id_field.empty()) {
      add_string_member(event.json, config_.entry_id_field, id);
    }
    batch.events.push_back(std::move(event));
    ids.push_back(std::move(id));
  }

  if (!finished_ids.empty()) {
    acknowledge_now(std::move(finished_ids));
  }
  const std::size_t ids_emitted = ids.size();
  if (!batch.events.empty()) {
    AckRef ack = track_batch(acknowledger_, ids);
    in_flight_.push_back(InFlightBatch{ack, std::move(ids)});
    batch.acks.push_back(std::move(ack));
    context_.emit(std::move(batch));
    forget_finished_batches();
  }
  return ids_emitted;
}

// The event is the JSON in the payload field; an entry without that field
// becomes an object of all its fields, each value a string.
bool StreamReader::entry_event(const redisReply* entry, Event& event, std::string_view& payload, std::string& reason) {
  const redisReply* fields = entry->element[1];
  for (std::size_t field_idx = 0; field_idx + 1 < fields->elements; field_idx += 2) {
    if (redis::element_text(fields->element[field_idx]) == config_.payload_field) {
      payload = redis::element_text(fields->element[field_idx + 1]);
      if (!decode_payload(decoder_, payload, event, reason)) {
        reason = fmt::format("field \"{}\": {}", config_.payload_field, reason);
        return false;
      }
      return true;
    }
  }
  event.json = "{}";
  for (std::size_t field_idx = 0; field_idx + 1 < fields->elements; field_idx += 2) {
    add_string_member(event.json, redis::element_text(fields->element[field_idx]),
                      redis::element_text(fields->element[field_idx + 1]));
  }
  return true;
}

void StreamReader::acknowledge_now(std::vector<std::string> ids) { acknowledger_->acknowledge(ids); }

std::unordered_set<std::string> StreamReader::live_in_flight_ids() {
  std::unordered_set<std::string> ids;
  for (const InFlightBatch& batch : in_flight_) {
    if (!batch.ack.expired()) {
      ids.insert(batch.ids.begin(), batch.ids.end());
    }
  }
  return ids;
}

// Keeps the list of batches in flight from growing with every batch: it
// is pruned whenever it doubles, so the work per batch stays constant.
void StreamReader::forget_finished_batches() {
  if (in_flight_.size() < in_flight_limit_) {
    return;
  }
  std::erase_if(in_flight_, [](const InFlightBatch& batch) { return batch.ack.expired(); });
  in_flight_limit_ = std::max<std::size_t>(1024, in_flight_.size() * 2);
}

}  // namespace

void run_stream(const RedisInputConfig& config, const std::string& password, InputContext& context) {
  StreamReader reader(config, password, context);
  reader.run();
}

}  // namespace slipway::inputs::redis_modes
