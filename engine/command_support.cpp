#include "engine/command_support.hpp"

#include <signal.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>

#include <spdlog/spdlog.h>

#include "engine/commands.hpp"
#include "engine/registry.hpp"

namespace slipway::commands {

namespace {

sigset_t stop_signals() {
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGINT);
  sigaddset(&signals, SIGTERM);
  return signals;
}

}  // namespace

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

void block_stop_signals() {
  const sigset_t signals = stop_signals();
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);
}

SignalWatcher::SignalWatcher(std::function<void()> on_stop) : on_stop_(std::move(on_stop)), signals_(stop_signals()) {
  thread_ = std::thread([this] { watch(); });
}

SignalWatcher::~SignalWatcher() {
  done_.store(true);
  thread_.join();
}

void SignalWatcher::watch() {
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
      on_stop_();
    } else {
      // A second signal means the user will not wait; checkpoints only
      // cover delivered events, so undelivered ones are read again later.
      spdlog::warn("Second signal: exiting without draining. signal={}", strsignal(signal_number));
      std::_Exit(kExitFailure);
    }
  }
}

void log_summary(const Pipeline& pipeline) {
  for (const ComponentSummary& row : pipeline.summary()) {
    spdlog::info("Summary: {} \"{}\" ({}): received={} sent={} dropped={} dead_lettered={} repaired={} errors={}",
                 component_kind_name(row.kind), row.id, row.type, row.received_events, row.sent_events,
                 row.dropped_events, row.dead_lettered_events, row.repaired_events, row.errors);
  }
}

}  // namespace slipway::commands
