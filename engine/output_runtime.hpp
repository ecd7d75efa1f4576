// What the engine adds around every output: its settings common to all
// output types (`buffer`, `retry`), and the delivery loop that retries a
// failing batch with backoff, dead-letters what cannot be delivered, and
// gives up only at the shutdown deadline, leaving the rest to be read again.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <random>

#include "config/schema.hpp"
#include "engine/component.hpp"
#include "engine/delivery.hpp"

namespace slipway {

class DeadLetterQueue;

enum class BufferType { Memory, Disk };
enum class WhenFull { Block, DropNewest };

struct BufferSettings {
  BufferType type = BufferType::Memory;
  std::size_t max_events = 10'000;
  std::size_t max_bytes = 0;  // 0: no byte limit
  WhenFull when_full = WhenFull::Block;
  bool fsync = true;  // disk buffers only
};

struct OutputSettings {
  BufferSettings buffer;
  RetryPolicy retry;

  // The keys every output accepts besides its own: `buffer` and `retry`.
  static const config::Schema kSchema;
  static OutputSettings parse(const config::Section& settings);
};

// The moment after which a stopping pipeline stops retrying. Unset while running.
class ShutdownDeadline {
 public:
  void set(std::chrono::steady_clock::time_point deadline);
  bool passed() const;
  // True once a deadline was set, that is, once the pipeline began stopping.
  bool is_set() const;
  // Sleeps for `delay`, or until the deadline passes if that comes first;
  // returns false when the deadline cut the wait short.
  bool sleep_for(std::chrono::milliseconds delay) const;

 private:
  std::atomic<std::int64_t> deadline_ns_{0};
};

class OutputRunner {
 public:
  OutputRunner(Output& output, ComponentContext& context, RetryPolicy retry,
               std::shared_ptr<DeadLetterQueue> dead_letters, const ShutdownDeadline& deadline);

  // Delivers a batch, retrying as the policy allows. Events that are
  // rejected or run out of retries go to the output's dead-letter file;
  // when the shutdown deadline passes first, the batch's acknowledgements
  // are marked undelivered so the input reads the events again. Returns
  // false in that case, true when every event was delivered or dead-lettered.
  bool deliver(const BatchPtr& batch);

  // Sets where retry messages read the number of events waiting in the
  // output's buffer, so a long outage shows its backlog in the log.
  void report_buffer_events(std::function<std::uint64_t()> buffer_events) { buffer_events_ = std::move(buffer_events); }

  // Marks a batch undelivered without trying, for batches still queued at
  // the shutdown deadline.
  static void abandon(const BatchPtr& batch);

 private:
  void dead_letter(const Event& event, std::string_view reason, std::uint32_t attempts);
  void log_retry(const DeliveryResult& result, std::size_t events, std::uint32_t attempt,
                 std::chrono::milliseconds delay);

  Output& output_;
  ComponentContext& context_;
  RetryPolicy retry_;
  std::shared_ptr<DeadLetterQueue> dead_letters_;
  const ShutdownDeadline& deadline_;
  std::mt19937_64 random_;
  std::chrono::steady_clock::time_point last_retry_log_{};
  std::uint64_t suppressed_retry_logs_ = 0;
  std::function<std::uint64_t()> buffer_events_;
};

}  // namespace slipway
