// Runs an output whose buffer is on disk, on two threads. The spool thread
// moves batches from the output's queue into the disk buffer and releases
// their acknowledgements once they are stored, so the inputs' checkpoints
// advance while the output is down. The delivery thread reads the events
// back in order and marks them delivered in the buffer after the output
// delivered or dead-lettered them. Events left at the shutdown deadline stay
// on disk and are delivered after the next start.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>

#include "engine/batch_queue.hpp"
#include "engine/disk_buffer.hpp"
#include "engine/output_runtime.hpp"

namespace slipway {

class DiskSpool {
 public:
  DiskSpool(std::unique_ptr<DiskBuffer> buffer, BufferSettings settings, BatchQueue& queue,
            std::size_t producer_edges, OutputRunner& runner, ComponentContext& context,
            const ShutdownDeadline& deadline);

  // Stores batches until every producer has ended the stream.
  void run_spool();
  // Delivers stored events until the spool has finished and the buffer is
  // empty, or the shutdown deadline passes.
  void run_delivery();

  const DiskBuffer& buffer() const { return *buffer_; }

 private:
  bool store(const BatchPtr& batch);
  void log_storage_error(const std::exception& error);

  std::unique_ptr<DiskBuffer> buffer_;
  BufferSettings settings_;
  BatchQueue& queue_;
  std::size_t producer_edges_;
  OutputRunner& runner_;
  ComponentContext& context_;
  const ShutdownDeadline& deadline_;
  std::atomic<bool> spool_finished_{false};
  std::chrono::steady_clock::time_point last_error_log_{};
  std::uint64_t suppressed_error_logs_ = 0;
  std::chrono::steady_clock::time_point last_drop_log_{};
};

}  // namespace slipway
