// The result an output reports after trying to deliver a batch, and the
// retry policy the engine applies to it. The output reports what happened, and
// the engine decides whether to wait and try again or to dead-letter.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <random>
#include <string>
#include <string_view>
#include <vector>

#include "config/errors.hpp"
#include "config/schema.hpp"

namespace slipway {

enum class DeliveryStatus {
  Delivered,  // every event arrived, apart from those listed in `failures`
  Retry,      // nothing arrived, and trying again may work (timeout, 429, 5xx)
  Rejected,   // nothing arrived, and trying again will not help (other 4xx)
};

// One event of a partly delivered batch.
struct EventFailure {
  std::size_t index = 0;  // position in the batch
  bool retryable = false;
  std::string reason;
};

struct DeliveryResult {
  DeliveryStatus status = DeliveryStatus::Delivered;
  std::string reason;  // for Retry and Rejected, e.g. "POST http://... returned 503"
  std::optional<std::chrono::milliseconds> retry_after;  // the server's Retry-After
  std::vector<EventFailure> failures;                   // with Delivered only

  static DeliveryResult delivered() { return {}; }
  static DeliveryResult retry(std::string reason,
                              std::optional<std::chrono::milliseconds> retry_after = std::nullopt) {
    return DeliveryResult{DeliveryStatus::Retry, std::move(reason), retry_after, {}};
  }
  static DeliveryResult rejected(std::string reason) {
    return DeliveryResult{DeliveryStatus::Rejected, std::move(reason), std::nullopt, {}};
  }
};

// True for HTTP responses worth retrying: 408, 429 and 5xx.
bool is_retryable_http_status(long status);

// Parses a Retry-After header: delay seconds or an HTTP date (RFC 9110),
// relative to `now`. Empty when the value is neither.
std::optional<std::chrono::milliseconds> parse_retry_after(std::string_view value,
                                                           std::chrono::system_clock::time_point now);

struct RetryPolicy {
  // 0 means no limit: with both limits off, an output retries until it
  // succeeds or the pipeline stops.
  std::uint32_t max_retries = 0;
  std::chrono::milliseconds max_elapsed{0};
  std::chrono::milliseconds initial_backoff{200};
  std::chrono::milliseconds max_backoff{30'000};

  static const config::Schema kSchema;
  static RetryPolicy parse(const config::Section& settings);

  // Delay before retry number `attempt` (1-based): exponential and capped,
  // drawn from the upper half of that value so outputs do not retry in
  // step, and never shorter than the server's Retry-After.
  std::chrono::milliseconds backoff(std::uint32_t attempt, std::optional<std::chrono::milliseconds> retry_after,
                                    std::mt19937_64& random) const;
};

}  // namespace slipway
