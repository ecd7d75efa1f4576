#include "outputs/slack/slack_output.hpp"

#include <algorithm>
#include <map>
#include <mutex>
#include <thread>

#include <fmt/format.h>

#include "engine/json.hpp"
#include "engine/registry.hpp"
#include "engine/timestamp.hpp"
#include "outputs/http/secret_file.hpp"

namespace slipway::outputs::slack {

namespace {

constexpr auto kErrorLogInterval = std::chrono::seconds(10);
// The wait after a rate-limit reply without Retry-After, such as ok:false
// ratelimited with HTTP 200, or a 429 from a proxy.
constexpr std::chrono::milliseconds kDefaultRetryAfter{1000};
constexpr std::size_t kExcerptBytes = 200;

// `ok:false` errors that will not pass on a retry and concern every
// message to this destination, so a person must fix the token, the scopes
// or the channel. Errors not listed here and not retryable concern one
// message only (msg_too_long, no_text, invalid_blocks, ...).
constexpr std::string_view kDestinationErrors[] = {
    "invalid_auth",    "not_authed",        "account_inactive", "token_revoked",  "token_expired",
    "missing_scope",   "no_permission",     "channel_not_found", "not_in_channel", "is_archived",
    "restricted_action", "ekm_access_denied", "team_access_not_granted", "org_login_required",
};
constexpr std::string_view kRetryableErrors[] = {
    "ratelimited", "rate_limited", "internal_error", "fatal_error", "service_unavailable", "request_timeout",
};
constexpr std::string_view kBlockErrors[] = {"invalid_blocks", "invalid_blocks_format", "msg_blocks_too_long"};

template <std::size_t N>
bool contains(const std::string_view (&list)[N], std::string_view value) {
  return std::find(std::begin(list), std::end(list), value) != std::end(list);
}

// Shortens a URL for messages to its scheme and host, because a webhook
// URL's path is its secret.
std::string scheme_and_host(std::string_view url) {
  const std::size_t scheme_end = url.find("://");
  if (scheme_end == std::string_view::npos) {
    return "webhook";
  }
  const std::size_t path = url.find('/', scheme_end + 3);
  return std::string(url.substr(0, path)) + "/...";
}

std::string excerpt(std::string_view body) {
  std::string text;
  json::append_sanitized_utf8(body.substr(0, kExcerptBytes), text);
  std::replace_if(text.begin(), text.end(), [](char c) { return static_cast<unsigned char>(c) < 0x20; }, ' ');
  return text;
}

std::optional<std::chrono::milliseconds> retry_after_of(const http::Response& response) {
  if (const auto value = response.header("Retry-After")) {
    if (auto parsed = parse_retry_after(*value, std::chrono::system_clock::now())) {
      return parsed;
    }
  }
  return kDefaultRetryAfter;
}

// UTC microseconds of an alert's detection time (IDEA0 DetectTime,
// IDMEFv2 CreateTime), for the digest window.
std::optional<std::int64_t> detect_time(const json::Value& alert) {
  for (std::string_view key : {"DetectTime", "CreateTime"}) {
    if (const json::Value* value = alert.find(key); value != nullptr && value->is_string()) {
      const timestamp::ParsedTime parsed = timestamp::parse(value->as_string(), timestamp::TimeZone::utc());
      if (parsed.ok()) {
        return parsed.utc_micros;
      }
    }
  }
  return std::nullopt;
}

// Consecutive alerts [begin, end) of a batch posted as one message.
struct MessageRange {
  std::size_t begin = 0;
  std::size_t end = 0;
};

// NOTE: a digest groups alerts of one batch only, never alerts that arrive
// in different batches, so a slow trickle of alerts still posts one
// message per alert.
std::vector<MessageRange> group_into_messages(const std::vector<std::optional<json::Value>>& alerts,
                                              const DigestSettings& digest) {
  const std::int64_t window_micros = std::chrono::duration_cast<std::chrono::microseconds>(digest.window).count();
  std::vector<MessageRange> ranges;
  std::optional<std::int64_t> first_time;
  for (std::size_t index = 0; index < alerts.size(); ++index) {
    const std::optional<std::int64_t> time = alerts[index] ? detect_time(*alerts[index]) : std::nullopt;
    const bool joins = !ranges.empty() && alerts[index] && alerts[ranges.back().begin] &&
                       ranges.back().end - ranges.back().begin < digest.max_alerts &&
                       (!time || !first_time || *time - *first_time <= window_micros);
    if (joins) {
      ranges.back().end = index + 1;
      continue;
    }
    ranges.push_back(MessageRange{index, index + 1});
    first_time = time;
  }
  return ranges;
}

void add_failures(DeliveryResult& delivery, std::size_t begin, std::size_t end, bool retryable,
                  const std::string& reason) {
  for (std::size_t index = begin; index < end; ++index) {
    delivery.failures.push_back(EventFailure{index, retryable, reason});
  }
}

}  // namespace

// Spaces the messages to one channel, shared by every slack output that
// posts there: Slack's limit is per channel, not per client.
class ChannelPacer {
 public:
  static std::shared_ptr<ChannelPacer> for_channel(const std::string& key) {
    static std::mutex registry_mutex;
    static std::map<std::string, std::weak_ptr<ChannelPacer>> registry;
    std::lock_guard lock(registry_mutex);
    std::shared_ptr<ChannelPacer> pacer = registry[key].lock();
    if (!pacer) {
      pacer = std::make_shared<ChannelPacer>();
      registry[key] = pacer;
    }
    return pacer;
  }

  // Waits for the channel's turn, runs `post`, and makes the next turn
  // come `interval` after the response, or after the Retry-After it
  // carried. Timing from the response rather than the request keeps the
  // gap at the server at least `interval`, whatever the network delay.
  template <typename Post>
  auto take_turn(std::chrono::milliseconds interval, Post post) {
    std::lock_guard lock(mutex_);
    std::this_thread::sleep_until(next_turn_);
    auto result = post();
    const std::chrono::milliseconds pause = std::max(interval, result.retry_after.value_or(interval));
    next_turn_ = std::chrono::steady_clock::now() + pause;
    return result;
  }

 private:
  std::mutex mutex_;
  std::chrono::steady_clock::time_point next_turn_{};
};

SlackOutput::SlackOutput(SlackOutputConfig config) : config_(std::move(config)) {}

SlackOutput::~SlackOutput() = default;

std::unique_ptr<Output> SlackOutput::create(const config::Section& settings, config::Errors& errors) {
  std::optional<SlackOutputConfig> config = SlackOutputConfig::parse(settings, errors);
  if (!config) {
    return nullptr;
  }
  return std::make_unique<SlackOutput>(std::move(*config));
}

void SlackOutput::start(OutputContext& context) {
  headers_.clear();
  try {
    if (config_.mode == SlackMode::WebApi) {
      const std::string token = http::read_secret_file(config_.token_file, "token_file", context.log());
      url_ = config_.api_url;
      while (!url_.empty() && url_.back() == '/') {
        url_.pop_back();
      }
      url_ += "/chat.postMessage";
      endpoint_ = http::url_for_messages(url_);
      headers_.push_back(http::Header{"Authorization", "Bearer " + token});
      headers_.push_back(http::Header{"Content-Type", "application/json; charset=utf-8"});
      pacer_ = ChannelPacer::for_channel(url_ + "#" + config_.channel);
    } else {
      url_ = http::read_secret_file(config_.webhook_url_file, "webhook_url_file", context.log());
      if (const auto problem = http::check_url(url_)) {
        throw std::runtime_error(
            fmt::format("webhook_url_file {} does not hold a usable URL: {}", config_.webhook_url_file.string(), *problem));
      }
      endpoint_ = scheme_and_host(url_);
      headers_.push_back(http::Header{"Content-Type", "application/json"});
      pacer_ = ChannelPacer::for_channel(url_);
    }
    client_ = std::make_unique<http::HttpClient>(config_.client);
  } catch (const std::runtime_error& error) {
    throw std::runtime_error(fmt::format("{} \"{}\": {}", component_kind_name(context.kind()), context.id(), error.what()));
  }

  if (!config_.client.tls.verify) {
    context.log().warn("TLS certificate verification is off, so any server can pose as Slack. url={}", endpoint_);
  }
  context.log().info("Posting alerts to Slack. mode={} url={} channel={} layout={} digest_max_alerts={} "
                     "min_message_interval_ms={}",
                     config_.mode == SlackMode::WebApi ? "web_api" : "webhook", endpoint_,
                     config_.mode == SlackMode::WebApi ? config_.channel : "(the webhook's)",
                     config_.message.layout == Layout::Blocks ? "blocks" : "text", config_.digest.max_alerts,
                     config_.min_message_interval.count());
}

DeliveryResult SlackOutput::deliver(const BatchPtr& batch, OutputContext& context) {
  const std::vector<Event>& events = batch->events;
  std::vector<std::optional<json::Value>> alerts;
  alerts.reserve(events.size());
  for (const Event& event : events) {
    alerts.push_back(json::parse(event.json).value);
  }
  const std::vector<MessageRange> ranges = group_into_messages(alerts, config_.digest);

  DeliveryResult delivery = DeliveryResult::delivered();
  MessageSettings settings = config_.message;
  settings.context.now_micros =
      std::chrono::duration_cast<std::chrono::microseconds>(std::chrono::system_clock::now().time_since_epoch()).count();
  for (std::size_t range_index = 0; range_index < ranges.size(); ++range_index) {
    const MessageRange range = ranges[range_index];
    if (!alerts[range.begin]) {
      add_failures(delivery, range.begin, range.end, false, "the event is not a JSON object");
      continue;
    }
    std::vector<const json::Value*> message_alerts;
    for (std::size_t index = range.begin; index < range.end; ++index) {
      message_alerts.push_back(&*alerts[index]);
    }
    SlackMessage message = build_message(message_alerts, *config_.message_template, settings);
    PostResult result = post(message);
    if (result.blocks_rejected) {
      message.blocks_json.clear();
      result = post(message);
    }
    report(result, range.end - range.begin, context);

    switch (result.outcome) {
      case Outcome::Posted:
        break;
      case Outcome::MessageRejected:
        add_failures(delivery, range.begin, range.end, false, result.reason);
        break;
      case Outcome::RetryLater:
      case Outcome::DestinationRejected:
        // Later messages would get the same reply. After a destination
        // rejection the retry of the rest is rejected at once, which
        // dead-letters it and marks the output degraded.
        if (range_index == 0) {
          return result.outcome == Outcome::RetryLater ? DeliveryResult::retry(result.reason, result.retry_after)
                                                        : DeliveryResult::rejected(result.reason);
        }
        add_failures(delivery, range.begin, events.size(), true, result.reason);
        delivery.retry_after = result.retry_after;
        return delivery;
    }
  }
  return delivery;
}

void SlackOutput::stop(OutputContext& /*context*/) { client_.reset(); }

SlackOutput::PostResult SlackOutput::post(const SlackMessage& message) {
  std::string body = "{";
  if (config_.mode == SlackMode::WebApi) {
    body += R"("channel":)";
    json::append_quoted(config_.channel, body);
    body += R"(,"unfurl_links":false,"unfurl_media":false,)";
  }
  body += R"("text":)";
  json::append_quoted(message.text, body);
  if (!message.blocks_json.empty()) {
    body += R"(,"blocks":)";
    body += message.blocks_json;
  }
  body += '}';

  // NOTE: the wait for the channel's turn happens inside deliver(), so a
  // stopping pipeline waits until the batch is posted, about one second per
  // message at Slack's rate, even past shutdown_timeout_secs.
  return pacer_->take_turn(config_.min_message_interval, [&] {
    const http::Result result = client_->send(http::Request{"POST", url_, headers_, body});
    return config_.mode == SlackMode::WebApi ? interpret_web_api(result) : interpret_webhook(result);
  });
}

SlackOutput::PostResult SlackOutput::interpret_web_api(const http::Result& result) const {
  if (!result.response) {
    const std::string reason = fmt::format("POST {} failed: {}: {}", endpoint_,
                                           http::transport_failure_name(result.failure), result.error);
    return PostResult{result.retryable ? Outcome::RetryLater : Outcome::DestinationRejected, reason, std::nullopt};
  }
  const http::Response& response = *result.response;
  if (response.status == 429) {
    return PostResult{Outcome::RetryLater, fmt::format("POST {} returned 429 (rate limited)", endpoint_),
                      retry_after_of(response)};
  }
  if (response.status != 200) {
    const std::string reason =
        fmt::format("POST {} returned {}: {}", endpoint_, response.status, excerpt(response.body));
    return PostResult{is_retryable_http_status(response.status) ? Outcome::RetryLater : Outcome::DestinationRejected,
                      reason, std::nullopt};
  }

  const json::ParseResult parsed = json::parse(response.body);
  const json::Value* ok = parsed.value ? parsed.value->find("ok") : nullptr;
  if (ok == nullptr || !ok->is_bool()) {
    return PostResult{Outcome::RetryLater,
                      fmt::format("POST {} returned 200 without an \"ok\" member: {}", endpoint_, excerpt(response.body)),
                      std::nullopt};
  }
  if (ok->as_bool()) {
    PostResult posted;
    if (const json::Value* warning = parsed.value->find("warning"); warning != nullptr && warning->is_string()) {
      posted.warning = warning->as_string();
    }
    return posted;
  }

  const json::Value* error_member = parsed.value->find("error");
  const std::string error = error_member != nullptr && error_member->is_string() ? error_member->as_string() : "unknown";
  const std::string reason = fmt::format("Slack returned ok:false, error {}", error);
  if (contains(kRetryableErrors, error)) {
    return PostResult{Outcome::RetryLater, reason, retry_after_of(response)};
  }
  if (contains(kDestinationErrors, error)) {
    std::string hint = error == "channel_not_found" || error == "not_in_channel" || error == "is_archived"
                           ? "; check the channel and invite the bot to it"
                           : "; the token was rejected, so check token_file and the app's scopes (chat:write)";
    return PostResult{Outcome::DestinationRejected, reason + hint, std::nullopt};
  }
  PostResult rejected{Outcome::MessageRejected, reason, std::nullopt};
  rejected.blocks_rejected = contains(kBlockErrors, error);
  return rejected;
}

SlackOutput::PostResult SlackOutput::interpret_webhook(const http::Result& result) const {
  if (!result.response) {
    const std::string reason = fmt::format("POST {} failed: {}: {}", endpoint_,
                                           http::transport_failure_name(result.failure), result.error);
    return PostResult{result.retryable ? Outcome::RetryLater : Outcome::DestinationRejected, reason, std::nullopt};
  }
  const http::Response& response = *result.response;
  if (response.status >= 200 && response.status <= 299) {
    return PostResult{};
  }
  const std::string reason = fmt::format("POST {} returned {}: {}", endpoint_, response.status, excerpt(response.body));
  if (is_retryable_http_status(response.status)) {
    const auto retry_after = response.status == 429 ? retry_after_of(response) : std::nullopt;
    return PostResult{Outcome::RetryLater, reason, retry_after};
  }
  // 400 blames the payload (invalid_payload, no_text, invalid_blocks);
  // 403, 404 and 410 blame the webhook or its channel.
  if (response.status == 400) {
    PostResult rejected{Outcome::MessageRejected, reason, std::nullopt};
    rejected.blocks_rejected = response.body.find("blocks") != std::string::npos;
    return rejected;
  }
  return PostResult{Outcome::DestinationRejected, reason + "; check the webhook URL and its channel", std::nullopt};
}

void SlackOutput::report(const PostResult& result, std::size_t alerts, OutputContext& context) {
  // The engine logs retries and their recovery.
  if (result.outcome == Outcome::RetryLater || (result.outcome == Outcome::Posted && result.warning.empty())) {
    return;
  }
  const auto now = std::chrono::steady_clock::now();
  if (result.outcome == Outcome::Posted) {
    // Slack posts some messages it changed, e.g. cut, and says so only here.
    if (now - last_error_log_ >= kErrorLogInterval) {
      context.log().warn("Slack posted a message with a warning. warning={}", result.warning);
      last_error_log_ = now;
    }
    return;
  }
  context.metrics().errors.fetch_add(1, std::memory_order_relaxed);
  if (now - last_error_log_ < kErrorLogInterval) {
    ++suppressed_error_logs_;
    return;
  }
  context.log().error("Slack rejected a message; its alerts go to the dead-letter file. alerts={} "
                      "similar_messages_suppressed={} error=\"{}\"",
                      alerts, suppressed_error_logs_, result.reason);
  last_error_log_ = now;
  suppressed_error_logs_ = 0;
}

SLIPWAY_REGISTER_OUTPUT("slack", "Posts alerts to a Slack channel through the Web API or an incoming webhook, paced "
                                 "to Slack's rate limit",
                        SlackOutputConfig::kSchema, &SlackOutput::create);

}  // namespace slipway::outputs::slack
