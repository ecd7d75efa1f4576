#include "outputs/http/http_client.hpp"

#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <mutex>
#include <stdexcept>

#include <curl/curl.h>
#include <fmt/format.h>

namespace slipway::outputs::http {

namespace {

// An hour: longer than any sensible request, short enough never to overflow.
constexpr std::int64_t kMaxTimeoutMs = 3'600'000;
// CURLOPT_SSL_VERIFYHOST takes 2 to check that the certificate names the host.
constexpr long kVerifyHostName = 2;

const config::Schema& tls_schema() {
  static const config::Schema schema{{
      config::Field{.name = "verify",
                    .type = config::FieldType::Boolean,
                    .doc = "Check the server certificate and host name; false accepts any certificate and logs a "
                           "warning at start",
                    .default_text = "true"},
      config::Field{.name = "ca_file",
                    .type = config::FieldType::String,
                    .doc = "PEM file of CA certificates to trust instead of the system store"},
      config::Field{.name = "cert_file",
                    .type = config::FieldType::String,
                    .doc = "PEM client certificate, for servers that require one"},
      config::Field{.name = "key_file",
                    .type = config::FieldType::String,
                    .doc = "PEM private key of cert_file, when cert_file does not contain it"},
  }};
  return schema;
}

void initialize_curl_once() {
  static std::once_flag once;
  std::call_once(once, [] { curl_global_init(CURL_GLOBAL_DEFAULT); });
}

char ascii_lower(char c) { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c; }

bool equals_ignoring_case(std::string_view left, std::string_view right) {
  return left.size() == right.size() &&
         std::equal(left.begin(), left.end(), right.begin(),
                    [](char a, char b) { return ascii_lower(a) == ascii_lower(b); });
}

std::string_view trim(std::string_view text) {
  while (!text.empty() && (text.front() == ' ' || text.front() == '\t')) {
    text.remove_prefix(1);
  }
  while (!text.empty() && (text.back() == ' ' || text.back() == '\t' || text.back() == '\r' || text.back() == '\n')) {
    text.remove_suffix(1);
  }
  return text;
}

std::size_t append_body(char* data, std::size_t size, std::size_t count, void* user) {
  auto& response = *static_cast<Response*>(user);
  const std::size_t bytes = size * count;
  const std::size_t room = response.body_limit - std::min(response.body_limit, response.body.size());
  if (bytes > room) {
    response.body_truncated = true;
  }
  response.body.append(data, std::min(bytes, room));
  return bytes;
}

std::size_t append_header(char* data, std::size_t size, std::size_t count, void* user) {
  auto& response = *static_cast<Response*>(user);
  const std::size_t bytes = size * count;
  const std::string_view line(data, bytes);
  // A status line starts a new response, e.g. the final one after
  // "100 Continue": only the last response's headers are kept.
  if (line.starts_with("HTTP/")) {
    response.headers.clear();
    return bytes;
  }
  const std::size_t colon = line.find(':');
  if (colon == std::string_view::npos || colon == 0) {
    return bytes;
  }
  response.headers.push_back(Header{std::string(line.substr(0, colon)), std::string(trim(line.substr(colon + 1)))});
  return bytes;
}

TransportFailure classify(CURLcode code) {
  switch (code) {
    case CURLE_OK:
      return TransportFailure::None;
    case CURLE_COULDNT_RESOLVE_HOST:
    case CURLE_COULDNT_RESOLVE_PROXY:
      return TransportFailure::Resolve;
    case CURLE_COULDNT_CONNECT:
      return TransportFailure::Connect;
    case CURLE_OPERATION_TIMEDOUT:
      return TransportFailure::Timeout;
    case CURLE_SEND_ERROR:
    case CURLE_RECV_ERROR:
    case CURLE_GOT_NOTHING:
    case CURLE_PARTIAL_FILE:
    case CURLE_WEIRD_SERVER_REPLY:
    case CURLE_HTTP2:
    case CURLE_HTTP2_STREAM:
      return TransportFailure::ConnectionLost;
    case CURLE_SSL_CONNECT_ERROR:
    case CURLE_PEER_FAILED_VERIFICATION:
    case CURLE_SSL_CERTPROBLEM:
    case CURLE_SSL_CIPHER:
    case CURLE_SSL_CACERT_BADFILE:
    case CURLE_SSL_ISSUER_ERROR:
    case CURLE_SSL_CRL_BADFILE:
    case CURLE_SSL_PINNEDPUBKEYNOTMATCH:
    case CURLE_SSL_INVALIDCERTSTATUS:
    case CURLE_SSL_SHUTDOWN_FAILED:
    case CURLE_USE_SSL_FAILED:
      return TransportFailure::Tls;
    case CURLE_URL_MALFORMAT:
    case CURLE_UNSUPPORTED_PROTOCOL:
      return TransportFailure::InvalidRequest;
    default:
      return TransportFailure::Other;
  }
}

void check_readable(const std::filesystem::path& path, std::string_view key) {
  if (!path.empty() && ::access(path.c_str(), R_OK) != 0) {
    throw std::runtime_error(fmt::format("tls.{} {} cannot be read: {}; check the path and its permissions", key,
                                         path.string(), std::strerror(errno)));
  }
}

// Owns a parsed URL from libcurl's URL API.
class ParsedUrl {
 public:
  explicit ParsedUrl(std::string_view url) : handle_(curl_url()) {
    const std::string text(url);
    valid_ = handle_ != nullptr && curl_url_set(handle_, CURLUPART_URL, text.c_str(), 0) == CURLUE_OK;
  }
  ~ParsedUrl() { curl_url_cleanup(handle_); }
  ParsedUrl(const ParsedUrl&) = delete;
  ParsedUrl& operator=(const ParsedUrl&) = delete;

  bool valid() const { return valid_; }

  std::optional<std::string> part(CURLUPart which) const {
    char* value = nullptr;
    if (curl_url_get(handle_, which, &value, 0) != CURLUE_OK || value == nullptr) {
      return std::nullopt;
    }
    std::string copy(value);
    curl_free(value);
    return copy;
  }

  void clear(CURLUPart which) { curl_url_set(handle_, which, nullptr, 0); }

 private:
  CURLU* handle_;
  bool valid_ = false;
};

}  // namespace

void ClientSettings::add_schema_fields(std::vector<config::Field>& fields) {
  fields.push_back(config::Field{.name = "connect_timeout_ms",
                                 .type = config::FieldType::Integer,
                                 .doc = "Longest wait for a connection (TCP and TLS handshake), in milliseconds",
                                 .default_text = "10000",
                                 .min = 1,
                                 .max = kMaxTimeoutMs});
  fields.push_back(config::Field{.name = "timeout_ms",
                                 .type = config::FieldType::Integer,
                                 .doc = "Longest time one request may take, connection included, in milliseconds; "
                                        "a request that times out is retried with the same idempotency key",
                                 .default_text = "30000",
                                 .min = 1,
                                 .max = kMaxTimeoutMs});
  fields.push_back(config::Field{.name = "tls",
                                 .type = config::FieldType::Object,
                                 .doc = "TLS settings for https URLs: verify, ca_file, cert_file, key_file",
                                 .nested = &tls_schema()});
}

ClientSettings ClientSettings::parse(const config::Section& settings, config::Errors& errors) {
  ClientSettings parsed;
  parsed.connect_timeout = std::chrono::milliseconds(settings.integer("connect_timeout_ms"));
  parsed.timeout = std::chrono::milliseconds(settings.integer("timeout_ms"));

  const config::Section tls = settings.object("tls");
  parsed.tls.verify = tls.boolean("verify");
  parsed.tls.ca_file = tls.string("ca_file");
  parsed.tls.cert_file = tls.string("cert_file");
  parsed.tls.key_file = tls.string("key_file");
  if (!parsed.tls.key_file.empty() && parsed.tls.cert_file.empty()) {
    errors.add(tls.location("key_file"),
               fmt::format("{}: key \"tls.key_file\": a private key needs the client certificate in tls.cert_file",
                           settings.context()));
  }
  return parsed;
}

bool is_valid_header_name(std::string_view name) {
  constexpr std::string_view kTokenPunctuation = "!#$%&'*+-.^_`|~";
  return !name.empty() && std::all_of(name.begin(), name.end(), [&](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
           kTokenPunctuation.find(c) != std::string_view::npos;
  });
}

bool header_names_equal(std::string_view left, std::string_view right) { return equals_ignoring_case(left, right); }

bool is_valid_header_value(std::string_view value) { return value.find_first_of(std::string_view("\r\n\0", 3)) == std::string_view::npos; }

std::optional<std::string_view> Response::header(std::string_view name) const {
  for (const Header& header : headers) {
    if (equals_ignoring_case(header.name, name)) {
      return std::string_view(header.value);
    }
  }
  return std::nullopt;
}

const char* transport_failure_name(TransportFailure failure) {
  switch (failure) {
    case TransportFailure::None:
      return "none";
    case TransportFailure::Resolve:
      return "name resolution failed";
    case TransportFailure::Connect:
      return "connection failed";
    case TransportFailure::Timeout:
      return "timed out";
    case TransportFailure::ConnectionLost:
      return "connection lost";
    case TransportFailure::Tls:
      return "TLS failed";
    case TransportFailure::InvalidRequest:
      return "invalid request";
    case TransportFailure::Other:
      return "transfer failed";
  }
  return "transfer failed";
}

struct HttpClient::Handle {
  CURL* curl = nullptr;
  char error_buffer[CURL_ERROR_SIZE] = {};
  Response response;
  std::size_t max_response_body_bytes = Response::kMaxResponseBodyBytes;

  ~Handle() {
    if (curl != nullptr) {
      curl_easy_cleanup(curl);
    }
  }
};

HttpClient::HttpClient(ClientSettings settings) : handle_(std::make_unique<Handle>()) {
  handle_->max_response_body_bytes = settings.max_response_body_bytes;
  check_readable(settings.tls.ca_file, "ca_file");
  check_readable(settings.tls.cert_file, "cert_file");
  check_readable(settings.tls.key_file, "key_file");

  initialize_curl_once();
  handle_->curl = curl_easy_init();
  if (handle_->curl == nullptr) {
    throw std::runtime_error("creating a libcurl handle failed");
  }
  CURL* curl = handle_->curl;
  // Without NOSIGNAL, libcurl's timeouts use SIGALRM, which is unsafe with threads.
  curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(curl, CURLOPT_PROTOCOLS_STR, "http,https");
  curl_easy_setopt(curl, CURLOPT_FOLLOWLOCATION, 0L);
  curl_easy_setopt(curl, CURLOPT_TCP_KEEPALIVE, 1L);
  curl_easy_setopt(curl, CURLOPT_USERAGENT, "slipway/" SLIPWAY_VERSION);
  curl_easy_setopt(curl, CURLOPT_CONNECTTIMEOUT_MS, static_cast<long>(settings.connect_timeout.count()));
  curl_easy_setopt(curl, CURLOPT_TIMEOUT_MS, static_cast<long>(settings.timeout.count()));
  curl_easy_setopt(curl, CURLOPT_ERRORBUFFER, handle_->error_buffer);
  curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, &append_body);
  curl_easy_setopt(curl, CURLOPT_WRITEDATA, &handle_->response);
  curl_easy_setopt(curl, CURLOPT_HEADERFUNCTION, &append_header);
  curl_easy_setopt(curl, CURLOPT_HEADERDATA, &handle_->response);

  curl_easy_setopt(curl, CURLOPT_SSL_VERIFYPEER, settings.tls.verify ? 1L : 0L);
  curl_easy_setopt(curl, CURLOPT_SSL_VERIFYHOST, settings.tls.verify ? kVerifyHostName : 0L);
  if (!settings.tls.ca_file.empty()) {
    curl_easy_setopt(curl, CURLOPT_CAINFO, settings.tls.ca_file.c_str());
  }
  if (!settings.tls.cert_file.empty()) {
    curl_easy_setopt(curl, CURLOPT_SSLCERT, settings.tls.cert_file.c_str());
  }
  if (!settings.tls.key_file.empty()) {
    curl_easy_setopt(curl, CURLOPT_SSLKEY, settings.tls.key_file.c_str());
  }
}

HttpClient::~HttpClient() = default;

Result HttpClient::send(const Request& request) {
  CURL* curl = handle_->curl;
  handle_->response = Response{};
  handle_->response.body_limit = handle_->max_response_body_bytes;
  handle_->error_buffer[0] = '\0';

  const std::string url(request.url);
  curl_easy_setopt(curl, CURLOPT_URL, url.c_str());
  std::string method(request.method);
  if (method == "GET") {
    curl_easy_setopt(curl, CURLOPT_HTTPGET, 1L);
    curl_easy_setopt(curl, CURLOPT_CUSTOMREQUEST, nullptr);
  } else {
    curl_easy_setopt(curl, CURLOPT_POST, 1L);
    curl_easy_setopt(curl, CURLOPT_POSTFIELDS, request.body.data());
    curl_easy_setopt(curl, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(request.body.size()));
    curl_easy_setopt(curl, CURLOPT_CUSTOMREQUEST, method == "POST" ? nullptr : method.c_str());
  }

  curl_slist* header_list = nullptr;
  // libcurl 7.88 (Debian 12) sends "Expect: 100-continue" before bodies
  // over 1 KiB, then waits up to a second for a "100 Continue" that many
  // servers never send. An empty Expect header turns that off.
  header_list = curl_slist_append(header_list, "Expect:");
  std::string line;
  for (const Header& header : request.headers) {
    line.assign(header.name).append(": ").append(header.value);
    header_list = curl_slist_append(header_list, line.c_str());
  }
  curl_easy_setopt(curl, CURLOPT_HTTPHEADER, header_list);

  // NOTE: libcurl resends a request once on a new connection when a reused
  // connection closes before any response byte. A server can then see one
  // send() twice, with the same headers and so the same idempotency key.
  const CURLcode code = curl_easy_perform(curl);
  curl_easy_setopt(curl, CURLOPT_HTTPHEADER, nullptr);
  curl_slist_free_all(header_list);

  Result result;
  if (code == CURLE_OK) {
    curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &handle_->response.status);
    result.response = std::move(handle_->response);
    result.request_sent = true;
    return result;
  }

  result.failure = classify(code);
  result.retryable = result.failure != TransportFailure::InvalidRequest;
  result.error = handle_->error_buffer[0] != '\0' ? handle_->error_buffer : curl_easy_strerror(code);
  long header_bytes = 0;
  curl_off_t body_bytes = 0;
  curl_easy_getinfo(curl, CURLINFO_REQUEST_SIZE, &header_bytes);
  curl_easy_getinfo(curl, CURLINFO_SIZE_UPLOAD_T, &body_bytes);
  result.request_sent = header_bytes > 0 && (method == "GET" || body_bytes == static_cast<curl_off_t>(request.body.size()));
  return result;
}

std::string url_for_messages(std::string_view url) {
  ParsedUrl parsed(url);
  if (!parsed.valid()) {
    return std::string(url);
  }
  parsed.clear(CURLUPART_USER);
  parsed.clear(CURLUPART_PASSWORD);
  parsed.clear(CURLUPART_QUERY);
  parsed.clear(CURLUPART_FRAGMENT);
  return parsed.part(CURLUPART_URL).value_or(std::string(url));
}

std::optional<std::string> check_url(std::string_view url) {
  initialize_curl_once();
  ParsedUrl parsed(url);
  if (!parsed.valid()) {
    return "expected an absolute http:// or https:// URL";
  }
  const std::string scheme = parsed.part(CURLUPART_SCHEME).value_or("");
  if (scheme != "http" && scheme != "https") {
    return fmt::format("unsupported scheme \"{}\"; expected http or https", scheme);
  }
  if (parsed.part(CURLUPART_USER) || parsed.part(CURLUPART_PASSWORD)) {
    return "user information in the URL would appear in logs; remove it and set auth instead";
  }
  return std::nullopt;
}

}  // namespace slipway::outputs::http
