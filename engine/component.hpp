// The interfaces every input, filter and output implements, and the
// contexts through which the engine gives them what they need: a logger,
// counters, the data directory, the dead-letter file, and the queues to
// their neighbours. Components never see one another.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <filesystem>
#include <map>
#include <mutex>
#include <memory>
#include <string>
#include <string_view>

#include <spdlog/logger.h>

#include "engine/acknowledgement.hpp"
#include "engine/delivery.hpp"
#include "engine/event.hpp"

namespace slipway {

enum class ComponentKind { Input, Filter, Output };

const char* component_kind_name(ComponentKind kind);  // "input", "filter", "output"

// Counters of one component instance; the stop summary and the metrics
// endpoint read them. The engine counts events received by filters and
// outputs, events sent by inputs and filters, and events outputs delivered.
struct ComponentMetrics {
  std::atomic<std::uint64_t> received_events{0};
  std::atomic<std::uint64_t> sent_events{0};
  std::atomic<std::uint64_t> dropped_events{0};  // discarded on purpose (filters, size limits)
  std::atomic<std::uint64_t> dead_lettered_events{0};
  std::atomic<std::uint64_t> errors{0};
  std::atomic<std::uint64_t> repaired_events{0};  // text repaired on the way in
  std::atomic<std::uint64_t> retries{0};          // delivery attempts repeated by outputs
  // Events sent whole without a response (a timeout or a lost connection
  // after sending): the destination may have them, and a retry may repeat them.
  std::atomic<std::uint64_t> ambiguous_events{0};
  std::atomic<std::int64_t> lag_bytes{-1};        // bytes not read yet, for inputs that know; -1 otherwise
};

// Whether a component currently works; /health reports the degraded ones.
class ComponentHealth {
 public:
  void set_degraded(std::string reason) {
    std::lock_guard lock(mutex_);
    reason_ = std::move(reason);
  }
  void set_healthy() {
    std::lock_guard lock(mutex_);
    reason_.clear();
  }
  // Empty when healthy, else why not.
  std::string degraded_reason() const {
    std::lock_guard lock(mutex_);
    return reason_;
  }

 private:
  mutable std::mutex mutex_;
  std::string reason_;
};

class DeadLetterQueue;

class ComponentContext {
 public:
  ComponentContext(ComponentKind kind, std::string id, std::string type, std::shared_ptr<spdlog::logger> log,
                   std::filesystem::path data_dir, std::shared_ptr<DeadLetterQueue> dead_letters);
  virtual ~ComponentContext() = default;

  ComponentKind kind() const { return kind_; }
  const std::string& id() const { return id_; }
  const std::string& type() const { return type_; }
  spdlog::logger& log() { return *log_; }
  ComponentMetrics& metrics() { return metrics_; }
  ComponentHealth& health() { return health_; }
  const std::filesystem::path& data_dir() const { return data_dir_; }

  // Writes a record that could not be processed to the pipeline's
  // dead-letter file, with its origin and the reason, and counts it.
  void dead_letter(std::string_view raw, const EventOrigin& origin, std::string_view reason);

 private:
  ComponentKind kind_;
  std::string id_;
  std::string type_;
  std::shared_ptr<spdlog::logger> log_;
  std::filesystem::path data_dir_;
  std::shared_ptr<DeadLetterQueue> dead_letters_;
  ComponentMetrics metrics_;
  ComponentHealth health_;
};

// The interface an input's thread uses to hand events to the pipeline.
class InputContext : public ComponentContext {
 public:
  using ComponentContext::ComponentContext;

  virtual bool stop_requested() const = 0;
  // Sleeps until `timeout` passes or a stop is requested; returns true when stopping.
  virtual bool wait_for_stop(std::chrono::milliseconds timeout) = 0;
  // Sends a batch to every consumer, blocking while a consumer's queue is
  // full, so a slow output slows the input instead of growing memory.
  virtual void emit(Batch batch) = 0;

  // Checkpoints committed by an earlier run of this input, by key.
  virtual std::map<std::string, std::string> load_checkpoints() = 0;
  // Forgets a checkpoint key, e.g. for a file that no longer exists.
  virtual void remove_checkpoint(const std::string& key) = 0;
  // Registers a batch that reaches `checkpoint` once every output has it;
  // put the returned reference in the batch's `acks` before emitting.
  virtual AckRef track(CheckpointEntry checkpoint) = 0;
};

class Input {
 public:
  virtual ~Input() = default;
  // Reads until a stop is requested or, for a finite source, until its end.
  // Runs on the input's own thread.
  virtual void run(InputContext& context) = 0;
};

class FilterContext : public ComponentContext {
 public:
  using ComponentContext::ComponentContext;

  // Sends a new or changed batch on the default port.
  virtual void emit(Batch batch) = 0;
  // Sends a batch unchanged, sharing it with the other consumers.
  virtual void forward(const BatchPtr& batch) = 0;
  // Sends a batch on a named port, read by others as `from: [ID.PORT]`.
  virtual void emit_to(std::string_view port, Batch batch) = 0;
  // True once the pipeline is stopping, so that a filter that waits on
  // purpose (pacing) stops waiting and lets the drain finish.
  virtual bool stop_requested() const { return false; }
};

class Filter {
 public:
  virtual ~Filter() = default;
  // Processes one batch on the filter's own thread. Derived batches keep
  // the acknowledgements of `batch`.
  virtual void process(const BatchPtr& batch, FilterContext& context) = 0;
  // Emits anything held back, once every upstream has finished.
  virtual void finish(FilterContext& /*context*/) {}
};

using OutputContext = ComponentContext;

class Output {
 public:
  virtual ~Output() = default;
  // Opens files or connections before any input reads. Throws
  // std::runtime_error with a message naming the destination and the fix
  // when it cannot, which stops the pipeline from starting.
  virtual void start(OutputContext& /*context*/) {}
  // Tries to deliver a batch once and reports the outcome; the engine
  // retries and dead-letters by it. The batch's acknowledgements complete
  // when the engine releases it. The default calls write(), where a return
  // means delivered and an exception means try again.
  virtual DeliveryResult deliver(const BatchPtr& batch, OutputContext& context) {
    write(batch, context);
    return DeliveryResult::delivered();
  }
  virtual void write(const BatchPtr& /*batch*/, OutputContext& /*context*/) {}
  // Flushes and closes, once every upstream has finished.
  virtual void stop(OutputContext& /*context*/) {}
};

}  // namespace slipway
