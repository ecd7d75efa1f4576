#include "outputs/logstash/stream_connection.hpp"

#include <arpa/inet.h>
#include <fcntl.h>
#include <linux/sockios.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <charconv>
#include <cstring>
#include <stdexcept>

#include <fmt/format.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>

namespace slipway::outputs::logstash {

namespace {

using Clock = std::chrono::steady_clock;

std::string openssl_error_text() {
  const unsigned long code = ERR_get_error();
  ERR_clear_error();
  if (code == 0) {
    return "unknown TLS error";
  }
  char text[256];
  ERR_error_string_n(code, text, sizeof(text));
  return text;
}

// Keeps SIGPIPE from ending the process while OpenSSL writes to a socket
// the peer has closed: OpenSSL's socket BIO calls write() without
// MSG_NOSIGNAL. Blocks the signal on this thread for the scope, and takes
// a SIGPIPE raised in it off the pending set before unblocking.
class SigpipeBlocker {
 public:
  SigpipeBlocker() {
    sigset_t pipe_only;
    sigemptyset(&pipe_only);
    sigaddset(&pipe_only, SIGPIPE);
    sigset_t pending;
    sigpending(&pending);
    already_pending_ = sigismember(&pending, SIGPIPE) == 1;
    pthread_sigmask(SIG_BLOCK, &pipe_only, &previous_);
  }
  ~SigpipeBlocker() {
    sigset_t pending;
    sigpending(&pending);
    if (!already_pending_ && sigismember(&pending, SIGPIPE) == 1) {
      sigset_t pipe_only;
      sigemptyset(&pipe_only);
      sigaddset(&pipe_only, SIGPIPE);
      const timespec no_wait{0, 0};
      sigtimedwait(&pipe_only, nullptr, &no_wait);
    }
    pthread_sigmask(SIG_SETMASK, &previous_, nullptr);
  }
  SigpipeBlocker(const SigpipeBlocker&) = delete;
  SigpipeBlocker& operator=(const SigpipeBlocker&) = delete;

 private:
  sigset_t previous_{};
  bool already_pending_ = false;
};

int remaining_ms(Clock::time_point deadline) {
  const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now()).count();
  return left > 0 ? static_cast<int>(left) : 0;
}

bool is_ip_address(const std::string& host) {
  in6_addr address6{};
  in_addr address4{};
  return ::inet_pton(AF_INET, host.c_str(), &address4) == 1 || ::inet_pton(AF_INET6, host.c_str(), &address6) == 1;
}

// Starts a non-blocking connect to each resolved address in turn and
// returns the first socket that connects.
int connect_tcp(const Endpoint& endpoint, Clock::time_point deadline, std::string& error) {
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  addrinfo* addresses = nullptr;
  const std::string port = std::to_string(endpoint.port);
  if (const int status = ::getaddrinfo(endpoint.host.c_str(), port.c_str(), &hints, &addresses); status != 0) {
    error = fmt::format("resolving {} failed: {}", endpoint.host, ::gai_strerror(status));
    return -1;
  }

  int connected = -1;
  for (addrinfo* address = addresses; address != nullptr && connected < 0; address = address->ai_next) {
    const int fd = ::socket(address->ai_family, address->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0) {
      error = fmt::format("socket() failed: {}", std::strerror(errno));
      continue;
    }
    int result = ::connect(fd, address->ai_addr, address->ai_addrlen);
    if (result != 0 && errno == EINPROGRESS) {
      pollfd waiting{fd, POLLOUT, 0};
      result = ::poll(&waiting, 1, remaining_ms(deadline));
      if (result == 0) {
        error = "connect timed out";
        ::close(fd);
        continue;
      }
      int socket_error = 0;
      socklen_t length = sizeof(socket_error);
      ::getsockopt(fd, SOL_SOCKET, SO_ERROR, &socket_error, &length);
      errno = socket_error;
      result = socket_error == 0 ? 0 : -1;
    }
    if (result != 0) {
      error = fmt::format("connect failed: {}", std::strerror(errno));
      ::close(fd);
      continue;
    }
    connected = fd;
  }
  ::freeaddrinfo(addresses);

  if (connected >= 0) {
    const int enable = 1;
    ::setsockopt(connected, IPPROTO_TCP, TCP_NODELAY, &enable, sizeof(enable));
    ::setsockopt(connected, SOL_SOCKET, SO_KEEPALIVE, &enable, sizeof(enable));
  }
  return connected;
}

}  // namespace

std::string Endpoint::text() const {
  if (host.find(':') != std::string::npos) {
    return fmt::format("[{}]:{}", host, port);
  }
  return fmt::format("{}:{}", host, port);
}

std::optional<Endpoint> parse_endpoint(std::string_view text, std::uint16_t default_port, std::string& problem) {
  Endpoint endpoint;
  std::string_view port_text;
  if (text.find("://") != std::string_view::npos) {
    problem = "expected HOST:PORT without a scheme or path, e.g. logstash.example:5044";
    return std::nullopt;
  }
  if (text.starts_with('[')) {
    const std::size_t close = text.find(']');
    if (close == std::string_view::npos) {
      problem = "missing \"]\" after the IPv6 address";
      return std::nullopt;
    }
    endpoint.host = std::string(text.substr(1, close - 1));
    const std::string_view rest = text.substr(close + 1);
    if (!rest.empty()) {
      if (!rest.starts_with(':')) {
        problem = "expected \":PORT\" after \"]\"";
        return std::nullopt;
      }
      port_text = rest.substr(1);
    }
  } else {
    const std::size_t colon = text.rfind(':');
    if (colon != std::string_view::npos && text.find(':') != colon) {
      problem = "an IPv6 address needs brackets, e.g. [::1]:5044";
      return std::nullopt;
    }
    endpoint.host = std::string(text.substr(0, colon));
    if (colon != std::string_view::npos) {
      port_text = text.substr(colon + 1);
    }
  }
  if (endpoint.host.empty()) {
    problem = "missing host name";
    return std::nullopt;
  }
  if (endpoint.host.find_first_of("/ ") != std::string::npos) {
    problem = "expected HOST:PORT without a scheme or path, e.g. logstash.example:5044";
    return std::nullopt;
  }

  endpoint.port = default_port;
  if (!port_text.empty() || text.ends_with(':')) {
    unsigned port = 0;
    const auto [end, status] = std::from_chars(port_text.data(), port_text.data() + port_text.size(), port);
    if (status != std::errc() || end != port_text.data() + port_text.size() || port == 0 || port > 65535) {
      problem = fmt::format("port \"{}\" is not a number from 1 to 65535", port_text);
      return std::nullopt;
    }
    endpoint.port = static_cast<std::uint16_t>(port);
  }
  return endpoint;
}

TlsClientContext::TlsClientContext(const StreamTlsSettings& settings) : verify_(settings.verify) {
  context_ = SSL_CTX_new(TLS_client_method());
  if (context_ == nullptr) {
    throw std::runtime_error("creating a TLS context failed: " + openssl_error_text());
  }
  SSL_CTX_set_min_proto_version(context_, TLS1_2_VERSION);
  SSL_CTX_set_mode(context_, SSL_MODE_ENABLE_PARTIAL_WRITE | SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER);

  const auto fail = [&](std::string_view key, const std::filesystem::path& path) {
    const std::string reason = openssl_error_text();
    SSL_CTX_free(context_);
    context_ = nullptr;
    throw std::runtime_error(fmt::format("tls.{} {} cannot be loaded: {}; check that it is a PEM file", key,
                                         path.string(), reason));
  };
  if (!settings.ca_file.empty()) {
    if (SSL_CTX_load_verify_locations(context_, settings.ca_file.c_str(), nullptr) != 1) {
      fail("ca_file", settings.ca_file);
    }
  } else {
    SSL_CTX_set_default_verify_paths(context_);
  }
  if (!settings.cert_file.empty()) {
    if (SSL_CTX_use_certificate_chain_file(context_, settings.cert_file.c_str()) != 1) {
      fail("cert_file", settings.cert_file);
    }
    const std::filesystem::path& key = settings.key_file.empty() ? settings.cert_file : settings.key_file;
    if (SSL_CTX_use_PrivateKey_file(context_, key.c_str(), SSL_FILETYPE_PEM) != 1) {
      fail("key_file", key);
    }
  }
  SSL_CTX_set_verify(context_, settings.verify ? SSL_VERIFY_PEER : SSL_VERIFY_NONE, nullptr);
}

TlsClientContext::~TlsClientContext() {
  if (context_ != nullptr) {
    SSL_CTX_free(context_);
  }
}

std::unique_ptr<StreamConnection> StreamConnection::open(const Endpoint& endpoint, std::chrono::milliseconds timeout,
                                                         const TlsClientContext* tls, std::string& error) {
  const auto deadline = Clock::now() + timeout;
  const int fd = connect_tcp(endpoint, deadline, error);
  if (fd < 0) {
    return nullptr;
  }
  if (tls == nullptr) {
    return std::unique_ptr<StreamConnection>(new StreamConnection(fd, nullptr));
  }

  const SigpipeBlocker sigpipe_blocker;
  SSL* ssl = SSL_new(tls->get());
  std::unique_ptr<StreamConnection> connection(new StreamConnection(fd, ssl));
  if (ssl == nullptr) {
    error = "creating a TLS session failed: " + openssl_error_text();
    return nullptr;
  }
  SSL_set_fd(ssl, fd);
  if (!is_ip_address(endpoint.host)) {
    SSL_set_tlsext_host_name(ssl, endpoint.host.c_str());
  }
  if (tls->verify()) {
    // Checks the name in the certificate: an IP address against its IP
    // SANs, a host name against its DNS names.
    X509_VERIFY_PARAM* parameters = SSL_get0_param(ssl);
    if (is_ip_address(endpoint.host)) {
      X509_VERIFY_PARAM_set1_ip_asc(parameters, endpoint.host.c_str());
    } else {
      X509_VERIFY_PARAM_set1_host(parameters, endpoint.host.c_str(), 0);
    }
  }
  std::optional<IoResult> step;
  while (!(step = connection->tls_step(SSL_connect(ssl), deadline, "TLS handshake"))) {
  }
  if (!step->ok()) {
    error = step->error;
    if (const long verify = SSL_get_verify_result(ssl); verify != X509_V_OK) {
      error += fmt::format(" (certificate verification: {})", X509_verify_cert_error_string(verify));
    }
    return nullptr;
  }
  return connection;
}

StreamConnection::~StreamConnection() {
  const SigpipeBlocker sigpipe_blocker;
  if (ssl_ != nullptr) {
    SSL_free(ssl_);
  }
  if (fd_ >= 0) {
    ::close(fd_);
  }
}

IoResult StreamConnection::wait_for(short events, Clock::time_point deadline) {
  pollfd waiting{fd_, events, 0};
  while (true) {
    const int ready = ::poll(&waiting, 1, remaining_ms(deadline));
    if (ready > 0) {
      return {};
    }
    if (ready == 0) {
      return IoResult{IoStatus::Timeout, "timed out"};
    }
    if (errno != EINTR) {
      return IoResult{IoStatus::Failed, fmt::format("poll() failed: {}", std::strerror(errno))};
    }
  }
}

// Maps the return value of an SSL_* call: Ok when it completed, nothing
// after waiting for the socket when OpenSSL wants to read or write first
// (call again), otherwise the failure.
std::optional<IoResult> StreamConnection::tls_step(int result, Clock::time_point deadline, std::string_view action) {
  if (result > 0) {
    return IoResult{};
  }
  const int reason = SSL_get_error(ssl_, result);
  if (reason == SSL_ERROR_WANT_READ || reason == SSL_ERROR_WANT_WRITE) {
    IoResult waited = wait_for(reason == SSL_ERROR_WANT_READ ? POLLIN : POLLOUT, deadline);
    if (waited.ok()) {
      return std::nullopt;
    }
    return waited;
  }
  if (reason == SSL_ERROR_ZERO_RETURN) {
    return IoResult{IoStatus::Closed, "the peer closed the TLS session"};
  }
  if (reason == SSL_ERROR_SYSCALL) {
    ERR_clear_error();
    const int code = errno;
    if (result == 0 || code == 0) {
      return IoResult{IoStatus::Closed, fmt::format("{} failed: the peer closed the connection", action)};
    }
    return IoResult{IoStatus::Failed, fmt::format("{} failed: {}", action, std::strerror(code))};
  }
  return IoResult{IoStatus::Failed, fmt::format("{} failed: {}", action, openssl_error_text())};
}

IoResult StreamConnection::write_all(std::string_view data, std::chrono::milliseconds timeout) {
  const auto deadline = Clock::now() + timeout;
  const SigpipeBlocker sigpipe_blocker;
  while (!data.empty()) {
    if (ssl_ != nullptr) {
      const int chunk = static_cast<int>(std::min<std::size_t>(data.size(), 1 << 30));
      const int written = SSL_write(ssl_, data.data(), chunk);
      const std::optional<IoResult> step = tls_step(written, deadline, "TLS write");
      if (step && !step->ok()) {
        return *step;
      }
      if (step) {
        data.remove_prefix(static_cast<std::size_t>(written));
      }
      continue;
    }

    const ssize_t written = ::send(fd_, data.data(), data.size(), MSG_NOSIGNAL);
    if (written >= 0) {
      data.remove_prefix(static_cast<std::size_t>(written));
      continue;
    }
    if (errno == EAGAIN || errno == EWOULDBLOCK) {
      if (IoResult waited = wait_for(POLLOUT, deadline); !waited.ok()) {
        return waited;
      }
      continue;
    }
    if (errno == EINTR) {
      continue;
    }
    const IoStatus status = errno == EPIPE || errno == ECONNRESET ? IoStatus::Closed : IoStatus::Failed;
    return IoResult{status, fmt::format("send() failed: {}", std::strerror(errno))};
  }
  return {};
}

IoResult StreamConnection::read_exact(char* out, std::size_t size, std::chrono::milliseconds timeout) {
  const auto deadline = Clock::now() + timeout;
  // SSL_read may write too, e.g. to reply to a key update.
  const SigpipeBlocker sigpipe_blocker;
  std::size_t received = 0;
  while (received < size) {
    if (ssl_ != nullptr) {
      const int count = SSL_read(ssl_, out + received, static_cast<int>(size - received));
      const std::optional<IoResult> step = tls_step(count, deadline, "TLS read");
      if (step && !step->ok()) {
        return *step;
      }
      if (step) {
        received += static_cast<std::size_t>(count);
      }
      continue;
    }

    const ssize_t count = ::recv(fd_, out + received, size - received, 0);
    if (count > 0) {
      received += static_cast<std::size_t>(count);
      continue;
    }
    if (count == 0) {
      return IoResult{IoStatus::Closed, "the peer closed the connection"};
    }
    if (errno == EAGAIN || errno == EWOULDBLOCK) {
      if (IoResult waited = wait_for(POLLIN, deadline); !waited.ok()) {
        return waited;
      }
      continue;
    }
    if (errno != EINTR) {
      return IoResult{IoStatus::Failed, fmt::format("recv() failed: {}", std::strerror(errno))};
    }
  }
  return {};
}

bool StreamConnection::peer_closed() {
  const SigpipeBlocker sigpipe_blocker;
  char discard[4096];
  while (true) {
    pollfd waiting{fd_, POLLIN | POLLRDHUP, 0};
    if (::poll(&waiting, 1, 0) <= 0) {
      return false;
    }
    if ((waiting.revents & (POLLERR | POLLHUP | POLLRDHUP)) != 0) {
      return true;
    }
    if (ssl_ != nullptr) {
      // Unasked TLS data (a session ticket, an alert) is processed by SSL_read.
      const int count = SSL_read(ssl_, discard, sizeof(discard));
      if (count <= 0) {
        const int reason = SSL_get_error(ssl_, count);
        ERR_clear_error();
        return reason != SSL_ERROR_WANT_READ && reason != SSL_ERROR_WANT_WRITE;
      }
      continue;
    }
    const ssize_t count = ::recv(fd_, discard, sizeof(discard), MSG_DONTWAIT);
    if (count == 0 || (count < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR)) {
      return true;
    }
    if (count < 0) {
      return false;
    }
  }
}

std::optional<std::size_t> StreamConnection::unacknowledged_bytes() const {
  int bytes = 0;
  if (::ioctl(fd_, SIOCOUTQ, &bytes) != 0 || bytes < 0) {
    return std::nullopt;
  }
  return static_cast<std::size_t>(bytes);
}

}  // namespace slipway::outputs::logstash
