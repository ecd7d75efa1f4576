// A running pipeline: the components of a checked configuration, one
// thread each, joined by bounded queues. Stopping drains: inputs stop
// reading, then every queue is emptied downstream before outputs close, so
// a graceful stop loses nothing and repeats nothing.
#pragma once

#include <atomic>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "config/errors.hpp"
#include "config/pipeline_config.hpp"
#include "engine/api_server.hpp"
#include "engine/component.hpp"
#include "engine/output_runtime.hpp"

namespace slipway {

class CheckpointStore;
class DeadLetterQueue;

struct PipelineOptions {
  // Batches each edge into a filter holds before its producers block.
  std::size_t queue_capacity = 16;
};

struct ComponentSummary {
  ComponentKind kind;
  std::string id;
  std::string type;
  std::uint64_t received_events;
  std::uint64_t sent_events;
  std::uint64_t dropped_events;
  std::uint64_t dead_lettered_events;
  std::uint64_t repaired_events;
  std::uint64_t errors;
  std::uint64_t retries;
  std::int64_t lag_bytes;  // bytes an input has not read yet; -1 when it does not know
};

class Pipeline {
 public:
  // Creates every component. Problems a component finds in its settings go
  // to `errors`, and then the result is null. Throws std::runtime_error
  // when the data directory cannot be used.
  static std::unique_ptr<Pipeline> build(const config::PipelineConfig& config, config::Errors& errors,
                                         PipelineOptions options = {});
  ~Pipeline();
  Pipeline(const Pipeline&) = delete;
  Pipeline& operator=(const Pipeline&) = delete;

  // Starts every component's thread and returns.
  void start();
  // Asks inputs to stop reading and gives outputs until the shutdown
  // timeout to deliver what is in flight; safe from any thread, repeated
  // calls are harmless.
  void request_stop();
  // Blocks until a stop is requested or every input has finished, then
  // drains and joins every thread, and stores the final checkpoints. When
  // the inputs finished by themselves, outputs get all the time they need.
  void wait();

  std::vector<ComponentSummary> summary() const;
  // Every component's counters and gauges in the Prometheus text format.
  std::string prometheus_metrics() const;
  // "ok", or "degraded" with each failing component and why.
  HealthReport health() const;
  const std::filesystem::path& dead_letter_path() const;

 private:
  struct Node;
  class InputRuntime;
  class FilterRuntime;

  Pipeline() = default;
  void run_input(Node& node);
  void run_filter(Node& node);
  void run_output(Node& node);
  static void join_node(Node& node);
  void input_finished();
  void stop_inputs();

  std::vector<std::unique_ptr<Node>> nodes_;
  std::unique_ptr<CheckpointStore> checkpoints_;
  std::shared_ptr<DeadLetterQueue> dead_letters_;
  int data_dir_lock_fd_ = -1;

  std::mutex mutex_;
  std::condition_variable state_changed_;
  bool stop_requested_ = false;
  std::size_t running_inputs_ = 0;
  std::chrono::seconds shutdown_timeout_{30};
  ShutdownDeadline shutdown_deadline_;
};

}  // namespace slipway
