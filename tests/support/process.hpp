// Runs the slipway binary as a child process, for tests of the command
// line, signals and restarts.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <filesystem>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace slipway::testing {

class ChildProcess {
 public:
  // Starts `arguments[0]` with the rest as arguments; standard output and
  // error go to the given files. `environment` adds or replaces variables.
  ChildProcess(const std::vector<std::string>& arguments, const std::filesystem::path& stdout_path,
               const std::filesystem::path& stderr_path, const std::map<std::string, std::string>& environment = {});
  ~ChildProcess();
  ChildProcess(const ChildProcess&) = delete;
  ChildProcess& operator=(const ChildProcess&) = delete;

  pid_t pid() const { return pid_; }
  void send_signal(int signal_number);
  // Waits for the exit; the exit code, 128 + signal number for a process
  // ended by a signal, or std::nullopt on timeout (the process is then killed).
  std::optional<int> wait(std::chrono::milliseconds timeout);

 private:
  pid_t pid_ = -1;
  bool reaped_ = false;
};

// Runs slipway with `arguments` to completion; returns the exit code.
int run_slipway(const std::vector<std::string>& arguments, const std::filesystem::path& stdout_path,
                const std::filesystem::path& stderr_path, const std::map<std::string, std::string>& environment = {},
                std::chrono::milliseconds timeout = std::chrono::seconds(60));

std::string slipway_binary();

// Checks `condition` every few milliseconds until it is true or `timeout`
// passes; returns whether it became true.
bool wait_until(const std::function<bool()>& condition, std::chrono::milliseconds timeout);

// Number of lines in a file (0 when missing).
std::size_t count_lines(const std::filesystem::path& path);

}  // namespace slipway::testing
