#include "engine/pipeline.hpp"

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <stdexcept>
#include <thread>

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include "engine/batch_queue.hpp"
#include "engine/checkpoint_store.hpp"
#include "engine/data_dir_lock.hpp"
#include "engine/dead_letter.hpp"
#include "engine/disk_spool.hpp"
#include "engine/logging.hpp"
#include "engine/registry.hpp"

namespace slipway {

namespace {

struct Edge {
  std::string port;  // empty for the default port
  BatchQueue* queue;
};

void send(const std::vector<Edge>& edges, std::string_view port, const BatchPtr& batch, ComponentMetrics& metrics) {
  for (const Edge& edge : edges) {
    if (edge.port == port) {
      edge.queue->push(batch);
    }
  }
  metrics.sent_events.fetch_add(batch->events.size(), std::memory_order_relaxed);
}

// Keeps the input checkpoints before a batch that a component failed on,
// so its events are read again after a restart instead of being skipped.
void mark_undelivered(const BatchPtr& batch) {
  for (const AckRef& ack : batch->acks) {
    if (ack) {
      ack->mark_undelivered();
    }
  }
}

QueueLimits output_queue_limits(const BufferSettings& buffer, ComponentContext& context) {
  QueueLimits limits;
  // The event and byte limits bind; the batch count only has to allow them.
  limits.max_batches = std::max<std::size_t>(16, buffer.max_events);
  limits.max_events = buffer.max_events;
  limits.max_bytes = buffer.max_bytes;
  limits.drop_when_full = buffer.when_full == WhenFull::DropNewest;
  limits.metrics = &context.metrics();
  return limits;
}

constexpr std::uint64_t kSegmentsPerDiskBuffer = 8;
constexpr std::uint64_t kMinSegmentBytes = 64 * 1024;
constexpr std::uint64_t kMaxSegmentBytes = 32 * 1024 * 1024;

}  // namespace

struct Pipeline::Node {
  ComponentKind kind = ComponentKind::Input;
  std::string id;
  std::string type;
  std::unique_ptr<Input> input;
  std::unique_ptr<Filter> filter;
  std::unique_ptr<Output> output;
  std::unique_ptr<ComponentContext> context;
  std::unique_ptr<BatchQueue> queue;  // filters and outputs
  std::size_t producer_edges = 0;     // end-of-stream marks to wait for
  std::vector<Edge> edges;            // downstream
  std::unique_ptr<OutputRunner> runner;
  std::unique_ptr<DiskSpool> disk_spool;  // outputs with `buffer.type: disk`
  std::thread thread;
  std::thread spool_thread;
};

class Pipeline::InputRuntime final : public InputContext {
 public:
  InputRuntime(Node& node, CheckpointStore& store, std::shared_ptr<spdlog::logger> log,
               std::filesystem::path data_dir, std::shared_ptr<DeadLetterQueue> dead_letters)
      : InputContext(ComponentKind::Input, node.id, node.type, std::move(log), std::move(data_dir),
                     std::move(dead_letters)),
        node_(node),
        store_(store),
        tracker_(std::make_shared<AckTracker>(
            [this](const std::vector<CheckpointEntry>& entries) { store_.update(id(), entries); })) {}

  bool stop_requested() const override { return stop_.load(std::memory_order_acquire); }

  bool wait_for_stop(std::chrono::milliseconds timeout) override {
    std::unique_lock lock(mutex_);
    return stopped_.wait_for(lock, timeout, [&] { return stop_requested(); });
  }

  void emit(Batch batch) override {
    if (batch.events.empty()) {
      return;
    }
    send(node_.edges, "", std::make_shared<const Batch>(std::move(batch)), metrics());
  }

  std::map<std::string, std::string> load_checkpoints() override { return store_.load(id()); }
  void remove_checkpoint(const std::string& key) override { store_.remove(id(), key); }
  AckRef track(CheckpointEntry checkpoint) override { return tracker_->track(std::move(checkpoint)); }

  void stop() {
    {
      std::lock_guard lock(mutex_);
      stop_.store(true, std::memory_order_release);
    }
    stopped_.notify_all();
  }

 private:
  Node& node_;
  CheckpointStore& store_;
  std::shared_ptr<AckTracker> tracker_;
  std::atomic<bool> stop_{false};
  std::mutex mutex_;
  std::condition_variable stopped_;
};

class Pipeline::FilterRuntime final : public FilterContext {
 public:
  FilterRuntime(Node& node, std::shared_ptr<spdlog::logger> log, std::filesystem::path data_dir,
                std::shared_ptr<DeadLetterQueue> dead_letters, const ShutdownDeadline& deadline)
      : FilterContext(ComponentKind::Filter, node.id, node.type, std::move(log), std::move(data_dir),
                      std::move(dead_letters)),
        node_(node),
        deadline_(deadline) {}

  void emit(Batch batch) override { emit_to("", std::move(batch)); }

  void forward(const BatchPtr& batch) override {
    if (batch && !batch->events.empty()) {
      send(node_.edges, "", batch, metrics());
    }
  }

  void emit_to(std::string_view port, Batch batch) override {
    if (batch.events.empty()) {
      return;
    }
    send(node_.edges, port, std::make_shared<const Batch>(std::move(batch)), metrics());
  }

  bool stop_requested() const override { return deadline_.is_set(); }

 private:
  Node& node_;
  const ShutdownDeadline& deadline_;
};

std::unique_ptr<Pipeline> Pipeline::build(const config::PipelineConfig& config, config::Errors& errors,
                                          PipelineOptions options) {
  std::unique_ptr<Pipeline> pipeline(new Pipeline());
  pipeline->data_dir_lock_fd_ = lock_data_dir(config.data_dir);
  pipeline->checkpoints_ = std::make_unique<CheckpointStore>(config.data_dir, config.checkpoint_interval);
  pipeline->dead_letters_ = std::make_shared<DeadLetterQueue>(config.dead_letter_path);
  pipeline->shutdown_timeout_ = config.shutdown_timeout;
  std::vector<std::pair<Node*, BufferSettings>> disk_outputs;

  for (const config::ComponentConfig& component : config.components) {
    auto node = std::make_unique<Node>();
    node->kind = component.kind;
    node->id = component.id;
    node->type = component.type->name;
    const config::Section settings = component.settings(config.file);
    auto log = logging::component_logger(component_kind_name(component.kind), node->type, node->id);

    switch (component.kind) {
      case ComponentKind::Input:
        node->input = component.type->make_input(settings, errors);
        node->context = std::make_unique<InputRuntime>(*node, *pipeline->checkpoints_, log, config.data_dir,
                                                       pipeline->dead_letters_);
        break;
      case ComponentKind::Filter:
        node->filter = component.type->make_filter(settings, errors);
        node->context = std::make_unique<FilterRuntime>(*node, log, config.data_dir, pipeline->dead_letters_,
                                                        pipeline->shutdown_deadline_);
        node->queue = std::make_unique<BatchQueue>(QueueLimits{.max_batches = options.queue_capacity});
        break;
      case ComponentKind::Output: {
        node->output = component.type->make_output(settings, errors);
        if (!node->output) {
          break;  // the factory reported why in `errors`, which ends the build below
        }
        node->context = std::make_unique<ComponentContext>(ComponentKind::Output, node->id, node->type, log,
                                                           config.data_dir, pipeline->dead_letters_);
        const OutputSettings output_settings = OutputSettings::parse(
            config::Section(component.node, &OutputSettings::kSchema, component.context, config.file));
        node->runner = std::make_unique<OutputRunner>(
            *node->output, *node->context, output_settings.retry,
            std::make_shared<DeadLetterQueue>(output_dead_letter_path(config.data_dir, node->id)),
            pipeline->shutdown_deadline_);
        if (output_settings.buffer.type == BufferType::Disk) {
          // The queue in front of the disk only smooths the handover, because the backlog waits on disk.
          node->queue = std::make_unique<BatchQueue>(QueueLimits{.max_batches = options.queue_capacity});
          disk_outputs.emplace_back(node.get(), output_settings.buffer);
        } else {
          node->queue = std::make_unique<BatchQueue>(output_queue_limits(output_settings.buffer, *node->context));
        }
        break;
      }
    }
    pipeline->nodes_.push_back(std::move(node));
  }
  if (errors.has_errors()) {
    return nullptr;
  }

  for (const config::ComponentConfig& component : config.components) {
    Node* consumer = nullptr;
    for (auto& node : pipeline->nodes_) {
      if (node->id == component.id) {
        consumer = node.get();
      }
    }
    for (const config::Upstream& upstream : component.from) {
      for (auto& producer : pipeline->nodes_) {
        if (producer->id == upstream.id) {
          producer->edges.push_back(Edge{upstream.port, consumer->queue.get()});
          ++consumer->producer_edges;
        }
      }
    }
  }

  for (auto& [node, buffer] : disk_outputs) {
    DiskBufferOptions disk_options;
    disk_options.max_events = buffer.max_events;
    disk_options.max_bytes = buffer.max_bytes;
    disk_options.fsync = buffer.fsync;
    if (buffer.max_bytes > 0) {
      // Segments are deleted whole, so several per buffer keep the byte limit close.
      disk_options.segment_max_bytes =
          std::clamp<std::uint64_t>(buffer.max_bytes / kSegmentsPerDiskBuffer, kMinSegmentBytes, kMaxSegmentBytes);
    }
    auto disk = std::make_unique<DiskBuffer>(config.data_dir / "buffers" / node->id, disk_options,
                                             node->context->log());
    const DiskBufferRecovery& recovery = disk->recovery();
    if (recovery.events > 0) {
      node->context->log().info("Disk buffer holds events from an earlier run; delivering them first. events={}",
                                recovery.events);
    }
    node->disk_spool = std::make_unique<DiskSpool>(std::move(disk), buffer, *node->queue, node->producer_edges,
                                                   *node->runner, *node->context, pipeline->shutdown_deadline_);
  }
  for (auto& node : pipeline->nodes_) {
    if (node->kind != ComponentKind::Output) {
      continue;
    }
    Node& output = *node;
    output.runner->report_buffer_events([&output]() -> std::uint64_t {
      return output.disk_spool ? output.disk_spool->buffer().pending_events() : output.queue->queued_events();
    });
  }
  return pipeline;
}

Pipeline::~Pipeline() {
  request_stop();
  for (auto& node : nodes_) {
    join_node(*node);
  }
  if (data_dir_lock_fd_ >= 0) {
    ::close(data_dir_lock_fd_);
  }
}

void Pipeline::start() {
  // Outputs open their files and connections first, on this thread, so a
  // destination that cannot be used stops the start before any input reads.
  for (auto& node : nodes_) {
    if (node->kind == ComponentKind::Output) {
      node->output->start(*node->context);
    }
  }

  for (ComponentKind kind : {ComponentKind::Output, ComponentKind::Filter, ComponentKind::Input}) {
    for (auto& node : nodes_) {
      if (node->kind != kind) {
        continue;
      }
      Node& current = *node;
      switch (kind) {
        case ComponentKind::Output:
          if (current.disk_spool) {
            current.spool_thread = std::thread([&current] { current.disk_spool->run_spool(); });
          }
          current.thread = std::thread([this, &current] { run_output(current); });
          break;
        case ComponentKind::Filter:
          current.thread = std::thread([this, &current] { run_filter(current); });
          break;
        case ComponentKind::Input: {
          std::lock_guard lock(mutex_);
          ++running_inputs_;
          current.thread = std::thread([this, &current] { run_input(current); });
          break;
        }
      }
    }
  }
}

void Pipeline::request_stop() {
  shutdown_deadline_.set(std::chrono::steady_clock::now() + shutdown_timeout_);
  stop_inputs();
}

void Pipeline::stop_inputs() {
  {
    std::lock_guard lock(mutex_);
    stop_requested_ = true;
  }
  state_changed_.notify_all();
  for (auto& node : nodes_) {
    if (node->kind == ComponentKind::Input) {
      static_cast<InputRuntime&>(*node->context).stop();
    }
  }
}

void Pipeline::wait() {
  {
    std::unique_lock lock(mutex_);
    state_changed_.wait(lock, [&] { return stop_requested_ || running_inputs_ == 0; });
  }
  stop_inputs();

  // Nodes are ordered inputs, filters, outputs, and end-of-stream marks
  // travel the same way, so each join waits only for work that is draining.
  for (auto& node : nodes_) {
    join_node(*node);
  }
  checkpoints_->flush();
}

void Pipeline::input_finished() {
  {
    std::lock_guard lock(mutex_);
    --running_inputs_;
  }
  state_changed_.notify_all();
}

void Pipeline::run_input(Node& node) {
  auto& context = static_cast<InputRuntime&>(*node.context);
  try {
    node.input->run(context);
  } catch (const std::exception& exception) {
    context.metrics().errors.fetch_add(1, std::memory_order_relaxed);
    context.log().error("Input stopped after an error; events it had not emitted are read again after a restart. "
                        "error=\"{}\"",
                        exception.what());
  }
  for (const Edge& edge : node.edges) {
    edge.queue->push_end_of_stream();
  }
  input_finished();
}

void Pipeline::run_filter(Node& node) {
  auto& context = static_cast<FilterRuntime&>(*node.context);
  std::size_t ended_producers = 0;
  while (ended_producers < node.producer_edges) {
    QueueItem item = node.queue->pop();
    if (!item.batch) {
      ++ended_producers;
      continue;
    }
    context.metrics().received_events.fetch_add(item.batch->events.size(), std::memory_order_relaxed);
    try {
      node.filter->process(item.batch, context);
    } catch (const std::exception& exception) {
      mark_undelivered(item.batch);
      context.metrics().errors.fetch_add(1, std::memory_order_relaxed);
      context.log().error("Processing a batch failed; its events are read again after a restart. events={} "
                          "error=\"{}\"",
                          item.batch->events.size(), exception.what());
    }
  }

  try {
    node.filter->finish(context);
  } catch (const std::exception& exception) {
    context.metrics().errors.fetch_add(1, std::memory_order_relaxed);
    context.log().error("Finishing failed. error=\"{}\"", exception.what());
  }
  for (const Edge& edge : node.edges) {
    edge.queue->push_end_of_stream();
  }
}

void Pipeline::join_node(Node& node) {
  for (std::thread* thread : {&node.spool_thread, &node.thread}) {
    if (thread->joinable()) {
      thread->join();
    }
  }
}

void Pipeline::run_output(Node& node) {
  ComponentContext& context = *node.context;
  std::size_t ended_producers = 0;
  // NOTE: a batch abandoned at the shutdown deadline keeps the input's
  // checkpoint before it, so a file or SQLite input reads it again. An input
  // that cannot replay loses it unless the output has a disk buffer.
  if (node.disk_spool) {
    node.disk_spool->run_delivery();
    ended_producers = node.producer_edges;
  }
  while (ended_producers < node.producer_edges) {
    QueueItem item = node.queue->pop();
    if (!item.batch) {
      ++ended_producers;
      continue;
    }
    context.metrics().received_events.fetch_add(item.batch->events.size(), std::memory_order_relaxed);
    if (shutdown_deadline_.passed()) {
      OutputRunner::abandon(item.batch);
      continue;
    }
    node.runner->deliver(item.batch);
  }

  try {
    node.output->stop(context);
  } catch (const std::exception& exception) {
    context.metrics().errors.fetch_add(1, std::memory_order_relaxed);
    context.log().error("Closing failed. error=\"{}\"", exception.what());
  }
}

std::vector<ComponentSummary> Pipeline::summary() const {
  std::vector<ComponentSummary> rows;
  for (const auto& node : nodes_) {
    ComponentMetrics& metrics = node->context->metrics();
    rows.push_back(ComponentSummary{node->kind, node->id, node->type, metrics.received_events.load(),
                                    metrics.sent_events.load(), metrics.dropped_events.load(),
                                    metrics.dead_lettered_events.load(), metrics.repaired_events.load(),
                                    metrics.errors.load(), metrics.retries.load(), metrics.lag_bytes.load()});
  }
  return rows;
}

namespace {

struct MetricFamily {
  const char* name;
  const char* type;
  const char* help;
};

void append_family_header(std::string& out, const MetricFamily& family) {
  fmt::format_to(std::back_inserter(out), "# HELP {} {}\n# TYPE {} {}\n", family.name, family.help, family.name,
                 family.type);
}

}  // namespace

std::string Pipeline::prometheus_metrics() const {
  struct Counter {
    MetricFamily family;
    std::atomic<std::uint64_t> ComponentMetrics::*field;
  };
  static const Counter kCounters[] = {
      {{"slipway_component_received_events_total", "counter", "Events a component received."},
       &ComponentMetrics::received_events},
      {{"slipway_component_sent_events_total", "counter", "Events a component sent on or delivered."},
       &ComponentMetrics::sent_events},
      {{"slipway_component_dropped_events_total", "counter", "Events discarded on purpose: filters, size limits, "
                                                              "full buffers set to drop."},
       &ComponentMetrics::dropped_events},
      {{"slipway_component_dead_lettered_events_total", "counter", "Events written to a dead-letter file."},
       &ComponentMetrics::dead_lettered_events},
      {{"slipway_component_repaired_events_total", "counter", "Events whose text was repaired on the way in."},
       &ComponentMetrics::repaired_events},
      {{"slipway_component_errors_total", "counter", "Errors a component met."}, &ComponentMetrics::errors},
      {{"slipway_component_retries_total", "counter", "Delivery attempts an output repeated."},
       &ComponentMetrics::retries},
      {{"slipway_component_ambiguous_events_total", "counter",
        "Events sent whole without a response arriving (timeout or lost connection); a retry may repeat them."},
       &ComponentMetrics::ambiguous_events},
  };

  const auto labels = [](const Node& node) {
    return fmt::format("component_id=\"{}\",component_kind=\"{}\",component_type=\"{}\"", node.id,
                       component_kind_name(node.kind), node.type);
  };

  std::string out;
  for (const Counter& counter : kCounters) {
    append_family_header(out, counter.family);
    for (const auto& node : nodes_) {
      const auto value = (node->context->metrics().*counter.field).load(std::memory_order_relaxed);
      fmt::format_to(std::back_inserter(out), "{}{{{}}} {}\n", counter.family.name, labels(*node), value);
    }
  }

  append_family_header(out, {"slipway_component_buffer_events", "gauge", "Events waiting in an output's buffer."});
  for (const auto& node : nodes_) {
    if (node->kind == ComponentKind::Output) {
      const std::uint64_t events =
          node->disk_spool ? node->disk_spool->buffer().pending_events() : node->queue->queued_events();
      fmt::format_to(std::back_inserter(out), "slipway_component_buffer_events{{{}}} {}\n", labels(*node), events);
    }
  }
  append_family_header(out, {"slipway_component_buffer_bytes", "gauge",
                             "Bytes an output's buffer uses: events in memory, or its files on disk."});
  for (const auto& node : nodes_) {
    if (node->kind == ComponentKind::Output) {
      const std::uint64_t bytes =
          node->disk_spool ? node->disk_spool->buffer().disk_bytes() : node->queue->queued_bytes();
      fmt::format_to(std::back_inserter(out), "slipway_component_buffer_bytes{{{}}} {}\n", labels(*node), bytes);
    }
  }
  append_family_header(out, {"slipway_file_lag_bytes", "gauge", "Bytes of watched files not read yet."});
  for (const auto& node : nodes_) {
    const std::int64_t lag = node->context->metrics().lag_bytes.load(std::memory_order_relaxed);
    if (node->kind == ComponentKind::Input && lag >= 0) {
      fmt::format_to(std::back_inserter(out), "slipway_file_lag_bytes{{{}}} {}\n", labels(*node), lag);
    }
  }
  return out;
}

HealthReport Pipeline::health() const {
  HealthReport report;
  std::string failures;
  for (const auto& node : nodes_) {
    const std::string reason = node->context->health().degraded_reason();
    if (!reason.empty()) {
      report.healthy = false;
      failures += fmt::format("{} \"{}\" ({}): {}\n", component_kind_name(node->kind), node->id, node->type, reason);
    }
  }
  report.text = report.healthy ? "ok\n" : "degraded\n" + failures;
  return report;
}

const std::filesystem::path& Pipeline::dead_letter_path() const { return dead_letters_->path(); }

}  // namespace slipway
