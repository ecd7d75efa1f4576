// A loopback Warden 3 server for tests, on cpp-httplib over TLS. Like the
// real server it requires a client certificate signed by its CA, finds
// the registered client by the `client` name, the `secret` and a host
// name in the certificate, and replies to sendEvents and getEvents with the
// real server's success bodies, error lists and status codes: 403, 404,
// 400, 422, 460 and 507, and a partial save when only some events fail.
// The openssl command makes the test CA and certificates.
#pragma once

#include <atomic>
#include <cstdint>
#include <filesystem>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "tests/support/tls_test_server.hpp"

namespace httplib {
class SSLServer;
struct Request;
struct Response;
}  // namespace httplib

namespace slipway::testing {

// A test CA, a server certificate for 127.0.0.1 signed by it, a client
// certificate for `client_host` signed by it, and a client certificate
// from an unrelated CA.
struct TestPki {
  std::filesystem::path ca_file;
  TestCertificate server;
  TestCertificate client;
  TestCertificate stranger;
};

// Returns nothing when the openssl command is missing or fails.
std::optional<TestPki> make_test_pki(const std::filesystem::path& dir, std::string_view client_host);

struct WardenClientRecord {
  std::string name;      // registered name, e.g. cz.example.slips
  std::string hostname;  // must be the certificate's CN or a DNS name in it
  std::string secret;    // empty: registered without a secret
  bool test = false;     // on probation: only events in category Test
};

struct StoredEvent {
  std::int64_t id = 0;
  std::string group;  // name of the sending client
  std::string json;
};

// One call as the server saw it.
struct WardenCall {
  std::string method;
  int status = 0;
  std::size_t events = 0;  // events in a sendEvents body, returned by getEvents
  std::map<std::string, std::vector<std::string>> query;
};

class WardenTestServer {
 public:
  struct Options {
    std::vector<WardenClientRecord> clients;
    std::size_t send_events_limit = 500;
    std::size_t get_events_limit = 1000;
    // The send_events_limit getInfo reports; 0 reports the real one. A
    // larger value makes a client send too much and get the 507 reply.
    std::size_t advertised_send_events_limit = 0;
  };

  WardenTestServer(const TestPki& pki, Options options);
  ~WardenTestServer();
  WardenTestServer(const WardenTestServer&) = delete;
  WardenTestServer& operator=(const WardenTestServer&) = delete;

  bool ready() const { return port_ > 0; }
  // The base URL, https://127.0.0.1:PORT/warden3.
  std::string url() const;

  // The next sendEvents that contains an event with one of these IDs
  // fails it, once, with `code` and `message` (500 is transient for the client).
  void fail_events_once(const std::set<std::string>& ids, int code, const std::string& message);
  // Stores an event as if client `group` had sent it; returns its id.
  std::int64_t add_event(const std::string& json, const std::string& group);

  std::vector<StoredEvent> events() const;
  std::vector<WardenCall> calls() const;

 private:
  void handle(const httplib::Request& request, httplib::Response& response);

  struct State;
  std::unique_ptr<State> state_;
  std::unique_ptr<httplib::SSLServer> server_;
  std::thread thread_;
  int port_ = 0;
};

}  // namespace slipway::testing
