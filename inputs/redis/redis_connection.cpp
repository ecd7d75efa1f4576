#include "inputs/redis/redis_connection.hpp"

#include <poll.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <climits>
#include <cstring>
#include <fstream>
#include <sstream>
#include <stdexcept>

#include <fmt/format.h>
#include <hiredis/hiredis.h>

namespace slipway::redis {

namespace {

constexpr std::string_view kTcpScheme = "redis://";
constexpr std::string_view kUnixScheme = "unix://";
constexpr std::string_view kUrlForms = "use redis://HOST:PORT/DB or unix:///PATH/TO.sock";

std::optional<int> parse_number(std::string_view text, int min, int max) {
  int value = 0;
  const auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (text.empty() || error != std::errc() || end != text.data() + text.size() || value < min || value > max) {
    return std::nullopt;
  }
  return value;
}

std::optional<Endpoint> parse_unix_url(std::string_view rest, std::string& error) {
  Endpoint endpoint;
  const std::size_t query = rest.find('?');
  endpoint.socket_path = std::string(rest.substr(0, query));
  if (endpoint.socket_path.empty() || endpoint.socket_path.front() != '/') {
    error = fmt::format("the socket path must be absolute; {}", kUrlForms);
    return std::nullopt;
  }
  if (query != std::string_view::npos) {
    const std::string_view parameter = rest.substr(query + 1);
    const std::optional<int> database =
        parameter.starts_with("db=") ? parse_number(parameter.substr(3), 0, INT_MAX) : std::nullopt;
    if (!database) {
      error = fmt::format("unknown query \"{}\"; the only one is ?db=N", parameter);
      return std::nullopt;
    }
    endpoint.database = *database;
  }
  return endpoint;
}

std::optional<Endpoint> parse_tcp_url(std::string_view rest, std::string& error) {
  Endpoint endpoint;
  if (rest.find('@') != std::string_view::npos) {
    error =
        "a password in the URL would be visible in logs and configuration dumps; put it in the file named by "
        "password_file and the user name in username";
    return std::nullopt;
  }
  const std::size_t slash = rest.find('/');
  const std::string_view authority = rest.substr(0, slash);
  // An IPv6 address is written in brackets, so its colons are not a port.
  std::string_view host = authority;
  std::string_view port_text;
  if (authority.starts_with('[')) {
    const std::size_t closing = authority.find(']');
    host = authority.substr(1, closing == std::string_view::npos ? std::string_view::npos : closing - 1);
    if (closing != std::string_view::npos && closing + 1 < authority.size()) {
      port_text = authority[closing + 1] == ':' ? authority.substr(closing + 2) : authority.substr(closing + 1);
    }
  } else if (const std::size_t colon = authority.rfind(':'); colon != std::string_view::npos) {
    host = authority.substr(0, colon);
    port_text = authority.substr(colon + 1);
  }
  if (host.empty()) {
    error = fmt::format("the host is missing; {}", kUrlForms);
    return std::nullopt;
  }
  endpoint.host = std::string(host);
  if (!port_text.empty()) {
    const std::optional<int> port = parse_number(port_text, 1, 65535);
    if (!port) {
      error = fmt::format("port \"{}\" is not a number from 1 to 65535", port_text);
      return std::nullopt;
    }
    endpoint.port = *port;
  }
  if (slash != std::string_view::npos && slash + 1 < rest.size()) {
    const std::optional<int> database = parse_number(rest.substr(slash + 1), 0, INT_MAX);
    if (!database) {
      error = fmt::format("database \"{}\" is not a number; write the database index after the port, e.g. /0",
                          rest.substr(slash + 1));
      return std::nullopt;
    }
    endpoint.database = *database;
  }
  return endpoint;
}

}  // namespace

std::string Endpoint::describe() const {
  if (!socket_path.empty()) {
    return database == 0 ? fmt::format("unix://{}", socket_path)
                         : fmt::format("unix://{}?db={}", socket_path, database);
  }
  const bool ipv6 = host.find(':') != std::string::npos;
  return ipv6 ? fmt::format("redis://[{}]:{}/{}", host, port, database)
              : fmt::format("redis://{}:{}/{}", host, port, database);
}

std::optional<Endpoint> parse_url(std::string_view url, std::string& error) {
  if (url.starts_with(kTcpScheme)) {
    return parse_tcp_url(url.substr(kTcpScheme.size()), error);
  }
  if (url.starts_with(kUnixScheme)) {
    return parse_unix_url(url.substr(kUnixScheme.size()), error);
  }
  if (url.starts_with("rediss://")) {
    // TODO: TLS to Redis — Debian 12's hiredis 0.14 is built without it,
    // so a remote server needs a TLS tunnel or a Unix socket.
    error = fmt::format("TLS (rediss://) is not supported; {}, through a TLS tunnel for a remote server", kUrlForms);
    return std::nullopt;
  }
  error = fmt::format("unknown scheme; {}", kUrlForms);
  return std::nullopt;
}

std::vector<config::Field> ConnectionSettings::fields() {
  return {
      config::Field{.name = "url",
                    .type = config::FieldType::String,
                    .doc = "Server to connect to: redis://HOST:PORT/DB or unix:///PATH/TO.sock?db=N",
                    .default_text = "redis://127.0.0.1:6379/0"},
      config::Field{.name = "username",
                    .type = config::FieldType::String,
                    .doc = "User for AUTH with Redis ACLs; without it AUTH sends the password alone"},
      config::Field{.name = "password_file",
                    .type = config::FieldType::String,
                    .doc = "File holding the password for AUTH; without it no AUTH is sent"},
      config::Field{.name = "timeout_ms",
                    .type = config::FieldType::Integer,
                    .doc = "Longest wait for a connection or a reply, in milliseconds",
                    .default_text = "5000",
                    .min = 1,
                    .max = 600'000},
      config::Field{.name = "reconnect_initial_ms",
                    .type = config::FieldType::Integer,
                    .doc = "Delay before the first reconnection attempt, doubled after each failure, in "
                           "milliseconds",
                    .default_text = "200",
                    .min = 1,
                    .max = 600'000},
      config::Field{.name = "reconnect_max_ms",
                    .type = config::FieldType::Integer,
                    .doc = "Longest delay between reconnection attempts, in milliseconds",
                    .default_text = "30000",
                    .min = 1,
                    .max = 3'600'000},
  };
}

ConnectionSettings ConnectionSettings::parse(const config::Section& settings, config::Errors& errors) {
  ConnectionSettings parsed;
  std::string error;
  const std::string url = settings.string("url");
  if (std::optional<Endpoint> endpoint = parse_url(url, error)) {
    parsed.endpoint = std::move(*endpoint);
  } else {
    // The URL may contain a password, so the message does not repeat it.
    errors.add(settings.location("url"),
               fmt::format("{}: key \"url\": invalid Redis URL: {}", settings.context(), error));
  }
  parsed.username = settings.string("username");
  parsed.password_file = settings.string("password_file");
  parsed.timeout = std::chrono::milliseconds(settings.integer("timeout_ms"));
  parsed.reconnect_initial = std::chrono::milliseconds(settings.integer("reconnect_initial_ms"));
  parsed.reconnect_max = std::chrono::milliseconds(settings.integer("reconnect_max_ms"));
  if (parsed.reconnect_max < parsed.reconnect_initial) {
    errors.add(settings.location("reconnect_max_ms"),
               fmt::format("{}: key \"reconnect_max_ms\" ({}) is below reconnect_initial_ms ({}); raise it",
                           settings.context(), parsed.reconnect_max.count(), parsed.reconnect_initial.count()));
  }
  if (!parsed.username.empty() && parsed.password_file.empty()) {
    errors.add(settings.location("username"),
               fmt::format("{}: key \"username\" needs password_file, the file holding that user's password",
                           settings.context()));
  }
  return parsed;
}

std::string read_password_file(const std::string& path) {
  std::ifstream stream(path, std::ios::binary);
  if (!stream) {
    throw std::runtime_error(fmt::format("password_file {} cannot be read: {}; check the path and its permissions",
                                         path, std::strerror(errno)));
  }
  std::ostringstream content;
  content << stream.rdbuf();
  std::string password = content.str();
  while (!password.empty() && (password.back() == '\n' || password.back() == '\r')) {
    password.pop_back();
  }
  if (password.empty()) {
    throw std::runtime_error(fmt::format("password_file {} is empty; write the password into it", path));
  }
  return password;
}

bool Reply::is_error() const { return reply_ && reply_->type == REDIS_REPLY_ERROR; }
bool Reply::is_nil() const { return reply_ && reply_->type == REDIS_REPLY_NIL; }
bool Reply::is_array() const { return reply_ && reply_->type == REDIS_REPLY_ARRAY; }
std::string_view Reply::text() const { return element_text(reply_.get()); }
long long Reply::integer() const { return reply_ && reply_->type == REDIS_REPLY_INTEGER ? reply_->integer : 0; }

void Reply::Free::operator()(redisReply* reply) const { freeReplyObject(reply); }

std::string_view element_text(const redisReply* element) {
  if (element == nullptr) {
    return {};
  }
  switch (element->type) {
    case REDIS_REPLY_STRING:
    case REDIS_REPLY_STATUS:
    case REDIS_REPLY_ERROR:
      return std::string_view(element->str, element->len);
    default:
      return {};
  }
}

Connection::Connection(ConnectionSettings settings, std::string password)
    : settings_(std::move(settings)), password_(std::move(password)) {}

Connection::~Connection() { close(); }

void Connection::close() {
  if (context_ != nullptr) {
    redisFree(context_);
    context_ = nullptr;
  }
}

void Connection::fail(std::string_view operation) {
  error_ = context_ != nullptr && context_->err != 0 ? fmt::format("{}: {}", operation, context_->errstr)
                                                     : std::string(operation);
  close();
}

bool Connection::connect() {
  close();
  const timeval timeout{static_cast<time_t>(settings_.timeout.count() / 1000),
                        static_cast<suseconds_t>((settings_.timeout.count() % 1000) * 1000)};
  const Endpoint& endpoint = settings_.endpoint;
  context_ = endpoint.socket_path.empty() ? redisConnectWithTimeout(endpoint.host.c_str(), endpoint.port, timeout)
                                          : redisConnectUnixWithTimeout(endpoint.socket_path.c_str(), timeout);
  if (context_ == nullptr) {
    error_ = "cannot allocate a Redis connection";
    return false;
  }
  if (context_->err != 0) {
    fail(fmt::format("cannot connect to {}", endpoint.describe()));
    return false;
  }
  redisSetTimeout(context_, timeout);

  if (!password_.empty()) {
    Reply reply =
        settings_.username.empty() ? command({"AUTH", password_}) : command({"AUTH", settings_.username, password_});
    if (!reply) {
      return false;
    }
    if (reply.is_error()) {
      // The server's text names the problem (WRONGPASS, no password set)
      // and never echoes the password.
      fail(fmt::format("AUTH at {} failed: {}", endpoint.describe(), reply.text()));
      return false;
    }
  }
  if (endpoint.database != 0) {
    const std::string database = std::to_string(endpoint.database);
    Reply reply = command({"SELECT", database});
    if (!reply) {
      return false;
    }
    if (reply.is_error()) {
      fail(fmt::format("SELECT {} at {} failed: {}", database, endpoint.describe(), reply.text()));
      return false;
    }
  }
  error_.clear();
  return true;
}

bool Connection::append(const std::vector<std::string_view>& arguments) {
  if (context_ == nullptr) {
    error_ = "not connected";
    return false;
  }
  std::vector<const char*> pointers;
  std::vector<std::size_t> lengths;
  pointers.reserve(arguments.size());
  lengths.reserve(arguments.size());
  for (std::string_view argument : arguments) {
    pointers.push_back(argument.data());
    lengths.push_back(argument.size());
  }
  if (redisAppendCommandArgv(context_, static_cast<int>(arguments.size()), pointers.data(), lengths.data()) !=
      REDIS_OK) {
    fail("cannot queue a command");
    return false;
  }
  return true;
}

Reply Connection::read_reply() {
  if (context_ == nullptr) {
    error_ = "not connected";
    return Reply();
  }
  void* reply = nullptr;
  if (redisGetReply(context_, &reply) != REDIS_OK || reply == nullptr) {
    fail(fmt::format("connection to {} failed", settings_.endpoint.describe()));
    return Reply();
  }
  return Reply(static_cast<redisReply*>(reply));
}

Reply Connection::command(const std::vector<std::string_view>& arguments) {
  if (!append(arguments)) {
    return Reply();
  }
  return read_reply();
}

Reply Connection::wait_for_push(std::chrono::milliseconds timeout, bool& failed) {
  failed = false;
  if (context_ == nullptr) {
    failed = true;
    error_ = "not connected";
    return Reply();
  }
  void* reply = nullptr;
  // A reply already buffered is returned without touching the socket.
  if (redisGetReplyFromReader(context_, &reply) != REDIS_OK) {
    failed = true;
    fail("invalid reply");
    return Reply();
  }
  if (reply != nullptr) {
    return Reply(static_cast<redisReply*>(reply));
  }

  // Waiting with poll() instead of the socket timeout keeps the connection
  // usable: hiredis treats a timed-out read as a broken connection.
  pollfd descriptor{context_->fd, POLLIN, 0};
  const int ready = ::poll(&descriptor, 1, static_cast<int>(timeout.count()));
  if (ready == 0 || (ready < 0 && errno == EINTR)) {
    return Reply();
  }
  if (ready < 0 || redisBufferRead(context_) != REDIS_OK || redisGetReplyFromReader(context_, &reply) != REDIS_OK) {
    failed = true;
    fail(fmt::format("connection to {} failed", settings_.endpoint.describe()));
    return Reply();
  }
  return Reply(static_cast<redisReply*>(reply));
}

void Connection::set_timeout(std::chrono::milliseconds timeout) {
  if (context_ != nullptr) {
    const timeval value{static_cast<time_t>(timeout.count() / 1000),
                        static_cast<suseconds_t>((timeout.count() % 1000) * 1000)};
    redisSetTimeout(context_, value);
  }
}

std::chrono::milliseconds Backoff::next() {
  const std::int64_t initial = initial_.count();
  const std::int64_t cap = max_.count();
  const std::uint32_t doublings = std::min<std::uint32_t>(attempt_, 30);
  ++attempt_;
  const std::int64_t full = std::min<std::int64_t>(cap, initial << doublings);
  // Reconnecting processes spread out over the upper half of the delay.
  std::uniform_int_distribution<std::int64_t> jitter(full / 2, full);
  return std::chrono::milliseconds(std::max<std::int64_t>(1, jitter(random_)));
}

std::string default_consumer_name() {
  char host[256] = {};
  if (::gethostname(host, sizeof(host) - 1) != 0 || host[0] == '\0') {
    std::strcpy(host, "slipway");
  }
  return fmt::format("{}-{}", host, ::getpid());
}

}  // namespace slipway::redis
