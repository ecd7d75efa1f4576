#include "tests/support/beats_test_server.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <pthread.h>
#include <signal.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>
#include <mutex>
#include <stdexcept>
#include <thread>

#include <fmt/format.h>
#include <openssl/err.h>
#include <openssl/ssl.h>

#include "engine/json.hpp"
#include "outputs/logstash/lumberjack.hpp"

namespace slipway::testing {

namespace lumberjack = slipway::outputs::logstash::lumberjack;

namespace {

// Bounds what one JSON or compressed frame may claim, so a broken client
// cannot make the server allocate gigabytes.
constexpr std::uint32_t kMaxFrameBytes = 64 * 1024 * 1024;

}  // namespace

struct BeatsTestServer::Connection {
  int fd = -1;
  SSL* ssl = nullptr;
  // Bytes of inflated compressed frames not consumed yet.
  std::string pending;
  std::size_t pending_offset = 0;
  // Bytes received from the socket and not consumed yet: one recv() per
  // buffer instead of three per event keeps the server fast enough for
  // throughput benchmarks.
  std::vector<char> received = std::vector<char>(256 * 1024);
  std::size_t received_begin = 0;
  std::size_t received_end = 0;

  ~Connection() {
    if (ssl != nullptr) {
      SSL_free(ssl);
    }
    if (fd >= 0) {
      ::close(fd);
    }
  }

  bool read_socket(char* out, std::size_t size) {
    std::size_t copied = 0;
    while (copied < size) {
      if (received_begin == received_end) {
        const long count = ssl != nullptr ? SSL_read(ssl, received.data(), static_cast<int>(received.size()))
                                          : ::recv(fd, received.data(), received.size(), 0);
        if (count <= 0) {
          return false;
        }
        received_begin = 0;
        received_end = static_cast<std::size_t>(count);
      }
      const std::size_t chunk = std::min(size - copied, received_end - received_begin);
      std::memcpy(out + copied, received.data() + received_begin, chunk);
      received_begin += chunk;
      copied += chunk;
    }
    return true;
  }

  // Reads from inflated compressed data first, then from the socket.
  bool read(char* out, std::size_t size, bool from_pending) {
    if (!from_pending) {
      return read_socket(out, size);
    }
    if (pending.size() - pending_offset < size) {
      return false;
    }
    std::memcpy(out, pending.data() + pending_offset, size);
    pending_offset += size;
    return true;
  }

  bool write(const std::string& bytes) {
    std::size_t sent = 0;
    while (sent < bytes.size()) {
      const long count = ssl != nullptr ? SSL_write(ssl, bytes.data() + sent, static_cast<int>(bytes.size() - sent))
                                        : ::send(fd, bytes.data() + sent, bytes.size() - sent, MSG_NOSIGNAL);
      if (count <= 0) {
        return false;
      }
      sent += static_cast<std::size_t>(count);
    }
    return true;
  }

  bool ack(std::uint32_t sequence) {
    std::string frame{lumberjack::kVersion, lumberjack::kAckType};
    lumberjack::append_u32(sequence, frame);
    return write(frame);
  }
};

struct BeatsTestServer::State {
  mutable std::mutex mutex;
  BeatsBehaviour behaviour;
  bool closed_once = false;  // close_after_events has fired
  std::vector<std::string> acknowledged;
  std::uint64_t acknowledged_count = 0;
  std::size_t connections = 0;
  std::size_t compressed_frames = 0;
  std::size_t protocol_errors = 0;
  std::vector<std::weak_ptr<Connection>> open;

  SSL_CTX* tls = nullptr;
  std::atomic<int> listen_fd{-1};
  std::atomic<bool> stopping{false};
  std::thread acceptor;
  std::vector<std::thread> workers;
};

BeatsTestServer::BeatsTestServer(const std::optional<BeatsServerTls>& tls) : state_(std::make_unique<State>()) {
  if (tls) {
    state_->tls = SSL_CTX_new(TLS_server_method());
    if (SSL_CTX_use_certificate_chain_file(state_->tls, tls->cert_file.c_str()) != 1 ||
        SSL_CTX_use_PrivateKey_file(state_->tls, tls->key_file.c_str(), SSL_FILETYPE_PEM) != 1) {
      throw std::runtime_error("the beats test server cannot load its certificate");
    }
    if (tls->client_ca) {
      SSL_CTX_load_verify_locations(state_->tls, tls->client_ca->c_str(), nullptr);
      SSL_CTX_set_verify(state_->tls, SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT, nullptr);
    }
  }
  listen_on(0);
}

BeatsTestServer::~BeatsTestServer() {
  stop();
  if (state_->tls != nullptr) {
    SSL_CTX_free(state_->tls);
  }
}

std::string BeatsTestServer::host() const { return fmt::format("127.0.0.1:{}", port_); }

void BeatsTestServer::set_behaviour(const BeatsBehaviour& behaviour) {
  std::lock_guard lock(state_->mutex);
  state_->behaviour = behaviour;
  state_->closed_once = false;
}

void BeatsTestServer::listen_on(std::uint16_t port) {
  const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  const int enable = 1;
  ::setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &enable, sizeof(enable));
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_port = htons(port);
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::bind(fd, reinterpret_cast<sockaddr*>(&address), sizeof(address)) != 0 || ::listen(fd, 64) != 0) {
    ::close(fd);
    throw std::runtime_error(fmt::format("the beats test server cannot listen on port {}: {}", port,
                                         std::strerror(errno)));
  }
  socklen_t length = sizeof(address);
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&address), &length);
  port_ = ntohs(address.sin_port);
  state_->stopping = false;
  state_->listen_fd = fd;
  state_->acceptor = std::thread([this] { accept_loop(); });
}

void BeatsTestServer::stop() {
  if (state_->stopping.exchange(true)) {
    return;
  }
  const int fd = state_->listen_fd.exchange(-1);
  if (fd >= 0) {
    ::shutdown(fd, SHUT_RDWR);
    ::close(fd);
  }
  if (state_->acceptor.joinable()) {
    state_->acceptor.join();
  }
  std::vector<std::thread> workers;
  {
    std::lock_guard lock(state_->mutex);
    for (const auto& weak : state_->open) {
      if (const auto connection = weak.lock()) {
        ::shutdown(connection->fd, SHUT_RDWR);
      }
    }
    state_->open.clear();
    workers.swap(state_->workers);
  }
  for (std::thread& worker : workers) {
    worker.join();
  }
}

void BeatsTestServer::restart() { listen_on(port_); }

void BeatsTestServer::accept_loop() {
  while (!state_->stopping) {
    const int fd = ::accept4(state_->listen_fd, nullptr, nullptr, SOCK_CLOEXEC);
    if (fd < 0) {
      if (state_->stopping) {
        return;
      }
      continue;
    }
    auto connection = std::make_shared<Connection>();
    connection->fd = fd;
    std::lock_guard lock(state_->mutex);
    ++state_->connections;
    state_->open.push_back(connection);
    state_->workers.emplace_back([this, connection] { serve(connection); });
  }
}

void BeatsTestServer::serve(std::shared_ptr<Connection> connection) {
  // A client that goes away mid-handshake would otherwise end the test
  // process with SIGPIPE when SSL_write reaches its closed socket. The
  // signal stays blocked for this connection's thread only.
  sigset_t pipe_only;
  sigemptyset(&pipe_only);
  sigaddset(&pipe_only, SIGPIPE);
  pthread_sigmask(SIG_BLOCK, &pipe_only, nullptr);

  if (state_->tls != nullptr) {
    connection->ssl = SSL_new(state_->tls);
    SSL_set_fd(connection->ssl, connection->fd);
    if (SSL_accept(connection->ssl) != 1) {
      ERR_clear_error();
      return;
    }
  }
  char header[2];
  while (connection->read_socket(header, sizeof(header))) {
    char count_bytes[4];
    if (header[0] != lumberjack::kVersion || header[1] != lumberjack::kWindowType ||
        !connection->read_socket(count_bytes, sizeof(count_bytes))) {
      break;
    }
    const std::uint32_t count = lumberjack::read_u32(count_bytes);
    if (count == 0) {
      continue;  // an empty window is ignored
    }
    if (!serve_window(*connection, count)) {
      break;
    }
  }
  ::shutdown(connection->fd, SHUT_RDWR);
}

// Reads the `count` events of one window and ACKs them as the behaviour
// sets. Returns false when the connection is to be closed.
bool BeatsTestServer::serve_window(Connection& connection, std::uint32_t count) {
  BeatsBehaviour behaviour;
  {
    std::lock_guard lock(state_->mutex);
    behaviour = state_->behaviour;
  }
  const auto protocol_error = [&] {
    std::lock_guard lock(state_->mutex);
    ++state_->protocol_errors;
    return false;
  };
  if (count > behaviour.max_window) {
    return protocol_error();
  }

  std::vector<std::string> events;  // kept only when recording
  std::size_t received = 0;
  std::size_t recorded = 0;
  std::string json;  // the current event, reused across events
  // Events count as received once their ACK is on its way, which is when
  // a real receiver has handed them on.
  const auto record_up_to_here = [&] {
    std::lock_guard lock(state_->mutex);
    state_->acknowledged_count += received - recorded;
    if (behaviour.record) {
      state_->acknowledged.insert(state_->acknowledged.end(), events.begin() + static_cast<std::ptrdiff_t>(recorded),
                                  events.end());
    }
    recorded = received;
  };
  connection.pending.clear();
  connection.pending_offset = 0;
  while (received < count) {
    const bool from_pending = connection.pending_offset < connection.pending.size();
    char header[2];
    if (!connection.read(header, sizeof(header), from_pending)) {
      return false;
    }
    if (header[0] != lumberjack::kVersion) {
      return protocol_error();
    }

    if (header[1] == lumberjack::kCompressedType && !from_pending) {
      char length_bytes[4];
      if (!connection.read_socket(length_bytes, sizeof(length_bytes))) {
        return false;
      }
      const std::uint32_t length = lumberjack::read_u32(length_bytes);
      if (length > kMaxFrameBytes) {
        return protocol_error();
      }
      std::string payload(length, '\0');
      if (!connection.read_socket(payload.data(), length)) {
        return false;
      }
      std::optional<std::string> inflated = lumberjack::inflate_payload(payload, kMaxFrameBytes);
      if (!inflated) {
        return protocol_error();
      }
      connection.pending = std::move(*inflated);
      connection.pending_offset = 0;
      std::lock_guard lock(state_->mutex);
      ++state_->compressed_frames;
      continue;
    }
    if (header[1] != lumberjack::kJsonType) {
      return protocol_error();
    }

    char numbers[8];
    if (!connection.read(numbers, sizeof(numbers), from_pending)) {
      return from_pending ? protocol_error() : false;
    }
    const std::uint32_t sequence = lumberjack::read_u32(numbers);
    const std::uint32_t length = lumberjack::read_u32(numbers + 4);
    if (sequence != received + 1 || length > kMaxFrameBytes) {
      return protocol_error();
    }
    json.resize(length);
    if (!connection.read(json.data(), length, from_pending)) {
      return from_pending ? protocol_error() : false;
    }
    if (behaviour.validate_json) {
      const json::ValidateResult checked = json::validate(json);
      if (!checked.valid || checked.type != json::Type::Object) {
        return protocol_error();  // go-lumber drops the connection without an ACK
      }
    }
    ++received;
    if (behaviour.record) {
      events.push_back(json);
    }

    {
      std::lock_guard lock(state_->mutex);
      if (state_->behaviour.close_after_events > 0 && !state_->closed_once &&
          received >= state_->behaviour.close_after_events) {
        state_->closed_once = true;
        return false;
      }
    }
    if (behaviour.partial_ack_every > 0 && received < count && received % behaviour.partial_ack_every == 0) {
      record_up_to_here();
      if (!connection.ack(static_cast<std::uint32_t>(received))) {
        return false;
      }
    }
  }
  if (connection.pending_offset != connection.pending.size()) {
    return protocol_error();  // a compressed frame held more than the window
  }

  for (int keepalive = 0; keepalive < behaviour.keepalives_before_ack; ++keepalive) {
    std::this_thread::sleep_for(behaviour.keepalive_interval);
    if (!connection.ack(0)) {
      return false;
    }
  }
  record_up_to_here();
  return connection.ack(count);
}

std::vector<std::string> BeatsTestServer::acknowledged_events() const {
  std::lock_guard lock(state_->mutex);
  return state_->acknowledged;
}

std::uint64_t BeatsTestServer::acknowledged_count() const {
  std::lock_guard lock(state_->mutex);
  return state_->acknowledged_count;
}

std::size_t BeatsTestServer::connection_count() const {
  std::lock_guard lock(state_->mutex);
  return state_->connections;
}

std::size_t BeatsTestServer::compressed_frames() const {
  std::lock_guard lock(state_->mutex);
  return state_->compressed_frames;
}

std::size_t BeatsTestServer::protocol_errors() const {
  std::lock_guard lock(state_->mutex);
  return state_->protocol_errors;
}

}  // namespace slipway::testing
