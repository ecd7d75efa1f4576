// The bounded queue on each edge of the pipeline graph: any number of
// producers, one consumer. A producer blocks while the queue is full, so a
// slow consumer slows its producers and memory stays bounded. An output's
// queue is its memory buffer and may also be bounded in events and bytes,
// and may drop arriving batches instead of blocking.
#pragma once

#include <condition_variable>
#include <cstddef>
#include <mutex>
#include <optional>

#include <blockingconcurrentqueue.h>
#include <lightweightsemaphore.h>

#include "engine/component.hpp"
#include "engine/event.hpp"

namespace slipway {

struct QueueLimits {
  std::size_t max_batches = 16;
  std::size_t max_events = 0;  // 0: bounded by max_batches only
  std::size_t max_bytes = 0;   // 0: no byte limit
  bool drop_when_full = false;
  ComponentMetrics* metrics = nullptr;  // the consumer's, where drops are counted
};

// One item on a queue: a batch, or the end-of-stream mark that a producer
// sends once when it has finished.
struct QueueItem {
  BatchPtr batch;  // null for end of stream
  std::size_t bytes = 0;
};

class BatchQueue {
 public:
  explicit BatchQueue(QueueLimits limits)
      : limits_(limits),
        items_(limits.max_batches),
        free_slots_(static_cast<moodycamel::LightweightSemaphore::ssize_t>(limits.max_batches)) {}

  // Blocks until there is room, or drops the batch when the queue was
  // configured to drop when full.
  void push(BatchPtr batch) {
    const std::size_t bytes = byte_size(*batch);
    if (has_budget() && !acquire_budget(batch->events.size(), bytes)) {
      return;
    }
    free_slots_.wait();
    items_.enqueue(QueueItem{std::move(batch), bytes});
  }

  // Sends the end-of-stream mark. It takes no slot, so a producer can always
  // finish even when the queue is full.
  void push_end_of_stream() { items_.enqueue(QueueItem{nullptr, 0}); }

  // Blocks until an item arrives.
  QueueItem pop() {
    QueueItem item;
    items_.wait_dequeue(item);
    release(item);
    return item;
  }

  // Waits at most `timeout_microseconds`; empty when nothing arrived.
  std::optional<QueueItem> pop_for(std::int64_t timeout_microseconds) {
    QueueItem item;
    if (!items_.wait_dequeue_timed(item, timeout_microseconds)) {
      return std::nullopt;
    }
    release(item);
    return item;
  }

  std::size_t size_approx() const { return items_.size_approx(); }

  // Events waiting in the queue; exact only for queues with an event budget.
  std::size_t queued_events() const {
    std::lock_guard lock(budget_mutex_);
    return used_events_;
  }
  // Bytes of the events waiting; exact only for queues with a budget.
  std::size_t queued_bytes() const {
    std::lock_guard lock(budget_mutex_);
    return used_bytes_;
  }

 private:
  static std::size_t byte_size(const Batch& batch) {
    std::size_t bytes = 0;
    for (const Event& event : batch.events) {
      bytes += event.json.size();
    }
    return bytes;
  }

  bool has_budget() const { return limits_.max_events > 0 || limits_.max_bytes > 0; }

  bool fits(std::size_t events, std::size_t bytes) const {
    // An empty queue takes any batch, so one larger than the limits cannot block for ever.
    if (used_events_ == 0) {
      return true;
    }
    const bool events_fit = limits_.max_events == 0 || used_events_ + events <= limits_.max_events;
    const bool bytes_fit = limits_.max_bytes == 0 || used_bytes_ + bytes <= limits_.max_bytes;
    return events_fit && bytes_fit;
  }

  bool acquire_budget(std::size_t events, std::size_t bytes) {
    std::unique_lock lock(budget_mutex_);
    if (limits_.drop_when_full && !fits(events, bytes)) {
      if (limits_.metrics != nullptr) {
        limits_.metrics->dropped_events.fetch_add(events, std::memory_order_relaxed);
      }
      return false;
    }
    budget_freed_.wait(lock, [&] { return fits(events, bytes); });
    used_events_ += events;
    used_bytes_ += bytes;
    return true;
  }

  void release(const QueueItem& item) {
    if (!item.batch) {
      return;
    }
    if (has_budget()) {
      {
        std::lock_guard lock(budget_mutex_);
        used_events_ -= item.batch->events.size();
        used_bytes_ -= item.bytes;
      }
      budget_freed_.notify_all();
    }
    free_slots_.signal();
  }

  QueueLimits limits_;
  moodycamel::BlockingConcurrentQueue<QueueItem> items_;
  moodycamel::LightweightSemaphore free_slots_;
  mutable std::mutex budget_mutex_;
  std::condition_variable budget_freed_;
  std::size_t used_events_ = 0;
  std::size_t used_bytes_ = 0;
};

}  // namespace slipway
