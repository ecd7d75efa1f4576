#include "engine/command_support.hpp"

#include <poll.h>
#include <signal.h>
#include <sys/eventfd.h>
#include <sys/signalfd.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <stdexcept>

#include <fmt/format.h>

#include <spdlog/spdlog.h>

#include "engine/commands.hpp"

namespace slipway::commands {

namespace {

sigset_t stop_signals(bool with_reload) {
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGINT);
  sigaddset(&signals, SIGTERM);
  if (with_reload) {
    sigaddset(&signals, SIGHUP);
  }
  return signals;
}

}  // namespace

std::optional<config::PipelineConfig> load_and_check(const std::filesystem::path& config_file) {
  config::Errors errors;
  std::optional<config::PipelineConfig> pipeline = load_checked_pipeline(config_file, errors);
  std::fputs(errors.format().c_str(), stderr);
  return pipeline;
}

void block_stop_signals(bool with_reload) {
  const sigset_t signals = stop_signals(with_reload);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);
}

SignalWaiter::SignalWaiter(const sigset_t& signals)
    : signal_fd_(::signalfd(-1, &signals, SFD_CLOEXEC)), wake_fd_(::eventfd(0, EFD_CLOEXEC)) {
  if (signal_fd_ < 0 || wake_fd_ < 0) {
    throw std::runtime_error(fmt::format("failed to watch for signals: {}", std::strerror(errno)));
  }
}

SignalWaiter::~SignalWaiter() {
  ::close(signal_fd_);
  ::close(wake_fd_);
}

int SignalWaiter::wait() {
  while (true) {
    pollfd fds[2] = {{signal_fd_, POLLIN, 0}, {wake_fd_, POLLIN, 0}};
    if (::poll(fds, 2, -1) < 0) {
      if (errno == EINTR) {
        continue;
      }
      throw std::runtime_error(fmt::format("failed to wait for signals: {}", std::strerror(errno)));
    }
    if ((fds[1].revents & POLLIN) != 0) {
      return 0;
    }
    signalfd_siginfo info{};
    if ((fds[0].revents & POLLIN) != 0 && ::read(signal_fd_, &info, sizeof info) == sizeof info) {
      return static_cast<int>(info.ssi_signo);
    }
  }
}

void SignalWaiter::wake() {
  const std::uint64_t one = 1;
  [[maybe_unused]] const ssize_t written = ::write(wake_fd_, &one, sizeof one);
}

SignalWatcher::SignalWatcher(std::function<void()> on_stop, std::function<void()> on_reload)
    : on_stop_(std::move(on_stop)), on_reload_(std::move(on_reload)), waiter_(stop_signals(bool(on_reload_))) {
  thread_ = std::thread([this] { watch(); });
}

SignalWatcher::~SignalWatcher() {
  waiter_.wake();
  thread_.join();
}

void SignalWatcher::watch() {
  int received = 0;
  while (const int signal_number = waiter_.wait()) {
    if (signal_number == SIGHUP) {
      on_reload_();
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
