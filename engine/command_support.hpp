// Steps the commands share: loading and checking a pipeline file with the
// problems printed, and turning SIGINT/SIGTERM into a drain and SIGHUP
// into a reload.
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

// Blocks SIGINT and SIGTERM, and SIGHUP when `with_reload`, in the calling
// thread. Threads inherit the mask, so calling this before any thread starts
// keeps the signals for the watcher alone.
void block_stop_signals(bool with_reload = false);

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

// Waits for signals on its own thread. The first SIGINT or SIGTERM calls
// `on_stop`, and a second one exits at once without draining. With
// `on_reload`, each SIGHUP calls it; without, SIGHUP is not watched.
class SignalWatcher {
 public:
  explicit SignalWatcher(std::function<void()> on_stop, std::function<void()> on_reload = {});
  ~SignalWatcher();
  SignalWatcher(const SignalWatcher&) = delete;
  SignalWatcher& operator=(const SignalWatcher&) = delete;

 private:
  void watch();

  std::function<void()> on_stop_;
  std::function<void()> on_reload_;
  SignalWaiter waiter_;
  std::thread thread_;
};

}  // namespace slipway::commands
