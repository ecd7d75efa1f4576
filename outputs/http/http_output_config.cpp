#include "outputs/http/http_output.hpp"

#include <algorithm>
#include <array>
#include <string_view>

#include <fmt/format.h>

namespace slipway::outputs::http {

namespace {

constexpr std::int64_t kMaxBatchEvents = 1'000'000;
// zlib takes at most 4 GiB in one call; this stays far below it.
constexpr std::int64_t kMaxBatchBytes = 256 * 1024 * 1024;

// Headers that libcurl or the output sets, or that would break the
// framing of the request if the user set them.
constexpr std::array<std::string_view, 6> kManagedHeaders = {"Content-Length", "Content-Encoding", "Transfer-Encoding",
                                                             "Host",           "Connection",       "Expect"};

const config::Schema kEncodingSchema{{
    config::Field{.name = "codec",
                  .type = config::FieldType::Enum,
                  .doc = "json_lines: one JSON object per line (application/x-ndjson); json_array: one JSON array "
                         "of the objects (application/json)",
                  .default_text = "json_lines",
                  .choices = {"json_lines", "json_array"}},
}};

config::Schema make_schema() {
  std::vector<config::Field> fields = {
      config::Field{.name = "url",
                    .type = config::FieldType::String,
                    .doc = "Endpoint to send events to, http:// or https://",
                    .required = true},
      config::Field{.name = "method",
                    .type = config::FieldType::Enum,
                    .doc = "HTTP method of each request",
                    .default_text = "POST",
                    .choices = {"POST", "PUT"}},
      config::Field{.name = "encoding",
                    .type = config::FieldType::Object,
                    .doc = "How events are written into a request body: codec",
                    .nested = &kEncodingSchema},
      config::Field{.name = "batch_max_events",
                    .type = config::FieldType::Integer,
                    .doc = "Most events in one request; a larger batch is sent in several requests",
                    .default_text = "1000",
                    .min = 1,
                    .max = kMaxBatchEvents},
      config::Field{.name = "batch_max_bytes",
                    .type = config::FieldType::Integer,
                    .doc = "Most bytes in one request body before compression; 1 MiB by default, nginx's default "
                           "limit; a single larger event is sent alone",
                    .default_text = "1048576",
                    .min = 1,
                    .max = kMaxBatchBytes},
      config::Field{.name = "headers",
                    .type = config::FieldType::Object,
                    .doc = "Extra request headers, name: value; values are never logged"},
      config::Field{.name = "auth",
                    .type = config::FieldType::Object,
                    .doc = "Authentication: strategy (basic or bearer), user, password_file, token_file",
                    .nested = &AuthConfig::kSchema},
      config::Field{.name = "compression",
                    .type = config::FieldType::Enum,
                    .doc = "none, or gzip: compress each body and send Content-Encoding: gzip",
                    .default_text = "none",
                    .choices = {"none", "gzip"}},
      config::Field{.name = "idempotency_header",
                    .type = config::FieldType::String,
                    .doc = "Header carrying a key derived from the events' IDs, equal on every retry of a request so "
                           "the receiver can drop repeats; empty sends none",
                    .default_text = "Idempotency-Key"},
  };
  ClientSettings::add_schema_fields(fields);
  return config::Schema{std::move(fields)};
}

config::Location location_of(const YAML::Node& node, const config::Section& settings) {
  const YAML::Mark mark = node.Mark();
  if (mark.is_null()) {
    return config::Location{settings.file(), 0, 0};
  }
  return config::Location{settings.file(), mark.line + 1, mark.column + 1};
}

bool is_managed_header(std::string_view name) {
  return std::any_of(kManagedHeaders.begin(), kManagedHeaders.end(),
                     [&](std::string_view managed) { return header_names_equal(name, managed); });
}

// Reads the `headers` mapping; adds a problem for each invalid entry.
// Values are never quoted in messages, because they may hold API keys.
bool parse_headers(const config::Section& settings, config::Errors& errors, std::vector<Header>& headers) {
  if (!settings.has("headers")) {
    return true;
  }
  const YAML::Node node = settings.node()["headers"];
  if (!node.IsMap()) {
    errors.add(location_of(node, settings),
               fmt::format("{}: key \"headers\": expected a mapping of header names to values, e.g. "
                           "{{X-Sensor: lab-1}}",
                           settings.context()));
    return false;
  }

  bool valid = true;
  for (const auto& entry : node) {
    const std::string name = entry.first.Scalar();
    std::string problem;
    if (!is_valid_header_name(name)) {
      problem = "invalid header name; use letters, digits and !#$%&'*+-.^_`|~ only";
    } else if (is_managed_header(name)) {
      problem = "slipway sets this header itself; remove it";
    } else if (!entry.second.IsScalar()) {
      problem = "expected a string value";
    } else if (!is_valid_header_value(entry.second.Scalar())) {
      problem = "the value contains a line break or NUL byte; a header value must be one line";
    } else if (std::any_of(headers.begin(), headers.end(),
                           [&](const Header& header) { return header_names_equal(header.name, name); })) {
      problem = "header given twice (names are case-insensitive)";
    }
    if (!problem.empty()) {
      errors.add(location_of(entry.first, settings),
                 fmt::format("{}: key \"headers.{}\": {}", settings.context(), name, problem));
      valid = false;
      continue;
    }
    headers.push_back(Header{name, entry.second.Scalar()});
  }
  return valid;
}

}  // namespace

const config::Schema HttpOutputConfig::kSchema = make_schema();

std::optional<HttpOutputConfig> HttpOutputConfig::parse(const config::Section& settings, config::Errors& errors) {
  HttpOutputConfig config;
  bool valid = true;

  config.url = settings.string("url");
  if (settings.has("url")) {
    if (const auto problem = check_url(config.url)) {
      errors.add(settings.location("url"), fmt::format("{}: key \"url\": {}", settings.context(), *problem));
      valid = false;
    }
  }
  config.method = settings.string("method") == "PUT" ? Method::Put : Method::Post;
  config.codec = settings.object("encoding").string("codec") == "json_array" ? Codec::JsonArray : Codec::JsonLines;
  config.batch_max_events = static_cast<std::size_t>(settings.integer("batch_max_events"));
  config.batch_max_bytes = static_cast<std::size_t>(settings.integer("batch_max_bytes"));
  config.compression = settings.string("compression") == "gzip" ? Compression::Gzip : Compression::None;
  config.client = ClientSettings::parse(settings, errors);
  valid = parse_headers(settings, errors, config.headers) && valid;
  valid = AuthConfig::parse(settings, errors, config.auth) && valid;

  config.idempotency_header = settings.string("idempotency_header");
  const auto header_problem = [&](std::string_view key, std::string_view what) {
    errors.add(settings.location(key), fmt::format("{}: key \"{}\": {}", settings.context(), key, what));
    valid = false;
  };
  if (!config.idempotency_header.empty() && !is_valid_header_name(config.idempotency_header)) {
    header_problem("idempotency_header", "invalid header name; use letters, digits and !#$%&'*+-.^_`|~ only");
  }
  for (const Header& header : config.headers) {
    if (header_names_equal(header.name, config.idempotency_header)) {
      header_problem("headers", fmt::format("\"{}\" is the idempotency_header, which slipway sets per request; "
                                            "remove it from headers",
                                            header.name));
    }
    if (config.auth.strategy != AuthStrategy::None && header_names_equal(header.name, "Authorization")) {
      header_problem("headers", "auth sets the Authorization header; remove it from headers or remove auth");
    }
  }
  if (!valid) {
    return std::nullopt;
  }
  return config;
}

}  // namespace slipway::outputs::http
