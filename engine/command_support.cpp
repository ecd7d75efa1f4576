#include "engine/command_support.hpp"

#include <signal.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>

#include <spdlog/spdlog.h>

#include "engine/commands.hpp"

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
  std::optional<config::PipelineConfig> pipeline = load_checked_pipeline(config_file, errors);
  std::fputs(errors.format().c_str(), stderr);
  return pipeline;
}

void block_stop_signals() {
  const sigset_t signals = stop_signals();
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);
}

StopSignalWatcher::StopSignalWatcher(std::function<void()> on_stop) : on_stop_(std::move(on_stop)), signals_(stop_signals()) {
  thread_ = std::thread([this] { watch(); });
}

StopSignalWatcher::~StopSignalWatcher() {
  done_.store(true);
  thread_.join();
}

void StopSignalWatcher::watch() {
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

}  // namespace slipway::commands
