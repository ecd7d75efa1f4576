#include "tests/support/redis_server.hpp"

#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstdlib>
#include <sstream>
#include <stdexcept>

#include <fmt/format.h>

namespace slipway::testing {

namespace {

// A port the kernel hands out as free. Another process could take it
// before redis-server binds it, so start() retries with a new port.
int free_loopback_port() {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  address.sin_port = 0;
  socklen_t length = sizeof(address);
  if (fd < 0 || ::bind(fd, reinterpret_cast<sockaddr*>(&address), sizeof(address)) != 0 ||
      ::getsockname(fd, reinterpret_cast<sockaddr*>(&address), &length) != 0) {
    if (fd >= 0) {
      ::close(fd);
    }
    throw std::runtime_error("cannot find a free loopback port");
  }
  const int port = ntohs(address.sin_port);
  ::close(fd);
  return port;
}

redis::ConnectionSettings settings_for(const std::string& url) {
  std::string error;
  redis::ConnectionSettings settings;
  settings.endpoint = *redis::parse_url(url, error);
  settings.timeout = std::chrono::seconds(5);
  return settings;
}

}  // namespace

std::filesystem::path RedisServer::binary() {
  const char* path = std::getenv("PATH");
  std::istringstream directories(path != nullptr ? path : "/usr/bin:/bin");
  for (std::string directory; std::getline(directories, directory, ':');) {
    const std::filesystem::path candidate = std::filesystem::path(directory) / "redis-server";
    if (::access(candidate.c_str(), X_OK) == 0) {
      return candidate;
    }
  }
  return {};
}

const char* RedisServer::missing_message() {
  return "redis-server is not installed; install the Debian package redis-server (make deps does)";
}

RedisServer::RedisServer(std::string password, std::vector<std::string> extra_arguments)
    : password_(std::move(password)), extra_arguments_(std::move(extra_arguments)) {
  socket_path_ = dir_ / "redis.sock";
  port_ = free_loopback_port();
  start();
}

RedisServer::~RedisServer() { stop(); }

std::string RedisServer::url(int database) const { return fmt::format("redis://127.0.0.1:{}/{}", port_, database); }

std::string RedisServer::unix_url() const { return fmt::format("unix://{}", socket_path_.string()); }

void RedisServer::start() {
  constexpr int kAttempts = 3;
  for (int attempt = 1; attempt <= kAttempts; ++attempt) {
    std::vector<std::string> arguments = {binary().string(),
                                          "--port",
                                          std::to_string(port_),
                                          "--bind",
                                          "127.0.0.1",
                                          "--unixsocket",
                                          socket_path_.string(),
                                          "--unixsocketperm",
                                          "700",
                                          "--save",
                                          "",
                                          "--appendonly",
                                          "no",
                                          "--dir",
                                          dir_.path().string(),
                                          "--daemonize",
                                          "no",
                                          "--loglevel",
                                          "warning"};
    if (!password_.empty()) {
      arguments.insert(arguments.end(), {"--requirepass", password_});
    }
    arguments.insert(arguments.end(), extra_arguments_.begin(), extra_arguments_.end());
    process_ = std::make_unique<ChildProcess>(arguments, dir_ / "redis.out", dir_ / "redis.err");

    const bool ready = wait_until(
        [&] {
          redis::Connection connection(settings_for(url()), password_);
          return connection.connect() && connection.command({"PING"}).text() == "PONG";
        },
        std::chrono::seconds(5));
    if (ready) {
      return;
    }
    stop();
    port_ = free_loopback_port();
  }
  throw std::runtime_error(fmt::format("redis-server did not start; see {}", (dir_ / "redis.out").string()));
}

void RedisServer::stop() {
  if (!process_) {
    return;
  }
  process_->send_signal(SIGTERM);
  process_->wait(std::chrono::seconds(5));
  process_.reset();
}

std::unique_ptr<redis::Connection> RedisServer::client() const {
  auto connection = std::make_unique<redis::Connection>(settings_for(url()), password_);
  if (!connection->connect()) {
    throw std::runtime_error("cannot connect to the test redis-server: " + connection->error());
  }
  return connection;
}

redis::Reply RedisServer::command(const std::vector<std::string_view>& arguments) const {
  return client()->command(arguments);
}

}  // namespace slipway::testing
