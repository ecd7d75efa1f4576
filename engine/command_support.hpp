// Steps the commands other than `run` share: loading and checking a
// pipeline file with the problems printed, and turning SIGINT/SIGTERM into
// a drain. `run` has its own watcher, which also reloads on SIGHUP.
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

// Runs load_checked_pipeline() and prints the problems it found.
std::optional<config::PipelineConfig> load_and_check(const std::filesystem::path& config_file);

// Blocks SIGINT and SIGTERM in the calling thread. Threads inherit the
// mask, so calling this before any thread starts keeps the signals for
// the watcher alone.
void block_stop_signals();

// Waits for signals that every thread blocks, without polling: a signalfd
// delivers them, and wake() ends a wait at once, so a watcher thread joins
// without delaying the exit.
class SignalWaiter {
 public:
  explicit SignalWaiter(const sigset_t& signals);
  ~SignalWaiter();
  SignalWaiter(const SignalWaiter&) = delete;
  SignalWaiter& operator=(const SignalWaiter&) = delete;

  // Returns the next signal's number, or 0 once wake() was called.
  int wait();
  void wake();

 private:
  int signal_fd_ = -1;
  int wake_fd_ = -1;
};

// Waits for SIGINT or SIGTERM on its own thread. The first signal calls
// `on_stop`; a second one exits at once without draining.
class StopSignalWatcher {
 public:
  explicit StopSignalWatcher(std::function<void()> on_stop);
  ~StopSignalWatcher();
  StopSignalWatcher(const StopSignalWatcher&) = delete;
  StopSignalWatcher& operator=(const StopSignalWatcher&) = delete;

 private:
  void watch();

  std::function<void()> on_stop_;
  SignalWaiter waiter_;
  std::thread thread_;
};

}  // namespace slipway::commands
