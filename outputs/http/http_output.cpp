#include "outputs/http/http_output.hpp"

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>
#include <stdexcept>

#include <fmt/format.h>

#include "engine/delivery.hpp"
#include "engine/json.hpp"
#include "engine/registry.hpp"

namespace slipway::outputs::http {

namespace {

// Custom header values shorter than this are not treated as secrets: an
// API key is longer, and redacting values such as "1" would garble every
// excerpt.
constexpr std::size_t kMinSecretHeaderBytes = 8;
constexpr auto kRejectionLogInterval = std::chrono::seconds(10);
constexpr std::size_t kMaxIdsInLog = 5;
// Bounds the keys kept for events to send alone, for the case where the
// engine never retries them (dead-lettered after retry.max_retries).
constexpr std::size_t kMaxSendAloneKeys = 100'000;

std::string_view method_name(Method method) { return method == Method::Put ? "PUT" : "POST"; }

// A 2xx response means delivered; 408, 429 and 5xx are retried (is_retryable_http_status).
bool is_success(long status) { return status >= 200 && status <= 299; }

// Statuses that blame the body: a request without the offending events
// may pass, so the events of a rejected group are sent again one by one.
bool blames_content(long status) { return status == 400 || status == 409 || status == 413 || status == 422; }

std::string ids_for_log(const std::vector<Event>& events, EventRange range) {
  std::string ids;
  for (std::size_t index = range.begin; index < range.end && index < range.begin + kMaxIdsInLog; ++index) {
    if (!ids.empty()) {
      ids += ',';
    }
    ids += find_event_id(events[index].json).value_or("?");
  }
  if (range.size() > kMaxIdsInLog) {
    ids += ",...";
  }
  return ids;
}

void add_failures(DeliveryResult& delivery, EventRange range, bool retryable, const std::string& reason) {
  for (std::size_t index = range.begin; index < range.end; ++index) {
    delivery.failures.push_back(EventFailure{index, retryable, reason});
  }
}

}  // namespace

HttpOutput::HttpOutput(HttpOutputConfig config)
    : config_(std::move(config)), endpoint_(url_for_messages(config_.url)) {}

HttpOutput::~HttpOutput() = default;

std::unique_ptr<Output> HttpOutput::create(const config::Section& settings, config::Errors& errors) {
  std::optional<HttpOutputConfig> config = HttpOutputConfig::parse(settings, errors);
  if (!config) {
    return nullptr;
  }
  return std::make_unique<HttpOutput>(std::move(*config));
}

void HttpOutput::start(OutputContext& context) {
  headers_.clear();
  redactor_ = SecretRedactor();
  const bool content_type_set = std::any_of(config_.headers.begin(), config_.headers.end(),
                                            [](const Header& header) { return header_names_equal(header.name, "Content-Type"); });
  if (!content_type_set) {
    headers_.push_back(
        Header{"Content-Type", config_.codec == Codec::JsonLines ? "application/x-ndjson" : "application/json"});
  }
  if (config_.compression == Compression::Gzip) {
    headers_.push_back(Header{"Content-Encoding", "gzip"});
  }
  for (const Header& header : config_.headers) {
    headers_.push_back(header);
    if (header.value.size() >= kMinSecretHeaderBytes) {
      redactor_.add(header.value);
    }
  }

  try {
    if (std::optional<Header> authorization = load_authorization(config_.auth, context, redactor_)) {
      headers_.push_back(std::move(*authorization));
    }
    client_ = std::make_unique<HttpClient>(config_.client);
  } catch (const std::runtime_error& error) {
    throw std::runtime_error(
        fmt::format("{} \"{}\": {}", component_kind_name(context.kind()), context.id(), error.what()));
  }

  if (!config_.client.tls.verify) {
    context.log().warn("TLS certificate verification is off, so any server can pose as the endpoint. url={}",
                       endpoint_);
  }
  context.log().info(
      "Sending events over HTTP. url={} method={} codec={} compression={} auth={} batch_max_events={} "
      "batch_max_bytes={}",
      endpoint_, method_name(config_.method), config_.codec == Codec::JsonLines ? "json_lines" : "json_array",
      config_.compression == Compression::Gzip ? "gzip" : "none",
      auth_strategy_name(config_.auth.strategy),
      config_.batch_max_events, config_.batch_max_bytes);
}

DeliveryResult HttpOutput::deliver(const BatchPtr& batch, OutputContext& context) {
  const std::vector<Event>& events = batch->events;
  const std::vector<bool> alone = take_events_to_send_alone(events);
  const std::vector<EventRange> ranges =
      split_into_requests(events, config_.codec, config_.batch_max_events, config_.batch_max_bytes, alone);

  DeliveryResult delivery = DeliveryResult::delivered();
  for (std::size_t range_index = 0; range_index < ranges.size(); ++range_index) {
    const EventRange range = ranges[range_index];
    RequestResult result = send(events, range);
    if (result.ambiguous) {
      context.metrics().ambiguous_events.fetch_add(range.size(), std::memory_order_relaxed);
    }
    report(result, events, range, context);

    switch (result.outcome) {
      case Outcome::Delivered:
        break;
      case Outcome::Rejected:
        if (ranges.size() == 1) {
          return DeliveryResult::rejected(std::move(result.reason));
        }
        add_failures(delivery, range, false, result.reason);
        break;
      case Outcome::RejectedInGroup:
        if (send_alone_.size() + range.size() > kMaxSendAloneKeys) {
          send_alone_.clear();
        }
        for (std::size_t index = range.begin; index < range.end; ++index) {
          send_alone_.insert(idempotency_key(events, EventRange{index, index + 1}));
        }
        add_failures(delivery, range, true, result.reason);
        break;
      case Outcome::Retry:
        // The rest of the batch waits too: a server that failed one
        // request is likely to fail the next, and each try costs a timeout.
        if (range_index == 0) {
          return DeliveryResult::retry(std::move(result.reason), result.retry_after);
        }
        add_failures(delivery, EventRange{range.begin, events.size()}, true, result.reason);
        delivery.retry_after = result.retry_after;
        return delivery;
    }
  }
  return delivery;
}

void HttpOutput::stop(OutputContext& /*context*/) { client_.reset(); }

std::vector<bool> HttpOutput::take_events_to_send_alone(const std::vector<Event>& events) {
  if (send_alone_.empty()) {
    return {};
  }
  std::vector<bool> alone(events.size(), false);
  for (std::size_t index = 0; index < events.size(); ++index) {
    alone[index] = send_alone_.erase(idempotency_key(events, EventRange{index, index + 1})) > 0;
  }
  return alone;
}

HttpOutput::RequestResult HttpOutput::send(const std::vector<Event>& events, EventRange range) {
  body_.clear();
  encode_body(events, range, config_.codec, body_);
  std::string_view payload = body_;
  if (config_.compression == Compression::Gzip) {
    gzip_.compress(body_, compressed_);
    payload = compressed_;
  }

  Request request{method_name(config_.method), config_.url, headers_, payload};
  if (!config_.idempotency_header.empty()) {
    request.headers.push_back(Header{config_.idempotency_header, idempotency_key(events, range)});
  }
  return interpret(client_->send(request), range);
}

HttpOutput::RequestResult HttpOutput::interpret(const Result& result, EventRange range) const {
  const std::string_view method = method_name(config_.method);
  if (!result.response) {
    std::string reason =
        fmt::format("{} {} failed: {}: {}", method, endpoint_, transport_failure_name(result.failure), result.error);
    if (result.request_sent && !config_.idempotency_header.empty()) {
      reason += fmt::format("; the server may have received the request, so the retry carries the same {}",
                            config_.idempotency_header);
    }
    return RequestResult{result.retryable ? Outcome::Retry : Outcome::Rejected, std::move(reason), std::nullopt,
                         result.request_sent};
  }

  const Response& response = *result.response;
  if (is_success(response.status)) {
    return RequestResult{};
  }
  std::string reason = fmt::format("{} {} returned {}", method, endpoint_, response.status);
  if (const std::string text = redactor_.excerpt(response.body); !text.empty()) {
    reason += ": " + text;
  }
  if (is_retryable_http_status(response.status)) {
    std::optional<std::chrono::milliseconds> retry_after;
    if (const auto value = response.header("Retry-After")) {
      retry_after = parse_retry_after(*value, std::chrono::system_clock::now());
    }
    return RequestResult{Outcome::Retry, std::move(reason), retry_after, false};
  }
  if (response.status >= 300 && response.status <= 399) {
    reason += "; redirects are not followed, so set url to the final location";
  }
  const bool isolate = range.size() > 1 && blames_content(response.status);
  return RequestResult{isolate ? Outcome::RejectedInGroup : Outcome::Rejected, std::move(reason), std::nullopt, false};
}

void HttpOutput::report(const RequestResult& result, const std::vector<Event>& events, EventRange range,
                        OutputContext& context) {
  // The engine logs retries and their recovery.
  if (result.outcome == Outcome::Delivered || result.outcome == Outcome::Retry) {
    return;
  }

  const auto now = std::chrono::steady_clock::now();
  if (now - last_rejection_log_ < kRejectionLogInterval) {
    ++suppressed_rejection_logs_;
    return;
  }
  if (result.outcome == Outcome::Rejected) {
    context.log().error("Events rejected; they go to the dead-letter file. events={} ids=[{}] "
                        "similar_messages_suppressed={} error=\"{}\"",
                        range.size(), ids_for_log(events, range), suppressed_rejection_logs_, result.reason);
  } else {
    context.log().warn("Request rejected; its events are sent again one per request to find those the server "
                       "rejects. events={} ids=[{}] similar_messages_suppressed={} error=\"{}\"",
                       range.size(), ids_for_log(events, range), suppressed_rejection_logs_, result.reason);
  }
  last_rejection_log_ = now;
  suppressed_rejection_logs_ = 0;
}

SLIPWAY_REGISTER_OUTPUT("http", "Sends events to an HTTP endpoint as JSON lines or a JSON array, in bounded requests",
                        HttpOutputConfig::kSchema, &HttpOutput::create);

}  // namespace slipway::outputs::http
