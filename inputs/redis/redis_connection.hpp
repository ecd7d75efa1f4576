// A blocking connection to one Redis server through hiredis, shared by the
// `redis` input and output. It takes the server address from a redis:// or
// unix:// URL, sends AUTH with a password read from a file and SELECTs the
// database. Backoff paces reconnection, and Reply owns and frees replies.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <random>
#include <string>
#include <string_view>
#include <vector>

#include "config/errors.hpp"
#include "config/schema.hpp"

struct redisContext;
struct redisReply;

namespace slipway::redis {

struct Endpoint {
  std::string host;  // empty for a Unix socket
  int port = 6379;
  std::string socket_path;  // set for unix:///path
  int database = 0;

  // "redis://host:port/db" or "unix:///path?db=N", never with a password.
  std::string describe() const;
};

// Parses `redis://host[:port][/db]` or `unix:///path/to.sock[?db=N]`. On
// failure returns nullopt and sets `error` to what is wrong and the fix.
std::optional<Endpoint> parse_url(std::string_view url, std::string& error);

struct ConnectionSettings {
  Endpoint endpoint;
  std::string username;                     // empty: AUTH with the password only
  std::string password_file;                // empty: no AUTH
  std::chrono::milliseconds timeout{5000};  // connect and reply timeout
  std::chrono::milliseconds reconnect_initial{200};
  std::chrono::milliseconds reconnect_max{30'000};

  // Keys every redis component has: url, username, password_file,
  // timeout_ms, reconnect_initial_ms, reconnect_max_ms. A function rather
  // than a constant, because component schemas are built from it during
  // static initialization of other files.
  static std::vector<config::Field> fields();
  static ConnectionSettings parse(const config::Section& settings, config::Errors& errors);
};

// Reads the password file: its content without trailing line breaks.
// Throws std::runtime_error naming the file (never its content) when it
// cannot be read or is empty.
std::string read_password_file(const std::string& path);

class Reply {
 public:
  Reply() = default;
  explicit Reply(redisReply* reply) : reply_(reply) {}

  explicit operator bool() const { return reply_ != nullptr; }
  const redisReply* get() const { return reply_.get(); }
  bool is_error() const;
  bool is_nil() const;
  bool is_array() const;
  // The text of a string, status or error reply; empty otherwise.
  std::string_view text() const;
  long long integer() const;

 private:
  struct Free {
    void operator()(redisReply* reply) const;
  };
  std::unique_ptr<redisReply, Free> reply_;
};

// The text of a string, status or error element; empty otherwise.
std::string_view element_text(const redisReply* element);

class Connection {
 public:
  explicit Connection(ConnectionSettings settings, std::string password = {});
  ~Connection();
  Connection(const Connection&) = delete;
  Connection& operator=(const Connection&) = delete;

  // Connects, authenticates and selects the database. Returns false with
  // error() set when any step fails; the connection is then closed.
  bool connect();
  bool connected() const { return context_ != nullptr; }
  void close();
  // Why the last step failed; never contains the password.
  const std::string& error() const { return error_; }
  const ConnectionSettings& settings() const { return settings_; }

  // Sends one command and waits for its reply. An empty Reply means the
  // connection failed; it is then closed and error() says why. An error
  // reply from the server is returned as a Reply, not as a failure.
  Reply command(const std::vector<std::string_view>& arguments);

  // Pipelining: queue commands, then read their replies in order. A false
  // or empty result means the connection failed and was closed.
  bool append(const std::vector<std::string_view>& arguments);
  Reply read_reply();

  // Waits up to `timeout` for a reply pushed by the server (pub/sub).
  // Returns an empty Reply with `failed` false when none arrived in time,
  // and with `failed` true when the connection broke.
  Reply wait_for_push(std::chrono::milliseconds timeout, bool& failed);

  // Changes the reply timeout, e.g. above the BLOCK time of a blocking read.
  void set_timeout(std::chrono::milliseconds timeout);

 private:
  void fail(std::string_view operation);

  ConnectionSettings settings_;
  std::string password_;
  redisContext* context_ = nullptr;
  std::string error_;
};

// Exponential backoff with jitter for reconnecting.
class Backoff {
 public:
  Backoff(std::chrono::milliseconds initial, std::chrono::milliseconds max) : initial_(initial), max_(max) {}

  // The delay before the next attempt, growing up to the maximum.
  std::chrono::milliseconds next();
  void reset() { attempt_ = 0; }
  std::uint32_t attempts() const { return attempt_; }

 private:
  std::chrono::milliseconds initial_;
  std::chrono::milliseconds max_;
  std::uint32_t attempt_ = 0;
  std::mt19937_64 random_{std::random_device{}()};
};

// The default consumer name: host name and process id, e.g. "sensor1-4242".
std::string default_consumer_name();

}  // namespace slipway::redis
