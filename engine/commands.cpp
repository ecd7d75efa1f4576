#include "engine/commands.hpp"

#include <cstdio>
#include <mutex>
#include <optional>
#include <sstream>
#include <stdexcept>
#include <utility>

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include "config/pipeline_config.hpp"
#include "engine/api_server.hpp"
#include "engine/command_support.hpp"
#include "engine/pipeline.hpp"
#include "engine/registry.hpp"

namespace slipway::commands {

void configure_logging(const GlobalOptions& options, const config::PipelineConfig* pipeline) {
  std::string level_name = "info";
  if (!options.log_level.empty()) {
    level_name = options.log_level;
  } else if (pipeline != nullptr && pipeline->log_level) {
    level_name = *pipeline->log_level;
  }
  logging::configure(options.log_format, logging::parse_level(level_name).value_or(spdlog::level::info));
}

namespace {

// Requests from the signal thread to the main thread, which runs one
// pipeline after another: stop, or replace the running pipeline by a new configuration.
class RunControl {
 public:
  // Sets the pipeline that stop and reload requests go to; null between pipelines.
  void attach(Pipeline* pipeline) {
    std::lock_guard lock(mutex_);
    current_ = pipeline;
    if (current_ != nullptr && (stop_ || next_)) {
      current_->request_stop();
    }
  }

  void request_stop() {
    std::lock_guard lock(mutex_);
    stop_ = true;
    next_.reset();
    if (current_ != nullptr) {
      current_->request_stop();
    }
  }

  // Drains the running pipeline so the main thread starts `config` next.
  void request_reload(config::PipelineConfig config) {
    std::lock_guard lock(mutex_);
    if (stop_) {
      return;
    }
    next_ = std::move(config);
    if (current_ != nullptr) {
      current_->request_stop();
    }
  }

  // The configuration to run next, when a reload is pending.
  std::optional<config::PipelineConfig> take_reload() {
    std::lock_guard lock(mutex_);
    return std::exchange(next_, std::nullopt);
  }

 private:
  std::mutex mutex_;
  Pipeline* current_ = nullptr;
  bool stop_ = false;
  std::optional<config::PipelineConfig> next_;
};

// Loads the pipeline file again after SIGHUP. A file with errors is logged
// and the running pipeline continues; a valid one replaces it after a drain.
void reload_pipeline(RunControl& control, const std::filesystem::path& config_file) {
  config::Errors errors;
  std::optional<config::PipelineConfig> config = load_checked_pipeline(config_file, errors);
  if (!config) {
    spdlog::error("Reload rejected: the pipeline file has errors; the running pipeline continues. file={}",
                  config_file.string());
    std::istringstream lines(errors.format());
    std::string line;
    while (std::getline(lines, line)) {
      spdlog::error("Reload rejected: {}", line);
    }
    return;
  }
  spdlog::info("Reloading: draining the running pipeline, then starting the new configuration. file={}",
               config_file.string());
  control.request_reload(std::move(*config));
}


// Problems components found in their settings while the pipeline was built.
struct ComponentSettingsError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

// Builds and starts a pipeline, and its API server when configured.
// Throws ComponentSettingsError for problems in the settings, and
// std::runtime_error when something cannot be opened or started.
std::unique_ptr<Pipeline> start_pipeline(const config::PipelineConfig& config, std::unique_ptr<ApiServer>& api) {
  config::Errors errors;
  std::unique_ptr<Pipeline> pipeline = Pipeline::build(config, errors);
  if (!pipeline) {
    throw ComponentSettingsError(errors.format());
  }
  if (config.api_address) {
    Pipeline& running = *pipeline;
    api = std::make_unique<ApiServer>([&running] { return running.prometheus_metrics(); },
                                      [&running] { return running.health(); });
    api->start(*config.api_address);
    spdlog::info("Serving /metrics and /health. address={} port={}", *config.api_address, api->port());
  }
  pipeline->start();
  spdlog::info("Started pipeline. file={} components={} data_dir={}", config.file, config.components.size(),
               config.data_dir.string());
  return pipeline;
}

void log_summary(const Pipeline& pipeline) {
  for (const ComponentSummary& row : pipeline.summary()) {
    spdlog::info("Summary: {} \"{}\" ({}): received={} sent={} dropped={} dead_lettered={} repaired={} errors={}",
                 component_kind_name(row.kind), row.id, row.type, row.received_events, row.sent_events,
                 row.dropped_events, row.dead_lettered_events, row.repaired_events, row.errors);
  }
}

}  // namespace

std::optional<config::PipelineConfig> load_checked_pipeline(const std::filesystem::path& config_file,
                                                           config::Errors& errors) {
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
  if (errors.has_errors()) {
    return std::nullopt;
  }
  return pipeline;
}

int validate(const std::filesystem::path& config_file, const GlobalOptions& options) {
  configure_logging(options, nullptr);
  config::Errors errors;
  std::optional<config::PipelineConfig> pipeline = load_checked_pipeline(config_file, errors);
  std::fputs(errors.format().c_str(), stderr);
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
  // Blocked first, so a stop signal arriving during startup waits for the
  // watcher instead of ending the process by default.
  block_stop_signals(true);
  configure_logging(options, nullptr);
  config::Errors errors;
  std::optional<config::PipelineConfig> next = load_checked_pipeline(config_file, errors);
  std::fputs(errors.format().c_str(), stderr);
  if (!next) {
    return kExitConfig;
  }
  configure_logging(options, &*next);

  RunControl control;
  SignalWatcher signals([&control] { control.request_stop(); },
                        [&control, &config_file] { reload_pipeline(control, config_file); });
  std::optional<config::PipelineConfig> running;  // the last configuration that started
  bool restoring = false;
  while (next) {
    config::PipelineConfig config = std::move(*next);
    next.reset();
    std::unique_ptr<Pipeline> pipeline;
    std::unique_ptr<ApiServer> api;
    try {
      pipeline = start_pipeline(config, api);
    } catch (const std::exception& exception) {
      api.reset();
      pipeline.reset();
      if (!running || restoring) {
        if (dynamic_cast<const ComponentSettingsError*>(&exception) != nullptr) {
          std::fputs(exception.what(), stderr);
          return kExitConfig;
        }
        spdlog::critical("Cannot run the pipeline. error=\"{}\"", exception.what());
        return kExitFailure;
      }
      // The new file passed every check but could not start (a port in use,
      // a file that cannot be opened): the previous configuration goes on.
      spdlog::error("Reload failed; starting the previous configuration again. error=\"{}\"", exception.what());
      next = running;
      restoring = true;
      continue;
    }
    if (restoring) {
      spdlog::info("Restarted the previous configuration.");
    } else if (running) {
      spdlog::info("Reloaded the pipeline file. file={}", config_file.string());
    }
    running = config;
    restoring = false;

    control.attach(pipeline.get());
    pipeline->wait();
    control.attach(nullptr);
    log_summary(*pipeline);
    spdlog::info("Stopped. dead_letter_file={}", pipeline->dead_letter_path().string());
    api.reset();
    pipeline.reset();
    next = control.take_reload();
  }
  return kExitOk;
}

}  // namespace slipway::commands
