// A Warden 3 client shared by the warden output and input: its connection
// settings (from the pipeline file, a Slips warden.conf, or both), the
// calls `{url}/{method}?client=...&secret=...` over HTTPS with a client
// certificate, and the error lists the server returns.
#pragma once

#include <chrono>
#include <cstddef>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "config/errors.hpp"
#include "config/schema.hpp"
#include "engine/json.hpp"
#include <spdlog/logger.h>

#include "outputs/http/http_client.hpp"

namespace slipway::outputs::warden {

struct WardenSettings {
  std::string url;          // base URL, e.g. https://warden-hub.example/warden3
  std::string client_name;  // registered name, lower case, e.g. cz.example.slips
  std::filesystem::path secret_file;
  std::string secret;       // from warden.conf, or read from secret_file at start
  std::size_t send_events_limit = 500;
  std::size_t get_events_limit = 6000;
  http::ClientSettings http;

  // Appends the connection keys (url, client, secret_file, cert_file,
  // key_file, ca_file, warden_conf, timeouts) to a component's schema.
  static void add_schema_fields(std::vector<config::Field>& fields);
  // Reads those keys, first from `warden_conf` when set, then from the
  // pipeline file, whose keys win. Adds every problem to `errors`.
  static std::optional<WardenSettings> parse(const config::Section& settings, config::Errors& errors);
};

// Parses a Slips warden.conf: JSON in which lines starting with `#` or
// `//` are comments. Relative certfile, keyfile and cafile paths are read
// against the file's directory. Returns nothing and sets `error` when the
// file cannot be read or is not such JSON.
std::optional<WardenSettings> read_warden_conf(const std::filesystem::path& path, std::string& error);

// One entry of a Warden error reply.
struct WardenError {
  long code = 0;
  std::string message;
  std::vector<std::size_t> events;  // indices into the posted array; empty: the whole request
  std::optional<std::size_t> send_events_limit;
};

// The errors of a non-200 reply; nothing when the body is not the
// `{"errors": [...]}` JSON the server writes.
std::optional<std::vector<WardenError>> parse_errors(std::string_view body);

class WardenClient {
 public:
  // Throws std::runtime_error naming the file when a certificate, key, CA
  // or secret file cannot be read.
  WardenClient(WardenSettings settings, spdlog::logger& log);
  ~WardenClient();

  using Query = std::vector<std::pair<std::string, std::string>>;

  // POSTs `body` to `method` with the client name, the secret and `query`.
  http::Result call(std::string_view method, const Query& query, std::string_view body);

  // The URL of `method` as messages show it: without the query, which
  // contains the secret.
  std::string endpoint(std::string_view method) const;
  const WardenSettings& settings() const { return settings_; }

 private:
  WardenSettings settings_;
  std::unique_ptr<http::HttpClient> http_;
};

// "POST https://.../sendEvents failed: TLS failed: ..." or
// "POST https://.../getEvents returned 403: I'm watching. Authenticate.".
std::string describe_failure(const WardenClient& client, std::string_view method, const http::Result& result);

}  // namespace slipway::outputs::warden
