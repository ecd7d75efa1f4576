#include "engine/disk_spool.hpp"

#include <vector>

namespace slipway {

namespace {

// Batches stored together before one fsync: under load, one flush to the
// device covers many batches.
constexpr std::size_t kMaxBatchesPerSync = 64;
// Events and bytes read back from disk for one delivery.
constexpr std::size_t kDeliveryBatchEvents = 1024;
constexpr std::size_t kDeliveryBatchBytes = 4 * 1024 * 1024;
constexpr auto kReadTimeout = std::chrono::milliseconds(100);
constexpr auto kStorageRetryDelay = std::chrono::seconds(1);
constexpr auto kErrorLogInterval = std::chrono::seconds(10);

void mark_undelivered(const BatchPtr& batch) {
  for (const AckRef& ack : batch->acks) {
    if (ack) {
      ack->mark_undelivered();
    }
  }
}

}  // namespace

DiskSpool::DiskSpool(std::unique_ptr<DiskBuffer> buffer, BufferSettings settings, BatchQueue& queue,
                     std::size_t producer_edges, OutputRunner& runner, ComponentContext& context,
                     const ShutdownDeadline& deadline)
    : buffer_(std::move(buffer)),
      settings_(settings),
      queue_(queue),
      producer_edges_(producer_edges),
      runner_(runner),
      context_(context),
      deadline_(deadline) {}

void DiskSpool::run_spool() {
  std::size_t ended_producers = 0;
  std::vector<BatchPtr> stored;
  while (ended_producers < producer_edges_) {
    std::vector<QueueItem> items;
    items.push_back(queue_.pop());
    while (items.size() < kMaxBatchesPerSync) {
      std::optional<QueueItem> more = queue_.pop_for(0);
      if (!more) {
        break;
      }
      items.push_back(std::move(*more));
    }

    for (const QueueItem& item : items) {
      if (!item.batch) {
        ++ended_producers;
        continue;
      }
      context_.metrics().received_events.fetch_add(item.batch->events.size(), std::memory_order_relaxed);
      if (store(item.batch)) {
        stored.push_back(item.batch);
      } else {
        mark_undelivered(item.batch);
      }
    }

    try {
      buffer_->sync();
    } catch (const std::exception& error) {
      // The events may still be delivered from disk. Marked undelivered, they
      // are also read again by the inputs after a restart, so a failed flush
      // may repeat them but does not lose them.
      context_.metrics().errors.fetch_add(1, std::memory_order_relaxed);
      log_storage_error(error);
      for (const BatchPtr& batch : stored) {
        mark_undelivered(batch);
      }
    }
    // Releasing the batches completes their acknowledgements.
    stored.clear();
  }
  spool_finished_.store(true);
}

// Appends a batch, waiting for room or for a failing disk to recover until
// the shutdown deadline. Returns false when the batch was not stored.
bool DiskSpool::store(const BatchPtr& batch) {
  std::size_t bytes = 0;
  for (const Event& event : batch->events) {
    bytes += DiskBuffer::record_bytes(event);
  }
  if (settings_.when_full == WhenFull::DropNewest && !buffer_->fits(batch->events.size(), bytes)) {
    context_.metrics().dropped_events.fetch_add(batch->events.size(), std::memory_order_relaxed);
    const auto now = std::chrono::steady_clock::now();
    if (now - last_drop_log_ >= kErrorLogInterval) {
      context_.log().warn("Disk buffer full; dropping arriving events as configured (when_full: drop_newest). "
                          "buffer_events={} buffer_bytes={}",
                          buffer_->pending_events(), buffer_->disk_bytes());
      last_drop_log_ = now;
    }
    return true;
  }
  if (!buffer_->wait_for_room(batch->events.size(), bytes, [&] { return deadline_.passed(); })) {
    return false;
  }

  while (true) {
    try {
      buffer_->append(batch->events);
      return true;
    } catch (const std::exception& error) {
      context_.metrics().errors.fetch_add(1, std::memory_order_relaxed);
      context_.health().set_degraded(std::string("disk buffer: ") + error.what());
      log_storage_error(error);
      if (deadline_.passed() || !deadline_.sleep_for(kStorageRetryDelay)) {
        return false;
      }
    }
  }
}

void DiskSpool::run_delivery() {
  // The deadline is checked before each read, because a long backlog of a
  // healthy output would otherwise hold up the stop. The events stay on disk.
  while (!deadline_.passed()) {
    std::vector<Event> events = buffer_->read(kDeliveryBatchEvents, kDeliveryBatchBytes, kReadTimeout);
    if (events.empty()) {
      if (spool_finished_.load() && buffer_->pending_events() == 0) {
        return;
      }
      continue;
    }
    auto batch = std::make_shared<Batch>();
    batch->events = std::move(events);
    if (!runner_.deliver(batch)) {
      break;
    }
    buffer_->commit_read();
  }
  const std::uint64_t left = buffer_->pending_events();
  if (left > 0) {
    context_.log().info("Shutdown deadline reached; the events left in the disk buffer are delivered after the next "
                        "start. buffer_events={}",
                        left);
  }
}

void DiskSpool::log_storage_error(const std::exception& error) {
  const auto now = std::chrono::steady_clock::now();
  if (now - last_error_log_ < kErrorLogInterval) {
    ++suppressed_error_logs_;
    return;
  }
  context_.log().error("Storing events in the disk buffer failed. similar_messages_suppressed={} error=\"{}\"",
                       suppressed_error_logs_, error.what());
  last_error_log_ = now;
  suppressed_error_logs_ = 0;
}

}  // namespace slipway
