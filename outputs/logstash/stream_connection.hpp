// A client byte stream to one host: TCP, optionally wrapped in TLS, with a
// deadline on every operation. The beats and tcp protocols of the logstash
// output send through it. Sockets are non-blocking and waited on with
// poll(), so no call can hang past its timeout.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

using SSL_CTX = struct ssl_ctx_st;
using SSL = struct ssl_st;

namespace slipway::outputs::logstash {

struct Endpoint {
  std::string host;
  std::uint16_t port = 0;

  // "host:port", with brackets around an IPv6 address.
  std::string text() const;
};

// Parses "HOST:PORT", "[IPV6]:PORT", or a host alone, which gets
// `default_port`. Returns what is wrong in `problem` when it does not parse.
std::optional<Endpoint> parse_endpoint(std::string_view text, std::uint16_t default_port, std::string& problem);

struct StreamTlsSettings {
  bool enabled = false;
  bool verify = true;               // check the server certificate and host name
  std::filesystem::path ca_file;    // PEM CA certificates to trust instead of the system store
  std::filesystem::path cert_file;  // PEM client certificate, for servers that require one
  std::filesystem::path key_file;   // PEM private key of cert_file
};

// An OpenSSL client context built once from the settings.
class TlsClientContext {
 public:
  // Throws std::runtime_error naming the key and file when a file cannot
  // be loaded.
  explicit TlsClientContext(const StreamTlsSettings& settings);
  ~TlsClientContext();
  TlsClientContext(const TlsClientContext&) = delete;
  TlsClientContext& operator=(const TlsClientContext&) = delete;

  SSL_CTX* get() const { return context_; }
  bool verify() const { return verify_; }

 private:
  SSL_CTX* context_ = nullptr;
  bool verify_ = true;
};

enum class IoStatus {
  Ok,
  Timeout,  // the deadline passed first
  Closed,   // the peer closed the connection
  Failed,   // reset, TLS error, or another socket error
};

struct IoResult {
  IoStatus status = IoStatus::Ok;
  std::string error;  // for everything but Ok

  bool ok() const { return status == IoStatus::Ok; }
};

class StreamConnection {
 public:
  // Connects (and completes the TLS handshake when `tls` is set) within
  // `timeout`. Returns nothing and sets `error` when that fails.
  static std::unique_ptr<StreamConnection> open(const Endpoint& endpoint, std::chrono::milliseconds timeout,
                                                const TlsClientContext* tls, std::string& error);
  ~StreamConnection();
  StreamConnection(const StreamConnection&) = delete;
  StreamConnection& operator=(const StreamConnection&) = delete;

  // Writes all of `data`, or fails; on failure an unknown prefix was sent.
  IoResult write_all(std::string_view data, std::chrono::milliseconds timeout);
  // Reads exactly `size` bytes into `out`.
  IoResult read_exact(char* out, std::size_t size, std::chrono::milliseconds timeout);
  // True when the peer has closed or reset the connection, checked
  // without waiting. Data the peer sent unasked is read and discarded.
  bool peer_closed();
  // Bytes written that the peer's TCP has not acknowledged yet (SIOCOUTQ);
  // nothing when the kernel cannot tell.
  std::optional<std::size_t> unacknowledged_bytes() const;

 private:
  StreamConnection(int fd, SSL* ssl) : fd_(fd), ssl_(ssl) {}
  IoResult wait_for(short events, std::chrono::steady_clock::time_point deadline);
  std::optional<IoResult> tls_step(int result, std::chrono::steady_clock::time_point deadline, std::string_view action);

  int fd_ = -1;
  SSL* ssl_ = nullptr;
};

}  // namespace slipway::outputs::logstash
