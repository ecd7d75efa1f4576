#include "tests/support/process.hpp"

#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <fstream>
#include <stdexcept>
#include <thread>

namespace slipway::testing {

namespace {

constexpr auto kPollInterval = std::chrono::milliseconds(5);

}  // namespace

ChildProcess::ChildProcess(const std::vector<std::string>& arguments, const std::filesystem::path& stdout_path,
                           const std::filesystem::path& stderr_path,
                           const std::map<std::string, std::string>& environment) {
  pid_ = ::fork();
  if (pid_ < 0) {
    throw std::runtime_error("fork failed");
  }
  if (pid_ > 0) {
    return;
  }

  // Child: only async-signal-safe work until exec.
  const int out = ::open(stdout_path.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
  const int err = ::open(stderr_path.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
  ::dup2(out, STDOUT_FILENO);
  ::dup2(err, STDERR_FILENO);
  for (const auto& [name, value] : environment) {
    ::setenv(name.c_str(), value.c_str(), 1);
  }
  std::vector<char*> argv;
  for (const std::string& argument : arguments) {
    argv.push_back(const_cast<char*>(argument.c_str()));
  }
  argv.push_back(nullptr);
  ::execv(argv[0], argv.data());
  ::_exit(127);
}

ChildProcess::~ChildProcess() {
  if (pid_ > 0 && !reaped_) {
    ::kill(pid_, SIGKILL);
    ::waitpid(pid_, nullptr, 0);
  }
}

void ChildProcess::send_signal(int signal_number) {
  if (pid_ > 0 && !reaped_) {
    ::kill(pid_, signal_number);
  }
}

std::optional<int> ChildProcess::wait(std::chrono::milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (true) {
    int status = 0;
    const pid_t result = ::waitpid(pid_, &status, WNOHANG);
    if (result == pid_) {
      reaped_ = true;
      if (WIFEXITED(status)) {
        return WEXITSTATUS(status);
      }
      return 128 + WTERMSIG(status);
    }
    if (std::chrono::steady_clock::now() >= deadline) {
      ::kill(pid_, SIGKILL);
      ::waitpid(pid_, nullptr, 0);
      reaped_ = true;
      return std::nullopt;
    }
    std::this_thread::sleep_for(kPollInterval);
  }
}

std::string slipway_binary() { return SLIPWAY_BINARY; }

int run_slipway(const std::vector<std::string>& arguments, const std::filesystem::path& stdout_path,
                const std::filesystem::path& stderr_path, const std::map<std::string, std::string>& environment,
                std::chrono::milliseconds timeout) {
  std::vector<std::string> command = {slipway_binary()};
  command.insert(command.end(), arguments.begin(), arguments.end());
  ChildProcess process(command, stdout_path, stderr_path, environment);
  return process.wait(timeout).value_or(-1);
}

bool wait_until(const std::function<bool()>& condition, std::chrono::milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (!condition()) {
    if (std::chrono::steady_clock::now() >= deadline) {
      return false;
    }
    std::this_thread::sleep_for(kPollInterval);
  }
  return true;
}

std::size_t count_lines(const std::filesystem::path& path) {
  std::ifstream stream(path, std::ios::binary);
  std::size_t lines = 0;
  std::string line;
  while (std::getline(stream, line)) {
    ++lines;
  }
  return lines;
}

}  // namespace slipway::testing
