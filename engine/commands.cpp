#include "engine/commands.hpp"

#include <signal.h>

#include <atomic>
#include <cstdio>
#include <optional>
#include <thread>

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include "config/pipeline_config.hpp"
#include "engine/api_server.hpp"
#include "engine/pipeline.hpp"
#include "engine/registry.hpp"

namespace slipway::commands {

namespace {

// Loads the file and lets every component check its settings, without
// opening anything; prints the problems found.
std::optional<config::PipelineConfig> load_and_check(const std::filesystem::path& config_file) {
  config::Errors errors;
  std::optional<config::PipelineConfig> pipeline =
      config::load_pipeline(config_file, config::process_environment(), errors);
  if (pipeline) {
    for (const config::ComponentConfig& component : pipeline->components) {
      const config::Section settings = component.settings(pipeline->file);
      switch (component.kind) {
        case ComponentKind::Input:
          component.type->make_input(settings, errors);
          break;
        case ComponentKind::Filter:
          component.type->make_filter(settings, errors);
          break;
        case ComponentKind::Output:
          component.type->make_output(settings, errors);
          break;
      }
    }
  }
  std::fputs(errors.format().c_str(), stderr);
  if (errors.has_errors()) {
    return std::nullopt;
  }
  return pipeline;
}

void configure_logging(const GlobalOptions& options, const config::PipelineConfig* pipeline) {
  std::string level_name = "info";
  if (!options.log_level.empty()) {
    level_name = options.log_level;
  } else if (pipeline != nullptr && pipeline->log_level) {
    level_name = *pipeline->log_level;
  }
  logging::configure(options.log_format, logging::parse_level(level_name).value_or(spdlog::level::info));
}

sigset_t stop_signals() {
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGINT);
  sigaddset(&signals, SIGTERM);
  return signals;
}

// Blocks SIGINT and SIGTERM in the calling thread. Threads inherit the
// mask, so calling this before any thread starts keeps the signals for
// the watcher alone.
void block_stop_signals() {
  const sigset_t signals = stop_signals();
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);
}

// Waits for SIGINT or SIGTERM on its own thread.
class SignalWatcher {
 public:
  explicit SignalWatcher(Pipeline& pipeline) : pipeline_(pipeline), signals_(stop_signals()) {
    thread_ = std::thread([this] { watch(); });
  }

  ~SignalWatcher() {
    done_.store(true);
    thread_.join();
  }

 private:
  void watch() {
    constexpr timespec kPollInterval{0, 200'000'000};
    int received = 0;
    while (!done_.load()) {
      const int signal_number = sigtimedwait(&signals_, nullptr, &kPollInterval);
      if (signal_number <= 0) {
        continue;
      }
      ++received;
      if (received == 1) {
        spdlog::info("Stopping: draining events in flight. signal={}", strsignal(signal_number));
        pipeline_.request_stop();
      } else {
        // A second signal means the user will not wait; checkpoints only
        // cover delivered events, so undelivered ones are read again later.
        spdlog::warn("Second signal: exiting without draining. signal={}", strsignal(signal_number));
        std::_Exit(kExitFailure);
      }
    }
  }

  Pipeline& pipeline_;
  sigset_t signals_{};
  std::atomic<bool> done_{false};
  std::thread thread_;
};

void log_summary(const Pipeline& pipeline) {
  for (const ComponentSummary& row : pipeline.summary()) {
    spdlog::info("Summary: {} \"{}\" ({}): received={} sent={} dropped={} dead_lettered={} repaired={} errors={}",
                 component_kind_name(row.kind), row.id, row.type, row.received_events, row.sent_events,
                 row.dropped_events, row.dead_lettered_events, row.repaired_events, row.errors);
  }
}

}  // namespace

int validate(const std::filesystem::path& config_file, const GlobalOptions& options) {
  configure_logging(options, nullptr);
  std::optional<config::PipelineConfig> pipeline = load_and_check(config_file);
  if (!pipeline) {
    return kExitConfig;
  }
  std::size_t counts[3] = {0, 0, 0};
  for (const config::ComponentConfig& component : pipeline->components) {
    ++counts[static_cast<int>(component.kind)];
  }
  std::printf("%s: valid (%zu inputs, %zu filters, %zu outputs)\n", config_file.c_str(), counts[0], counts[1],
              counts[2]);
  return kExitOk;
}

int run(const std::filesystem::path& config_file, const GlobalOptions& options) {
  configure_logging(options, nullptr);
  std::optional<config::PipelineConfig> config = load_and_check(config_file);
  if (!config) {
    return kExitConfig;
  }
  configure_logging(options, &*config);

  block_stop_signals();
  config::Errors errors;
  std::unique_ptr<Pipeline> pipeline;
  try {
    pipeline = Pipeline::build(*config, errors);
    if (!pipeline) {
      std::fputs(errors.format().c_str(), stderr);
      return kExitConfig;
    }
    SignalWatcher signals(*pipeline);
    std::unique_ptr<ApiServer> api;
    if (config->api_address) {
      Pipeline& running = *pipeline;
      api = std::make_unique<ApiServer>([&running] { return running.prometheus_metrics(); },
                                        [&running] { return running.health(); });
      api->start(*config->api_address);
      spdlog::info("Serving /metrics and /health. address={}", *config->api_address);
    }
    pipeline->start();
    spdlog::info("Started pipeline. file={} components={} data_dir={}", config_file.string(),
                 config->components.size(), config->data_dir.string());
    pipeline->wait();
  } catch (const std::exception& exception) {
    spdlog::critical("Cannot run the pipeline. error=\"{}\"", exception.what());
    return kExitFailure;
  }

  log_summary(*pipeline);
  spdlog::info("Stopped. dead_letter_file={}", pipeline->dead_letter_path().string());
  return kExitOk;
}

}  // namespace slipway::commands
