// A blocking HTTP/1.1 client shared by the outputs that talk HTTP (http,
// and later Slack, TAXII, Warden, Elasticsearch). One client keeps one
// connection open across requests, verifies the server's TLS certificate
// unless the configuration turns that off, and sorts transport failures
// into those worth retrying and those that are not. It never retries by
// itself: the engine's delivery loop decides.
#pragma once

#include <chrono>
#include <cstddef>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "config/errors.hpp"
#include "config/schema.hpp"

namespace slipway::outputs::http {

struct TlsSettings {
  bool verify = true;                // check the server certificate and host name
  std::filesystem::path ca_file;     // PEM CA certificates to trust instead of the system store
  std::filesystem::path cert_file;   // PEM client certificate, for servers that require one
  std::filesystem::path key_file;    // PEM private key of cert_file
};

struct ClientSettings {
  std::chrono::milliseconds connect_timeout{10'000};
  std::chrono::milliseconds timeout{30'000};  // whole request, connection included
  TlsSettings tls;
  // Longer response bodies are cut; an output that reads per-item results
  // (Elasticsearch _bulk) raises it.
  std::size_t max_response_body_bytes = 64 * 1024;

  // Appends the keys `connect_timeout_ms`, `timeout_ms` and `tls` to an
  // output's schema, so every HTTP output spells them alike.
  static void add_schema_fields(std::vector<config::Field>& fields);
  // Reads those keys; adds to `errors` when tls.cert_file and
  // tls.key_file do not come together.
  static ClientSettings parse(const config::Section& settings, config::Errors& errors);
};

struct Header {
  std::string name;
  std::string value;
};

// True when `name` is an HTTP field name: one or more token characters
// (RFC 9110, section 5.1).
bool is_valid_header_name(std::string_view name);

// True when two header names are equal; names are case-insensitive.
bool header_names_equal(std::string_view left, std::string_view right);

// True when `value` can be sent as a field value: no CR, LF or NUL, which
// would let a value end the header and start another.
bool is_valid_header_value(std::string_view value);

struct Request {
  std::string_view method;  // "GET", "POST", "PUT", ...
  std::string_view url;
  std::vector<Header> headers;
  std::string_view body;  // sent for every method except GET
};

struct Response {
  long status = 0;
  std::vector<Header> headers;  // of the final response, in the order received
  std::string body;             // at most body_limit bytes
  bool body_truncated = false;
  std::size_t body_limit = kMaxResponseBodyBytes;  // ClientSettings::max_response_body_bytes

  // Responses are read into memory only up to this size: an output needs
  // the status and a short error text, never a large body.
  static constexpr std::size_t kMaxResponseBodyBytes = 64 * 1024;

  // The value of the first header named `name`, compared case-insensitively.
  std::optional<std::string_view> header(std::string_view name) const;
};

enum class TransportFailure {
  None,
  Resolve,         // the host name did not resolve
  Connect,         // connection refused or host unreachable
  Timeout,         // connect_timeout_ms or timeout_ms passed
  ConnectionLost,  // reset, or closed before a whole response arrived
  Tls,             // handshake or certificate verification failed
  InvalidRequest,  // the request cannot be sent as given (bad URL, unsupported scheme)
  Other,
};

const char* transport_failure_name(TransportFailure failure);

struct Result {
  std::optional<Response> response;  // set when a whole response arrived, whatever its status
  TransportFailure failure = TransportFailure::None;
  // True for failures that may pass: everything except InvalidRequest.
  bool retryable = false;
  // True when the whole request had been sent before the failure, so the
  // server may have processed it; a retry then needs an idempotency key.
  bool request_sent = false;
  std::string error;  // libcurl's description of the failure; never contains header values
};

class HttpClient {
 public:
  // Throws std::runtime_error naming the key and the file when a file in
  // `settings.tls` cannot be read.
  explicit HttpClient(ClientSettings settings);
  ~HttpClient();
  HttpClient(const HttpClient&) = delete;
  HttpClient& operator=(const HttpClient&) = delete;

  // Sends one request and waits for the response or a failure, once. The
  // connection of the previous request is reused when the server kept it
  // open. Not thread-safe: one client serves one thread.
  Result send(const Request& request);

 private:
  struct Handle;
  std::unique_ptr<Handle> handle_;
};

// `url` without user information, query and fragment, for messages: a
// query may carry an API key. Returns `url` unchanged when it does not parse.
// NOTE: the path stays, so an output whose URL carries a secret in its
// path (a Slack webhook URL) must hide the path itself.
std::string url_for_messages(std::string_view url);

// Checks that `url` is an absolute http or https URL without user
// information; returns what is wrong, or nothing when it is usable.
std::optional<std::string> check_url(std::string_view url);

}  // namespace slipway::outputs::http
