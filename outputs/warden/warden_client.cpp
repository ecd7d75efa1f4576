#include "outputs/warden/warden_client.hpp"

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>

#include <fmt/format.h>

#include "outputs/http/secret_file.hpp"

namespace slipway::outputs::warden {

namespace {

// The reference client's socket timeout.
constexpr std::int64_t kDefaultTimeoutMs = 60'000;
constexpr std::int64_t kMaxTimeoutMs = 3'600'000;
constexpr std::size_t kExcerptBytes = 200;

bool is_comment_line(std::string_view line) {
  const std::size_t first = line.find_first_not_of(" \t");
  if (first == std::string_view::npos) {
    return false;
  }
  line.remove_prefix(first);
  return line.starts_with("#") || line.starts_with("//");
}

std::string percent_encode(std::string_view text) {
  std::string out;
  for (char c : text) {
    const auto byte = static_cast<unsigned char>(c);
    if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' || c == '.' ||
        c == '_' || c == '~') {
      out += c;
    } else {
      out += fmt::format("%{:02X}", byte);
    }
  }
  return out;
}

std::filesystem::path resolve(const std::filesystem::path& base_dir, const std::string& path) {
  const std::filesystem::path value(path);
  return value.is_absolute() || value.empty() ? value : base_dir / value;
}

std::string string_member(const json::Value& object, std::string_view key) {
  const json::Value* value = object.find(key);
  return value != nullptr && value->is_string() ? value->as_string() : std::string();
}

std::optional<std::int64_t> integer_member(const json::Value& object, std::string_view key) {
  const json::Value* value = object.find(key);
  return value != nullptr && value->is_number() ? value->as_int() : std::nullopt;
}

bool is_valid_client_name(std::string_view name) {
  return !name.empty() && std::all_of(name.begin(), name.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '.' || c == '-' || c == '_';
  });
}

std::string lower(std::string text) {
  std::transform(text.begin(), text.end(), text.begin(),
                 [](char c) { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c; });
  return text;
}

}  // namespace

void WardenSettings::add_schema_fields(std::vector<config::Field>& fields) {
  const std::vector<config::Field> connection = {
      config::Field{.name = "warden_conf",
                    .type = config::FieldType::String,
                    .doc = "A Slips warden.conf (JSON; lines starting with # or // are comments) to take url, name, "
                           "certfile, keyfile, cafile, secret, timeout and limits from; keys given here win"},
      config::Field{.name = "url",
                    .type = config::FieldType::String,
                    .doc = "Base URL of the Warden server, e.g. https://warden-hub.cesnet.cz/warden3"},
      config::Field{.name = "client",
                    .type = config::FieldType::String,
                    .doc = "Registered client name in reverse-DNS form, e.g. cz.example.slips; sent as client= and "
                           "as Node[0].Name"},
      config::Field{.name = "secret_file",
                    .type = config::FieldType::String,
                    .doc = "File holding the client's secret, for clients registered with one; read at start"},
      config::Field{.name = "cert_file",
                    .type = config::FieldType::String,
                    .doc = "PEM client certificate the server authenticates the client by"},
      config::Field{.name = "key_file",
                    .type = config::FieldType::String,
                    .doc = "PEM private key of cert_file, when cert_file does not contain it"},
      config::Field{.name = "ca_file",
                    .type = config::FieldType::String,
                    .doc = "PEM CA certificates to verify the server with instead of the system store"},
      config::Field{.name = "connect_timeout_ms",
                    .type = config::FieldType::Integer,
                    .doc = "Longest wait for a connection (TCP and TLS handshake), in milliseconds",
                    .default_text = "10000",
                    .min = 1,
                    .max = kMaxTimeoutMs},
      config::Field{.name = "timeout_ms",
                    .type = config::FieldType::Integer,
                    .doc = "Longest time one call may take, in milliseconds",
                    .default_text = std::to_string(kDefaultTimeoutMs),
                    .min = 1,
                    .max = kMaxTimeoutMs},
  };
  fields.insert(fields.end(), connection.begin(), connection.end());
}

std::optional<WardenSettings> read_warden_conf(const std::filesystem::path& path, std::string& error) {
  std::ifstream stream(path);
  if (!stream) {
    error = fmt::format("{} cannot be read: {}", path.string(), std::strerror(errno));
    return std::nullopt;
  }
  // Comment lines become empty lines, so JSON errors keep their line numbers.
  std::string text;
  std::string line;
  while (std::getline(stream, line)) {
    text += is_comment_line(line) ? "" : line;
    text += '\n';
  }
  const json::ParseResult parsed = json::parse(text);
  if (!parsed.value || !parsed.value->is_object()) {
    error = fmt::format("{} is not a JSON object: {} at byte {}", path.string(),
                        parsed.value ? "another JSON value" : parsed.error, parsed.error_offset);
    return std::nullopt;
  }

  const json::Value& conf = *parsed.value;
  const std::filesystem::path base_dir = path.parent_path();
  WardenSettings settings;
  settings.url = string_member(conf, "url");
  settings.client_name = lower(string_member(conf, "name"));
  settings.secret = string_member(conf, "secret");
  settings.http.tls.cert_file = resolve(base_dir, string_member(conf, "certfile"));
  settings.http.tls.key_file = resolve(base_dir, string_member(conf, "keyfile"));
  settings.http.tls.ca_file = resolve(base_dir, string_member(conf, "cafile"));
  if (const auto timeout = integer_member(conf, "timeout"); timeout && *timeout > 0) {
    settings.http.timeout = std::chrono::seconds(*timeout);
  }
  if (const auto limit = integer_member(conf, "send_events_limit"); limit && *limit > 0) {
    settings.send_events_limit = static_cast<std::size_t>(*limit);
  }
  if (const auto limit = integer_member(conf, "get_events_limit"); limit && *limit > 0) {
    settings.get_events_limit = static_cast<std::size_t>(*limit);
  }
  return settings;
}

std::optional<WardenSettings> WardenSettings::parse(const config::Section& settings, config::Errors& errors) {
  bool valid = true;
  const auto problem = [&](std::string_view key, std::string_view what) {
    errors.add(settings.location(key), fmt::format("{}: key \"{}\": {}", settings.context(), key, what));
    valid = false;
  };

  WardenSettings parsed;
  parsed.http.timeout = std::chrono::milliseconds(kDefaultTimeoutMs);
  if (settings.has("warden_conf")) {
    std::string error;
    std::optional<WardenSettings> from_file = read_warden_conf(settings.string("warden_conf"), error);
    if (!from_file) {
      problem("warden_conf", error);
    } else {
      parsed = std::move(*from_file);
    }
  }
  if (settings.has("url")) {
    parsed.url = settings.string("url");
  }
  if (settings.has("client")) {
    parsed.client_name = lower(settings.string("client"));
  }
  if (settings.has("secret_file")) {
    parsed.secret_file = settings.string("secret_file");
    parsed.secret.clear();
  }
  if (settings.has("cert_file")) {
    parsed.http.tls.cert_file = settings.string("cert_file");
  }
  if (settings.has("key_file")) {
    parsed.http.tls.key_file = settings.string("key_file");
  }
  if (settings.has("ca_file")) {
    parsed.http.tls.ca_file = settings.string("ca_file");
  }
  parsed.http.connect_timeout = std::chrono::milliseconds(settings.integer("connect_timeout_ms"));
  if (settings.has("timeout_ms") || !settings.has("warden_conf")) {
    parsed.http.timeout = std::chrono::milliseconds(settings.integer("timeout_ms"));
  }

  if (parsed.url.empty()) {
    problem("url", "missing; set url or a warden_conf that has one");
  } else if (const auto url_problem = http::check_url(parsed.url)) {
    problem("url", *url_problem);
  }
  if (!is_valid_client_name(parsed.client_name)) {
    problem("client", fmt::format("\"{}\" is not a registered client name; expected reverse-DNS form such as "
                                  "cz.example.slips (set client or name in warden_conf)",
                                  parsed.client_name));
  }
  if (parsed.http.tls.cert_file.empty() && parsed.secret.empty() && parsed.secret_file.empty()) {
    problem("cert_file", "Warden authenticates clients by certificate; set cert_file and key_file (or secret_file "
                         "for a server that accepts a secret alone)");
  }
  if (!parsed.http.tls.key_file.empty() && parsed.http.tls.cert_file.empty()) {
    problem("key_file", "a private key needs the client certificate in cert_file");
  }
  if (!valid) {
    return std::nullopt;
  }
  return parsed;
}

std::optional<std::vector<WardenError>> parse_errors(std::string_view body) {
  const json::ParseResult parsed = json::parse(body);
  const json::Value* list = parsed.value ? parsed.value->find("errors") : nullptr;
  if (list == nullptr || !list->is_array()) {
    return std::nullopt;
  }
  std::vector<WardenError> errors;
  for (const json::Value& item : list->items()) {
    WardenError error;
    error.code = static_cast<long>(integer_member(item, "error").value_or(0));
    error.message = string_member(item, "message");
    if (const json::Value* events = item.find("events"); events != nullptr && events->is_array()) {
      for (const json::Value& index : events->items()) {
        if (const auto value = index.as_int(); value && *value >= 0) {
          error.events.push_back(static_cast<std::size_t>(*value));
        }
      }
    }
    if (const auto limit = integer_member(item, "send_events_limit"); limit && *limit > 0) {
      error.send_events_limit = static_cast<std::size_t>(*limit);
    }
    errors.push_back(std::move(error));
  }
  return errors;
}

WardenClient::WardenClient(WardenSettings settings, spdlog::logger& log) : settings_(std::move(settings)) {
  if (!settings_.secret_file.empty()) {
    settings_.secret = http::read_secret_file(settings_.secret_file, "secret_file", log);
  }
  http_ = std::make_unique<http::HttpClient>(settings_.http);
}

WardenClient::~WardenClient() = default;

http::Result WardenClient::call(std::string_view method, const Query& query, std::string_view body) {
  std::string url = settings_.url;
  while (!url.empty() && url.back() == '/') {
    url.pop_back();
  }
  url += fmt::format("/{}?client={}", method, percent_encode(settings_.client_name));
  if (!settings_.secret.empty()) {
    url += "&secret=" + percent_encode(settings_.secret);
  }
  for (const auto& [name, value] : query) {
    url += fmt::format("&{}={}", name, percent_encode(value));
  }
  const std::vector<http::Header> headers = {{"Content-Type", "application/json"}, {"Accept", "application/json"}};
  return http_->send(http::Request{"POST", url, headers, body});
}

std::string WardenClient::endpoint(std::string_view method) const {
  std::string url = http::url_for_messages(settings_.url);
  while (!url.empty() && url.back() == '/') {
    url.pop_back();
  }
  return url + "/" + std::string(method);
}

std::string describe_failure(const WardenClient& client, std::string_view method, const http::Result& result) {
  if (!result.response) {
    return fmt::format("POST {} failed: {}: {}", client.endpoint(method), http::transport_failure_name(result.failure),
                       result.error);
  }
  const http::Response& response = *result.response;
  std::string detail;
  if (const auto errors = parse_errors(response.body); errors && !errors->empty()) {
    detail = errors->front().message;
    if (errors->size() > 1) {
      detail += fmt::format(" (and {} more errors)", errors->size() - 1);
    }
  } else {
    json::append_sanitized_utf8(std::string_view(response.body).substr(0, kExcerptBytes), detail);
  }
  // A server that echoes the request would echo the secret from the query.
  const std::string& secret = client.settings().secret;
  for (std::size_t found = 0; !secret.empty() && (found = detail.find(secret)) != std::string::npos;) {
    detail.replace(found, secret.size(), "[redacted]");
  }
  return fmt::format("POST {} returned {}: {}", client.endpoint(method), response.status, detail);
}

}  // namespace slipway::outputs::warden
