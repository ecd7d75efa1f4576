// The bounded queue on each edge of the pipeline graph: any number of
// producers, one consumer. A producer blocks while the queue is full, so a
// slow consumer slows its producers and memory stays bounded by
// capacity × batch size.
#pragma once

#include <cstddef>
#include <optional>

#include <blockingconcurrentqueue.h>
#include <lightweightsemaphore.h>

#include "engine/event.hpp"

namespace slipway {

// One item on a queue: a batch, or the end-of-stream mark that a producer
// sends once when it has finished.
struct QueueItem {
  BatchPtr batch;  // null for end of stream
};

class BatchQueue {
 public:
  explicit BatchQueue(std::size_t capacity)
      : items_(capacity), free_slots_(static_cast<moodycamel::LightweightSemaphore::ssize_t>(capacity)) {}

  // Blocks until there is room.
  void push(BatchPtr batch) {
    free_slots_.wait();
    items_.enqueue(QueueItem{std::move(batch)});
  }

  // Sends the end-of-stream mark. It takes no slot, so a producer can always
  // finish even when the queue is full.
  void push_end_of_stream() { items_.enqueue(QueueItem{nullptr}); }

  // Blocks until an item arrives.
  QueueItem pop() {
    QueueItem item;
    items_.wait_dequeue(item);
    release_slot(item);
    return item;
  }

  // Waits at most `timeout_microseconds`; empty when nothing arrived.
  std::optional<QueueItem> pop_for(std::int64_t timeout_microseconds) {
    QueueItem item;
    if (!items_.wait_dequeue_timed(item, timeout_microseconds)) {
      return std::nullopt;
    }
    release_slot(item);
    return item;
  }

  std::size_t size_approx() const { return items_.size_approx(); }

 private:
  void release_slot(const QueueItem& item) {
    if (item.batch) {
      free_slots_.signal();
    }
  }

  moodycamel::BlockingConcurrentQueue<QueueItem> items_;
  moodycamel::LightweightSemaphore free_slots_;
};

}  // namespace slipway
