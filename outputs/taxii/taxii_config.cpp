#include <fmt/format.h>

#include "outputs/taxii/taxii_output.hpp"

namespace slipway::outputs::taxii {

namespace {

constexpr std::int64_t kMaxBatchObjects = 100'000;
constexpr std::int64_t kMaxBatchBytes = 256 * 1024 * 1024;
constexpr std::int64_t kMaxStatusTimeoutMs = 3'600'000;

config::Schema make_schema() {
  std::vector<config::Field> fields = {
      config::Field{.name = "version",
                    .type = config::FieldType::Enum,
                    .doc = "TAXII version of the server: 2.1 (JSON envelopes) or 1.1 (XML inbox messages with STIX "
                           "1.2 content)",
                    .default_text = "2.1",
                    .choices = {"2.1", "1.1"}},
      config::Field{.name = "url",
                    .type = config::FieldType::String,
                    .doc = "2.1: the discovery URL (e.g. https://taxii.example/taxii2/) or an API root URL; 1.1: "
                           "the inbox service URL (e.g. https://taxii.example/services/inbox)",
                    .required = true},
      config::Field{.name = "collection",
                    .type = config::FieldType::String,
                    .doc = "2.1: id or title of a writable collection; 1.1: the destination collection name",
                    .required = true},
      config::Field{.name = "batch_max_objects",
                    .type = config::FieldType::Integer,
                    .doc = "Most STIX objects in one envelope or inbox message",
                    .default_text = "500",
                    .min = 1,
                    .max = kMaxBatchObjects},
      config::Field{.name = "batch_max_bytes",
                    .type = config::FieldType::Integer,
                    .doc = "Most bytes in one request body; with 2.1 the API root's max_content_length lowers it",
                    .default_text = "1048576",
                    .min = 64,
                    .max = kMaxBatchBytes},
      config::Field{.name = "status_timeout_ms",
                    .type = config::FieldType::Integer,
                    .doc = "2.1: how long to poll a pending status resource before its pending objects are sent "
                           "again",
                    .default_text = "30000",
                    .min = 0,
                    .max = kMaxStatusTimeoutMs},
      config::Field{.name = "auth",
                    .type = config::FieldType::Object,
                    .doc = "Authentication: strategy (basic or bearer), user, password_file, token_file",
                    .nested = &http::AuthConfig::kSchema},
  };
  http::ClientSettings::add_schema_fields(fields);
  return config::Schema{std::move(fields)};
}

}  // namespace

const config::Schema TaxiiOutputConfig::kSchema = make_schema();

std::optional<TaxiiOutputConfig> TaxiiOutputConfig::parse(const config::Section& settings, config::Errors& errors) {
  TaxiiOutputConfig config;
  bool valid = true;

  config.version = settings.string("version") == "1.1" ? TaxiiVersion::V11 : TaxiiVersion::V21;
  config.url = settings.string("url");
  if (settings.has("url")) {
    if (const auto problem = http::check_url(config.url)) {
      errors.add(settings.location("url"), fmt::format("{}: key \"url\": {}", settings.context(), *problem));
      valid = false;
    }
  }
  config.collection = settings.string("collection");
  if (settings.has("collection") && config.collection.empty()) {
    errors.add(settings.location("collection"),
               fmt::format("{}: key \"collection\": expected a collection id or title, got an empty string",
                           settings.context()));
    valid = false;
  }
  config.batch_max_objects = static_cast<std::size_t>(settings.integer("batch_max_objects"));
  config.batch_max_bytes = static_cast<std::size_t>(settings.integer("batch_max_bytes"));
  config.status_timeout = std::chrono::milliseconds(settings.integer("status_timeout_ms"));
  if (config.version == TaxiiVersion::V11 && settings.has("status_timeout_ms")) {
    errors.warn(settings.location("status_timeout_ms"),
                fmt::format("{}: key \"status_timeout_ms\" applies to version 2.1 only and is ignored",
                            settings.context()));
  }
  config.client = http::ClientSettings::parse(settings, errors);
  valid = http::AuthConfig::parse(settings, errors, config.auth) && valid;

  if (!valid) {
    return std::nullopt;
  }
  return config;
}

}  // namespace slipway::outputs::taxii
