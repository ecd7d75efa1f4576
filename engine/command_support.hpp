// Steps the commands share: loading and checking a pipeline file, logging
// set-up, and turning SIGINT/SIGTERM into a drain.
#pragma once

#include <atomic>
#include <filesystem>
#include <functional>
#include <optional>
#include <thread>

#include <signal.h>

#include "config/pipeline_config.hpp"
#include "engine/commands.hpp"
#include "engine/pipeline.hpp"

namespace slipway::commands {

// Loads the file and lets every component check its settings, without
// opening anything; prints the problems found.
std::optional<config::PipelineConfig> load_and_check(const std::filesystem::path& config_file);

// Sets the log level from the command line, else from the pipeline file, else info.
void configure_logging(const GlobalOptions& options, const config::PipelineConfig* pipeline);

// Blocks SIGINT and SIGTERM in the calling thread. Threads inherit the
// mask, so calling this before any thread starts keeps the signals for
// the watcher alone.
void block_stop_signals();

// Waits for SIGINT or SIGTERM on its own thread. The first signal calls
// `on_stop`; a second one exits at once without draining.
class SignalWatcher {
 public:
  explicit SignalWatcher(std::function<void()> on_stop);
  ~SignalWatcher();
  SignalWatcher(const SignalWatcher&) = delete;
  SignalWatcher& operator=(const SignalWatcher&) = delete;

 private:
  void watch();

  std::function<void()> on_stop_;
  sigset_t signals_{};
  std::atomic<bool> done_{false};
  std::thread thread_;
};

// Logs each component's counters.
void log_summary(const Pipeline& pipeline);

}  // namespace slipway::commands
