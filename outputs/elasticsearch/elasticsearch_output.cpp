#include "outputs/elasticsearch/elasticsearch_output.hpp"

#include <algorithm>

#include <fmt/format.h>

#include "engine/delivery.hpp"
#include "engine/registry.hpp"
#include "outputs/http/secret_file.hpp"

namespace slipway::outputs::elasticsearch {

namespace {

constexpr std::int64_t kMaxBatchEvents = 100'000;
// Elasticsearch refuses request bodies above http.max_content_length,
// 100 MB by default.
constexpr std::int64_t kMaxBatchBytes = 100 * 1000 * 1000;
// A _bulk response carries a result per item, about 200 bytes each.
constexpr std::size_t kMaxResponseBytes = 64 * 1024 * 1024;
constexpr std::size_t kExcerptBytes = 300;
// Statuses of items that are worth sending again: the cluster was busy.
bool is_retryable_item(int status) { return status == 429 || status >= 500; }

const config::Schema kAuthSchema{{
    config::Field{.name = "strategy",
                  .type = config::FieldType::Enum,
                  .doc = "basic: user and password; api_key: an API key sent as Authorization: ApiKey",
                  .required = true,
                  .choices = {"basic", "api_key"}},
    config::Field{.name = "user", .type = config::FieldType::String, .doc = "User name for basic"},
    config::Field{.name = "password_file",
                  .type = config::FieldType::String,
                  .doc = "File holding the password for basic, read at start"},
    config::Field{.name = "api_key_file",
                  .type = config::FieldType::String,
                  .doc = "File holding the encoded API key (the `encoded` value Elasticsearch returns, "
                         "base64 of id:key), read at start"},
}};

config::Schema make_schema() {
  std::vector<config::Field> fields = {
      config::Field{.name = "urls",
                    .type = config::FieldType::StringList,
                    .doc = "Cluster nodes, http:// or https:// base URLs; a request that fails on one goes to the next",
                    .required = true},
      config::Field{.name = "index",
                    .type = config::FieldType::String,
                    .doc = "Index name, with %Y, %m, %d and %H filled from the event time in UTC",
                    .default_text = "slips-alerts-%Y.%m.%d"},
      config::Field{.name = "action",
                    .type = config::FieldType::Enum,
                    .doc = "index: create or replace the document; create: only create, needed for data streams "
                           "(an existing _id then counts as delivered)",
                    .default_text = "index",
                    .choices = {"index", "create"}},
      config::Field{.name = "id_field",
                    .type = config::FieldType::String,
                    .doc = "Top-level field whose value becomes _id, so a resend replaces the document; empty lets "
                           "Elasticsearch pick ids",
                    .default_text = "ID"},
      config::Field{.name = "time_fields",
                    .type = config::FieldType::StringList,
                    .doc = "Top-level fields tried in order for the event time that names the index; the send time "
                           "when none is usable",
                    .default_text = "[DetectTime, CreateTime, \"@timestamp\"]"},
      config::Field{.name = "batch_max_events",
                    .type = config::FieldType::Integer,
                    .doc = "Most events in one _bulk request",
                    .default_text = "1000",
                    .min = 1,
                    .max = kMaxBatchEvents},
      config::Field{.name = "batch_max_bytes",
                    .type = config::FieldType::Integer,
                    .doc = "Most bytes in one _bulk body before compression; a single larger event is sent alone",
                    .default_text = "5242880",
                    .min = 1,
                    .max = kMaxBatchBytes},
      config::Field{.name = "compression",
                    .type = config::FieldType::Enum,
                    .doc = "none, or gzip: compress each body (Elasticsearch accepts Content-Encoding: gzip)",
                    .default_text = "none",
                    .choices = {"none", "gzip"}},
      config::Field{.name = "auth",
                    .type = config::FieldType::Object,
                    .doc = "Authentication: strategy (basic or api_key), user, password_file, api_key_file",
                    .nested = &kAuthSchema},
  };
  http::ClientSettings::add_schema_fields(fields);
  return config::Schema{std::move(fields)};
}

std::vector<EventFailure> failures_for(BulkRange range, bool retryable, const std::string& reason) {
  std::vector<EventFailure> failures;
  for (std::size_t index = range.begin; index < range.end; ++index) {
    failures.push_back(EventFailure{index, retryable, reason});
  }
  return failures;
}

std::string excerpt(std::string_view body) {
  std::string text(body.substr(0, kExcerptBytes));
  std::replace_if(text.begin(), text.end(), [](char c) { return static_cast<unsigned char>(c) < 0x20; }, ' ');
  return body.size() > kExcerptBytes ? text + "..." : text;
}

}  // namespace

const config::Schema ElasticsearchOutputConfig::kSchema = make_schema();

std::optional<ElasticsearchOutputConfig> ElasticsearchOutputConfig::parse(const config::Section& settings,
                                                                          config::Errors& errors) {
  ElasticsearchOutputConfig config;
  bool valid = true;
  const auto problem = [&](std::string_view key, std::string_view what) {
    errors.add(settings.location(key), fmt::format("{}: key \"{}\": {}", settings.context(), key, what));
    valid = false;
  };

  config.urls = settings.strings("urls");
  for (std::string& url : config.urls) {
    if (const auto url_problem = http::check_url(url)) {
      problem("urls", fmt::format("\"{}\": {}", url, *url_problem));
    }
    while (url.ends_with('/')) {
      url.pop_back();
    }
  }
  if (settings.has("urls") && config.urls.empty()) {
    problem("urls", "expected at least one URL");
  }

  std::string index_problem;
  if (auto index = IndexTemplate::parse(settings.string("index"), index_problem)) {
    config.bulk.index = std::move(*index);
  } else {
    problem("index", index_problem);
  }
  config.bulk.action = settings.string("action") == "create" ? BulkAction::Create : BulkAction::Index;
  config.bulk.id_field = settings.string("id_field");
  config.bulk.time_fields = settings.has("time_fields") ? settings.strings("time_fields")
                                                        : std::vector<std::string>{"DetectTime", "CreateTime", "@timestamp"};
  config.batch_max_events = static_cast<std::size_t>(settings.integer("batch_max_events"));
  config.batch_max_bytes = static_cast<std::size_t>(settings.integer("batch_max_bytes"));
  config.gzip = settings.string("compression") == "gzip";
  config.client = http::ClientSettings::parse(settings, errors);
  config.client.max_response_body_bytes = kMaxResponseBytes;

  if (settings.has("auth") && settings.object("auth").has("strategy")) {
    const config::Section auth = settings.object("auth");
    const bool basic = auth.string("strategy") == "basic";
    config.auth = basic ? AuthStrategy::Basic : AuthStrategy::ApiKey;
    config.user = auth.string("user");
    config.password_file = auth.string("password_file");
    config.api_key_file = auth.string("api_key_file");
    const auto auth_problem = [&](std::string_view key, std::string_view what) {
      errors.add(auth.location(key), fmt::format("{}: key \"auth.{}\": {}", settings.context(), key, what));
      valid = false;
    };
    if (basic && (!auth.has("user") || !auth.has("password_file"))) {
      auth_problem(auth.has("user") ? "password_file" : "user", "basic authentication needs user and password_file");
    }
    if (basic && auth.has("api_key_file")) {
      auth_problem("api_key_file", "only used with strategy api_key; remove it or set strategy: api_key");
    }
    if (!basic && !auth.has("api_key_file")) {
      auth_problem("api_key_file", "api_key authentication needs a file holding the encoded key");
    }
    if (!basic && (auth.has("user") || auth.has("password_file"))) {
      auth_problem(auth.has("user") ? "user" : "password_file",
                   "only used with strategy basic; remove it or set strategy: basic");
    }
  }

  if (!valid) {
    return std::nullopt;
  }
  return config;
}

ElasticsearchOutput::ElasticsearchOutput(ElasticsearchOutputConfig config) : config_(std::move(config)) {}

ElasticsearchOutput::~ElasticsearchOutput() = default;

std::unique_ptr<Output> ElasticsearchOutput::create(const config::Section& settings, config::Errors& errors) {
  std::optional<ElasticsearchOutputConfig> config = ElasticsearchOutputConfig::parse(settings, errors);
  if (!config) {
    return nullptr;
  }
  return std::make_unique<ElasticsearchOutput>(std::move(*config));
}

void ElasticsearchOutput::start(OutputContext& context) {
  headers_ = {http::Header{"Content-Type", "application/x-ndjson"}};
  if (config_.gzip) {
    headers_.push_back(http::Header{"Content-Encoding", "gzip"});
    gzip_ = std::make_unique<http::GzipEncoder>();
  }
  try {
    if (config_.auth == AuthStrategy::Basic) {
      const std::string password = http::read_secret_file(config_.password_file, "password_file", context.log());
      const std::string credentials = http::base64(config_.user + ":" + password);
      headers_.push_back(http::Header{"Authorization", "Basic " + credentials});
      secrets_ = {password, credentials};
    } else if (config_.auth == AuthStrategy::ApiKey) {
      const std::string key = http::read_secret_file(config_.api_key_file, "api_key_file", context.log());
      if (!http::is_valid_header_value(key)) {
        throw std::runtime_error(fmt::format("auth.api_key_file {} contains a line break inside the key; the key "
                                             "must be one line",
                                             config_.api_key_file.string()));
      }
      headers_.push_back(http::Header{"Authorization", "ApiKey " + key});
      secrets_ = {key};
    }
    client_ = std::make_unique<http::HttpClient>(config_.client);
  } catch (const std::runtime_error& error) {
    throw std::runtime_error(
        fmt::format("{} \"{}\": {}", component_kind_name(context.kind()), context.id(), error.what()));
  }
  if (!config_.client.tls.verify) {
    context.log().warn("TLS certificate verification is off, so any server can pose as the cluster.");
  }
  context.log().info("Indexing events with _bulk. urls={} batch_max_events={} batch_max_bytes={} compression={}",
                     config_.urls.size(), config_.batch_max_events, config_.batch_max_bytes,
                     config_.gzip ? "gzip" : "none");
}

void ElasticsearchOutput::stop(OutputContext& /*context*/) { client_.reset(); }

DeliveryResult ElasticsearchOutput::deliver(const BatchPtr& batch, OutputContext& /*context*/) {
  const std::vector<Event>& events = batch->events;
  const std::vector<BulkRange> ranges = split(events);

  DeliveryResult delivery = DeliveryResult::delivered();
  for (std::size_t range_index = 0; range_index < ranges.size(); ++range_index) {
    const BulkRange range = ranges[range_index];
    RequestOutcome outcome = send(range);
    switch (outcome.status) {
      case DeliveryStatus::Delivered:
        delivery.failures.insert(delivery.failures.end(), outcome.failures.begin(), outcome.failures.end());
        break;
      case DeliveryStatus::Rejected:
        if (ranges.size() == 1) {
          return DeliveryResult::rejected(std::move(outcome.reason));
        }
        for (EventFailure& failure : failures_for(range, false, outcome.reason)) {
          delivery.failures.push_back(std::move(failure));
        }
        break;
      case DeliveryStatus::Retry:
        // The rest of the batch waits too: a cluster that failed one
        // request is likely to fail the next.
        if (range_index == 0) {
          return DeliveryResult::retry(std::move(outcome.reason), outcome.retry_after);
        }
        for (EventFailure& failure : failures_for(BulkRange{range.begin, events.size()}, true, outcome.reason)) {
          delivery.failures.push_back(std::move(failure));
        }
        delivery.retry_after = outcome.retry_after;
        return delivery;
    }
  }
  return delivery;
}

// Encodes every event once and cuts the batch where the next item would
// pass batch_max_events or batch_max_bytes.
std::vector<BulkRange> ElasticsearchOutput::split(const std::vector<Event>& events) {
  const std::int64_t now = std::chrono::duration_cast<std::chrono::microseconds>(
                               std::chrono::system_clock::now().time_since_epoch())
                               .count();
  items_.resize(events.size());
  std::vector<BulkRange> ranges;
  BulkRange current;
  std::size_t current_bytes = 0;
  for (std::size_t index = 0; index < events.size(); ++index) {
    items_[index].clear();
    append_bulk_item(events[index], config_.bulk, now, items_[index]);
    const bool full = current.size() >= config_.batch_max_events ||
                      (current.size() > 0 && current_bytes + items_[index].size() > config_.batch_max_bytes);
    if (full) {
      ranges.push_back(current);
      current = BulkRange{index, index};
      current_bytes = 0;
    }
    current.end = index + 1;
    current_bytes += items_[index].size();
  }
  if (current.size() > 0) {
    ranges.push_back(current);
  }
  return ranges;
}

// Sends one request, to each URL in turn while the cluster replies with a
// failure worth retrying.
ElasticsearchOutput::RequestOutcome ElasticsearchOutput::send(BulkRange range) {
  body_.clear();
  for (std::size_t index = range.begin; index < range.end; ++index) {
    body_ += items_[index];
  }
  RequestOutcome outcome;
  for (std::size_t tried = 0; tried < config_.urls.size(); ++tried) {
    outcome = send_to(config_.urls[current_url_], range);
    if (outcome.status != DeliveryStatus::Retry) {
      return outcome;
    }
    current_url_ = (current_url_ + 1) % config_.urls.size();
  }
  return outcome;
}

ElasticsearchOutput::RequestOutcome ElasticsearchOutput::send_to(const std::string& url, BulkRange range) {
  std::string_view payload = body_;
  if (gzip_) {
    gzip_->compress(body_, compressed_);
    payload = compressed_;
  }
  const std::string target = url + "/_bulk";
  const std::string target_for_messages = http::url_for_messages(target);
  const http::Result result = client_->send(http::Request{"POST", target, headers_, payload});

  if (!result.response) {
    return RequestOutcome{result.retryable ? DeliveryStatus::Retry : DeliveryStatus::Rejected,
                          fmt::format("POST {} failed: {}: {}", target_for_messages, http::transport_failure_name(result.failure),
                                      result.error),
                          std::nullopt,
                          {}};
  }
  const http::Response& response = *result.response;
  if (response.status >= 200 && response.status <= 299) {
    return read_items(response, target_for_messages, range);
  }

  std::string body_text = excerpt(response.body);
  for (const std::string& secret : secrets_) {
    for (std::size_t at = body_text.find(secret); at != std::string::npos; at = body_text.find(secret, at)) {
      body_text.replace(at, secret.size(), "[redacted]");
    }
  }
  std::string reason = fmt::format("POST {} returned {}: {}", target_for_messages, response.status, body_text);
  if (is_retryable_http_status(response.status)) {
    std::optional<std::chrono::milliseconds> retry_after;
    if (const auto value = response.header("Retry-After")) {
      retry_after = parse_retry_after(*value, std::chrono::system_clock::now());
    }
    return RequestOutcome{DeliveryStatus::Retry, std::move(reason), retry_after, {}};
  }
  if (response.status == 413) {
    reason += "; lower batch_max_bytes below the cluster's http.max_content_length";
  }
  return RequestOutcome{DeliveryStatus::Rejected, std::move(reason), std::nullopt, {}};
}

ElasticsearchOutput::RequestOutcome ElasticsearchOutput::read_items(const http::Response& response,
                                                                    const std::string& url, BulkRange range) const {
  const std::optional<std::vector<ItemResult>> items = parse_bulk_response(response.body, range.size());
  if (!items) {
    // Every item carries its _id, so sending the request again cannot
    // duplicate what the cluster did index.
    return RequestOutcome{DeliveryStatus::Retry,
                          fmt::format("POST {} returned {} without one result per item ({} expected): {}", url,
                                      response.status, range.size(), excerpt(response.body)),
                          std::nullopt,
                          {}};
  }

  RequestOutcome outcome;
  for (std::size_t offset = 0; offset < items->size(); ++offset) {
    const ItemResult& item = (*items)[offset];
    const bool created = item.status >= 200 && item.status <= 299;
    // With action create, 409 means an earlier attempt already indexed this _id.
    const bool already_there = item.status == 409 && config_.bulk.action == BulkAction::Create;
    if (created || already_there) {
      continue;
    }
    outcome.failures.push_back(EventFailure{range.begin + offset, is_retryable_item(item.status),
                                            fmt::format("_bulk item rejected with {}: {}", item.status, item.error)});
  }
  return outcome;
}

SLIPWAY_REGISTER_OUTPUT("elasticsearch",
                        "Indexes events into Elasticsearch or OpenSearch with _bulk, one index per day, _id from the "
                        "alert ID",
                        ElasticsearchOutputConfig::kSchema, &ElasticsearchOutput::create);

}  // namespace slipway::outputs::elasticsearch
