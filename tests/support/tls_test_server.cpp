#include "tests/support/tls_test_server.hpp"

#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <sstream>
#include <vector>

#include <httplib.h>

#include "tests/support/process.hpp"

namespace slipway::testing {

namespace {

// Generous, because the test machines are often loaded.
constexpr auto kStartTimeout = std::chrono::seconds(20);

std::filesystem::path find_program(std::string_view name) {
  const char* path = std::getenv("PATH");
  std::stringstream directories(path != nullptr ? path : "/usr/bin:/bin");
  std::string directory;
  while (std::getline(directories, directory, ':')) {
    const std::filesystem::path candidate = std::filesystem::path(directory) / name;
    if (::access(candidate.c_str(), X_OK) == 0) {
      return candidate;
    }
  }
  return {};
}

}  // namespace

std::optional<TestCertificate> make_self_signed_certificate(const std::filesystem::path& dir, std::string_view name) {
  const std::filesystem::path openssl = find_program("openssl");
  if (openssl.empty()) {
    return std::nullopt;
  }
  TestCertificate certificate{dir / (std::string(name) + ".crt"), dir / (std::string(name) + ".key")};
  ChildProcess process({openssl.string(), "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1",
                        "-nodes", "-days", "2", "-subj", "/CN=127.0.0.1", "-addext",
                        "subjectAltName=IP:127.0.0.1,DNS:localhost", "-keyout", certificate.key_file.string(), "-out",
                        certificate.cert_file.string()},
                       dir / "openssl.out", dir / "openssl.err");
  if (process.wait(kStartTimeout) != 0) {
    return std::nullopt;
  }
  return certificate;
}

TlsTestServer::TlsTestServer(const TestCertificate& certificate,
                             const std::optional<std::filesystem::path>& client_ca) {
  const std::string client_ca_path = client_ca ? client_ca->string() : std::string();
  server_ = std::make_unique<httplib::SSLServer>(certificate.cert_file.c_str(), certificate.key_file.c_str(),
                                                 client_ca ? client_ca_path.c_str() : nullptr);
  if (!server_->is_valid()) {
    return;
  }
  const auto respond = [this](const httplib::Request&, httplib::Response& response) {
    requests_.fetch_add(1);
    response.set_content("{}", "application/json");
  };
  server_->Get(".*", respond);
  server_->Post(".*", respond);
  server_->Put(".*", respond);
  // The socket listens from here on; connections wait in the backlog until the thread accepts them.
  port_ = server_->bind_to_any_port("127.0.0.1");
  if (port_ > 0) {
    thread_ = std::thread([this] { server_->listen_after_bind(); });
  }
}

TlsTestServer::~TlsTestServer() {
  if (!thread_.joinable()) {
    return;
  }
  // stop() before the accept loop has started would be lost, and join() would never return.
  wait_until([&] { return server_->is_running(); }, kStartTimeout);
  server_->stop();
  thread_.join();
}

std::string TlsTestServer::url() const { return "https://127.0.0.1:" + std::to_string(port_) + "/"; }

std::size_t TlsTestServer::request_count() const { return requests_.load(); }

}  // namespace slipway::testing
