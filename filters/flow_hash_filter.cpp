#include "filters/flow_hash_filter.hpp"

#include <fmt/format.h>

#include "engine/json.hpp"

namespace slipway::filters::flow {

namespace {

// At most one log line per reason in this interval. The next one reports
// how many were left out.
constexpr std::chrono::seconds kLogInterval{10};

// Events that are not flows, such as Slips' DNS or ARP records, lack tuple
// fields by nature, so their skips are debug detail rather than a warning.
spdlog::level::level_enum skip_level(ReadError reason) {
  return reason == ReadError::MissingField ? spdlog::level::debug : spdlog::level::warn;
}

}  // namespace

FlowHashFilter::FlowHashFilter(std::string name, std::string field, const FlowFieldsConfig& fields,
                               FlowReader::Options options)
    : name_(std::move(name)), field_(field), quoted_field_(json::to_string(json::Value::string(field))),
      reader_(fields, options, std::move(field)) {}

std::uint64_t FlowHashFilter::skipped_events() const {
  std::uint64_t total = 0;
  for (const auto& count : skipped_) {
    total += count.load(std::memory_order_relaxed);
  }
  return total;
}

void FlowHashFilter::process(const BatchPtr& batch, FilterContext& context) {
  Batch changed;
  changed.acks = batch->acks;
  changed.events.reserve(batch->events.size());
  bool any_changed = false;
  for (const Event& event : batch->events) {
    Event& out = changed.events.emplace_back(Event{{}, event.origin});
    if (fingerprint_event(event, out.json, context)) {
      any_changed = true;
    } else {
      out.json = event.json;
    }
  }

  if (!any_changed) {
    context.forward(batch);
    return;
  }
  context.emit(std::move(changed));
}

bool FlowHashFilter::fingerprint_event(const Event& event, std::string& out, FilterContext& context) {
  FlowRecord record;
  MemberValue target;
  const ReadResult result = reader_.read(event.json, record, target);
  if (result.error != ReadError::None) {
    skipped_[static_cast<std::size_t>(result.error)].fetch_add(1, std::memory_order_relaxed);
    report_skip(result, event, context);
    return false;
  }
  if (!fingerprint(record, fingerprint_)) {
    report_hash_failure(context);
    return false;
  }
  write_with_string_member(event.json, target, quoted_field_, fingerprint_, out);
  hashed_.fetch_add(1, std::memory_order_relaxed);
  return true;
}

void FlowHashFilter::report_skip(const ReadResult& result, const Event& event, FilterContext& context) {
  const spdlog::level::level_enum level = skip_level(result.error);
  if (!context.log().should_log(level)) {
    return;
  }
  LogLimit& limit = log_limits_[static_cast<std::size_t>(result.error)];
  const Clock::time_point now = Clock::now();
  if (limit.logged && now - limit.last < kLogInterval) {
    ++limit.suppressed;
    return;
  }
  const std::string source = event.origin.source ? *event.origin.source : std::string("-");
  context.log().log(level, "Event passed on without {}: {}. field={} value=\"{}\" source={} line={} suppressed={}",
                    name_, describe(result.error), result.field, result.value, source, event.origin.line,
                    limit.suppressed);
  limit = LogLimit{now, 0, true};
}

void FlowHashFilter::report_hash_failure(FilterContext& context) {
  context.metrics().errors.fetch_add(1, std::memory_order_relaxed);
  LogLimit& limit = log_limits_.back();
  const Clock::time_point now = Clock::now();
  if (limit.logged && now - limit.last < kLogInterval) {
    ++limit.suppressed;
    return;
  }
  context.log().error("Computing {} failed in OpenSSL's SHA-1; the event passed on without it. suppressed={}", name_,
                      limit.suppressed);
  limit = LogLimit{now, 0, true};
}

void FlowHashFilter::finish(FilterContext& context) {
  std::string reasons;
  for (std::size_t reason_idx = 1; reason_idx < kReadErrorCount; ++reason_idx) {
    const std::uint64_t count = skipped_[reason_idx].load(std::memory_order_relaxed);
    if (count > 0) {
      fmt::format_to(std::back_inserter(reasons), " {}={}", counter_name(static_cast<ReadError>(reason_idx)), count);
    }
  }
  context.log().info("Fingerprinting finished. field={} hashed={} passed_unchanged={}{}", field_, hashed_events(),
                     skipped_events(), reasons);
}

}  // namespace slipway::filters::flow
