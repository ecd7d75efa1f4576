// An HTTPS peer for tests of certificate checks, on cpp-httplib, and the
// self-signed certificates it serves, made with the openssl command.
#pragma once

#include <atomic>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <thread>

namespace httplib {
class SSLServer;
}

namespace slipway::testing {

// A self-signed certificate and its key, for 127.0.0.1.
struct TestCertificate {
  std::filesystem::path cert_file;
  std::filesystem::path key_file;
};

// Creates `NAME.crt` and `NAME.key` in `dir` with the openssl command.
// Returns nothing when the command is missing or fails.
std::optional<TestCertificate> make_self_signed_certificate(const std::filesystem::path& dir, std::string_view name);

// An HTTPS server on 127.0.0.1 that responds to every GET, POST and PUT
// with 200 and `{}`. With `client_ca`, it accepts only clients presenting a
// certificate that file trusts.
class TlsTestServer {
 public:
  explicit TlsTestServer(const TestCertificate& certificate,
                         const std::optional<std::filesystem::path>& client_ca = std::nullopt);
  ~TlsTestServer();
  TlsTestServer(const TlsTestServer&) = delete;
  TlsTestServer& operator=(const TlsTestServer&) = delete;

  // False when the certificate or key could not be loaded.
  bool ready() const { return port_ > 0; }
  std::string url() const;
  // Requests that received a response so far.
  std::size_t request_count() const;

 private:
  std::unique_ptr<httplib::SSLServer> server_;
  std::thread thread_;
  std::atomic<std::size_t> requests_{0};
  int port_ = 0;
};

}  // namespace slipway::testing
