#include "engine/delivery.hpp"

#include <algorithm>
#include <charconv>
#include <ctime>

namespace slipway {

const config::Schema RetryPolicy::kSchema{{
    config::Field{.name = "max_retries",
                  .type = config::FieldType::Integer,
                  .doc = "Retries of a failing batch before its events are dead-lettered; 0 retries without limit",
                  .default_text = "0",
                  .min = 0},
    config::Field{.name = "max_elapsed_secs",
                  .type = config::FieldType::Integer,
                  .doc = "Seconds a batch may keep failing before its events are dead-lettered; 0 for no limit",
                  .default_text = "0",
                  .min = 0},
    config::Field{.name = "initial_backoff_ms",
                  .type = config::FieldType::Integer,
                  .doc = "Delay before the first retry, in milliseconds; it doubles with each retry",
                  .default_text = "200",
                  .min = 1},
    config::Field{.name = "max_backoff_ms",
                  .type = config::FieldType::Integer,
                  .doc = "Longest delay between two retries, in milliseconds",
                  .default_text = "30000",
                  .min = 1},
}};

RetryPolicy RetryPolicy::parse(const config::Section& settings) {
  RetryPolicy policy;
  policy.max_retries = static_cast<std::uint32_t>(settings.integer("max_retries"));
  policy.max_elapsed = std::chrono::seconds(settings.integer("max_elapsed_secs"));
  policy.initial_backoff = std::chrono::milliseconds(settings.integer("initial_backoff_ms"));
  policy.max_backoff = std::chrono::milliseconds(settings.integer("max_backoff_ms"));
  return policy;
}

std::chrono::milliseconds RetryPolicy::backoff(std::uint32_t attempt,
                                               std::optional<std::chrono::milliseconds> retry_after,
                                               std::mt19937_64& random) const {
  constexpr std::uint32_t kMaxDoublings = 30;
  const std::uint32_t doublings = std::min(attempt > 0 ? attempt - 1 : 0, kMaxDoublings);
  const auto ceiling = std::min<std::int64_t>(max_backoff.count(), initial_backoff.count() << doublings);
  // Half fixed, half random: retries spread out, yet never come back at once.
  std::uniform_int_distribution<std::int64_t> jitter(ceiling / 2, std::max<std::int64_t>(ceiling, 1));
  std::chrono::milliseconds delay(jitter(random));
  if (retry_after && *retry_after > delay) {
    delay = *retry_after;
  }
  return delay;
}

bool is_retryable_http_status(long status) { return status == 408 || status == 429 || (status >= 500 && status <= 599); }

std::optional<std::chrono::milliseconds> parse_retry_after(std::string_view value,
                                                           std::chrono::system_clock::time_point now) {
  while (!value.empty() && value.front() == ' ') {
    value.remove_prefix(1);
  }
  while (!value.empty() && (value.back() == ' ' || value.back() == '\r')) {
    value.remove_suffix(1);
  }

  std::int64_t seconds = 0;
  const auto [end, error] = std::from_chars(value.data(), value.data() + value.size(), seconds);
  if (error == std::errc() && end == value.data() + value.size() && seconds >= 0) {
    return std::chrono::milliseconds(seconds * 1000);
  }

  // IMF-fixdate, e.g. "Sun, 06 Nov 1994 08:49:37 GMT".
  std::tm parts{};
  const std::string text(value);
  const char* parsed = strptime(text.c_str(), "%a, %d %b %Y %H:%M:%S GMT", &parts);
  if (parsed == nullptr || *parsed != '\0') {
    return std::nullopt;
  }
  const auto when = std::chrono::system_clock::from_time_t(timegm(&parts));
  const auto delay = std::chrono::duration_cast<std::chrono::milliseconds>(when - now);
  return std::max(delay, std::chrono::milliseconds(0));
}

}  // namespace slipway
