// A real redis-server for tests: started on a free loopback port (and a
// Unix socket) in its own temporary directory, without persistence, and
// ended by its process id. Tests skip when redis-server is not installed.
#pragma once

#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "inputs/redis/redis_connection.hpp"
#include "tests/support/process.hpp"
#include "tests/support/temp_dir.hpp"

namespace slipway::testing {

class RedisServer {
 public:
  // Path of redis-server, or empty when it is not installed.
  static std::filesystem::path binary();
  // The message tests skip with when redis-server is missing.
  static const char* missing_message();

  // Starts the server; `password` turns on requirepass, and
  // `extra_arguments` are more redis-server options. Throws when it does
  // not reply to PING within a few seconds.
  explicit RedisServer(std::string password = {}, std::vector<std::string> extra_arguments = {});
  ~RedisServer();
  RedisServer(const RedisServer&) = delete;
  RedisServer& operator=(const RedisServer&) = delete;

  int port() const { return port_; }
  pid_t pid() const { return process_ ? process_->pid() : -1; }
  std::string url(int database = 0) const;
  std::string unix_url() const;
  const std::filesystem::path& socket_path() const { return socket_path_; }

  // Ends the server (SIGTERM, then SIGKILL after a few seconds).
  void stop();
  // Starts it again on the same port; the data is gone.
  void start();

  // A new client connection; throws when it cannot connect.
  std::unique_ptr<redis::Connection> client() const;
  // Runs one command on a fresh connection and returns its reply.
  redis::Reply command(const std::vector<std::string_view>& arguments) const;

 private:
  TempDir dir_;
  std::string password_;
  std::vector<std::string> extra_arguments_;
  int port_ = 0;
  std::filesystem::path socket_path_;
  std::unique_ptr<ChildProcess> process_;
};

}  // namespace slipway::testing
