// List mode of the `redis` input: a reliable queue. Producers LPUSH onto
// the list; BLMOVE takes the oldest item and atomically pushes it onto the
// processing list, and LREM removes it there once every output delivered
// it. Items found on the processing list at start were taken by an earlier
// run and never delivered, so they are emitted first. At least once.
#include <fmt/format.h>
#include <hiredis/hiredis.h>

#include "inputs/redis/input_support.hpp"
#include "inputs/redis/redis_input.hpp"

namespace slipway::inputs::redis_modes {

namespace {

// Acknowledged items sit near the tail of the processing list, where the
// oldest items are, so LREM searches from the tail (count -1).
bool send_lrem(const std::string& processing_list, redis::Connection& connection,
               const std::vector<std::string>& items) {
  for (const std::string& item : items) {
    if (!connection.append({"LREM", processing_list, "-1", item})) {
      return false;
    }
  }
  for (std::size_t item_idx = 0; item_idx < items.size(); ++item_idx) {
    const redis::Reply reply = connection.read_reply();
    if (!reply || reply.is_error()) {
      return false;
    }
  }
  return true;
}

std::string block_seconds(std::chrono::milliseconds block) {
  return fmt::format("{:.3f}", static_cast<double>(block.count()) / 1000.0);
}

class ListReader {
 public:
  ListReader(const RedisInputConfig& config, const std::string& password, InputContext& context);

  void run();

 private:
  bool recover_leftovers();
  bool read_items();
  void emit_items(std::vector<std::string> items);
  bool report_failure(std::string_view operation, const redis::Reply& reply);

  const RedisInputConfig& config_;
  InputContext& context_;
  redis::Connection connection_;
  redis::Backoff backoff_;
  std::shared_ptr<Acknowledger> acknowledger_;
  std::shared_ptr<const std::string> origin_;
  json::LineDecoder decoder_;
  bool recovered_ = false;
};

ListReader::ListReader(const RedisInputConfig& config, const std::string& password, InputContext& context)
    : config_(config),
      context_(context),
      connection_(config.connection, password),
      backoff_(config.connection.reconnect_initial, config.connection.reconnect_max) {
  const std::string processing_list = config.processing_list;
  acknowledger_ = std::make_shared<Acknowledger>(
      config.connection, password,
      [processing_list](redis::Connection& connection, const std::vector<std::string>& items) {
        return send_lrem(processing_list, connection, items);
      },
      context);
  origin_ =
      std::make_shared<const std::string>(fmt::format("{} list {}", config.connection.endpoint.describe(), config.key));
}

void ListReader::run() {
  context_.log().info("Reading Redis list. server={} key={} processing_list={}", config_.connection.endpoint.describe(),
                      config_.key, config_.processing_list);
  while (!context_.stop_requested()) {
    if (!connection_.connected()) {
      if (!connect_with_backoff(connection_, backoff_, context_)) {
        break;
      }
      connection_.set_timeout(config_.connection.timeout + config_.block);
    }
    // Leftovers are read once per run: after a reconnection the processing
    // list also contains this run's items in flight.
    if (!recovered_) {
      if (!recover_leftovers()) {
        continue;
      }
      recovered_ = true;
    }
    acknowledger_->retry();
    read_items();
  }
}

bool ListReader::report_failure(std::string_view operation, const redis::Reply& reply) {
  context_.metrics().errors.fetch_add(1, std::memory_order_relaxed);
  if (!reply) {
    context_.health().set_degraded(fmt::format("connection to Redis lost: {}", connection_.error()));
    context_.log().warn("{} failed; reconnecting. error=\"{}\"", operation, connection_.error());
  } else {
    context_.health().set_degraded(fmt::format("{} failed: {}", operation, reply.text()));
    context_.log().error("{} failed. error=\"{}\"", operation, reply.text());
    context_.wait_for_stop(backoff_.next());
  }
  return false;
}

bool ListReader::recover_leftovers() {
  const redis::Reply reply = connection_.command({"LRANGE", config_.processing_list, "0", "-1"});
  if (!reply || reply.is_error()) {
    return report_failure(fmt::format("Reading processing list {}", config_.processing_list), reply);
  }
  const redisReply* items = reply.get();
  if (items->elements == 0) {
    return true;
  }
  context_.log().info("Delivering items an earlier run took but did not deliver. processing_list={} items={}",
                      config_.processing_list, items->elements);
  // LPUSH put the newest item at the head, so the oldest is read first
  // from the tail.
  std::vector<std::string> batch;
  for (std::size_t item_idx = items->elements; item_idx > 0; --item_idx) {
    batch.emplace_back(redis::element_text(items->element[item_idx - 1]));
    if (batch.size() == config_.batch_max_events) {
      emit_items(std::move(batch));
      batch.clear();
    }
  }
  emit_items(std::move(batch));
  return true;
}

// One blocking move waits for the first item. The rest of the batch is
// taken with pipelined LMOVE commands, no more than the list contains.
bool ListReader::read_items() {
  const redis::Reply first = connection_.command(
      {"BLMOVE", config_.key, config_.processing_list, "RIGHT", "LEFT", block_seconds(config_.block)});
  if (!first || first.is_error()) {
    return report_failure(fmt::format("Moving an item from list {}", config_.key), first);
  }
  context_.health().set_healthy();
  if (first.is_nil()) {
    return true;
  }
  std::vector<std::string> items;
  items.emplace_back(first.text());

  const redis::Reply length = connection_.command({"LLEN", config_.key});
  if (!length || length.is_error()) {
    emit_items(std::move(items));
    return report_failure(fmt::format("Reading the length of list {}", config_.key), length);
  }
  const std::size_t more =
      std::min<std::size_t>(config_.batch_max_events - 1, static_cast<std::size_t>(std::max(0LL, length.integer())));
  for (std::size_t item_idx = 0; item_idx < more; ++item_idx) {
    connection_.append({"LMOVE", config_.key, config_.processing_list, "RIGHT", "LEFT"});
  }
  for (std::size_t item_idx = 0; item_idx < more; ++item_idx) {
    const redis::Reply reply = connection_.read_reply();
    if (!reply) {
      // Items moved before the failure are on the processing list and are
      // read again at the next start.
      emit_items(std::move(items));
      return report_failure(fmt::format("Moving items from list {}", config_.key), reply);
    }
    if (!reply.is_nil() && !reply.is_error()) {
      items.emplace_back(reply.text());
    }
  }
  emit_items(std::move(items));
  return true;
}

void ListReader::emit_items(std::vector<std::string> items) {
  Batch batch;
  std::vector<std::string> delivered;    // acknowledged once every output has the event
  std::vector<std::string> undecodable;  // dead-lettered, so removed at once
  for (std::string& item : items) {
    Event event;
    event.origin.source = origin_;
    std::string reason;
    if (!decode_payload(decoder_, item, event, reason)) {
      context_.dead_letter(item, event.origin, reason);
      undecodable.push_back(std::move(item));
      continue;
    }
    batch.events.push_back(std::move(event));
    delivered.push_back(std::move(item));
  }
  if (!undecodable.empty()) {
    acknowledger_->acknowledge(undecodable);
  }
  if (!batch.events.empty()) {
    batch.acks.push_back(track_batch(acknowledger_, std::move(delivered)));
    context_.emit(std::move(batch));
  }
}

}  // namespace

void run_list(const RedisInputConfig& config, const std::string& password, InputContext& context) {
  ListReader reader(config, password, context);
  reader.run();
}

}  // namespace slipway::inputs::redis_modes
