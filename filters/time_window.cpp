#include "filters/time_window.hpp"

#include <charconv>
#include <cmath>
#include <thread>

#include <fmt/format.h>

#include "engine/registry.hpp"
#include "filters/filter_support.hpp"

namespace slipway::filters {

namespace {

// Pacing sleeps in steps this long at most, so a stop is noticed quickly.
constexpr auto kLongestSleep = std::chrono::milliseconds(50);

std::optional<std::int64_t> parse_bound(const config::Section& settings, std::string_view key,
                                        const timestamp::TimeZone& zone, config::Errors& errors) {
  if (!settings.has(key)) {
    return std::nullopt;
  }
  const std::string text = settings.string(key);
  const timestamp::ParsedTime parsed = timestamp::parse(text, zone);
  if (!parsed.ok()) {
    errors.add(settings.location(key),
                 fmt::format("{}: invalid time \"{}\" for {} ({}); write an RFC 3339 time such as "
                             "2024-03-01T00:00:00Z",
                             settings.context(), text, key, timestamp::describe(parsed.error)));
    return std::nullopt;
  }
  return parsed.utc_micros;
}

}  // namespace

const config::Schema TimeWindowConfig::kSchema{{
    config::Field{.name = "time_fields",
                  .type = config::FieldType::StringList,
                  .doc = "Fields holding the event time, tried in order; the first one with a readable time is used",
                  .default_text = "[DetectTime, CreateTime, StartTime, EventTime, timestamp, ts]"},
    config::Field{.name = "since",
                  .doc = "Earliest event time passed, inclusive, e.g. 2024-03-01T00:00:00Z; unset passes all earlier "
                         "events"},
    config::Field{.name = "until",
                  .doc = "Event time from which events are dropped, exclusive; unset passes all later events"},
    config::Field{.name = "speed",
                  .doc = "0 passes events as fast as possible; a number N paces them at N times the pace of "
                         "their original times (1 is real time, 60 plays an hour in a minute)",
                  .default_text = "0"},
    config::Field{.name = "without_time",
                  .type = config::FieldType::Enum,
                  .doc = "What happens to an event without a readable time: pass (unpaced) or drop (counted)",
                  .default_text = "pass",
                  .choices = {"pass", "drop"}},
    config::Field{.name = "timezone",
                  .doc = "IANA zone of times written without an offset, e.g. Europe/Prague",
                  .default_text = "UTC"},
}};

std::optional<TimeWindowConfig> TimeWindowConfig::parse(const config::Section& settings, config::Errors& errors) {
  TimeWindowConfig config;
  bool valid = true;

  std::vector<std::string> fields = {"DetectTime", "CreateTime", "StartTime", "EventTime", "timestamp", "ts"};
  if (settings.has("time_fields")) {
    fields = settings.strings("time_fields");
  }
  for (const std::string& text : fields) {
    std::string error;
    std::optional<FieldPath> path = FieldPath::parse(text, error);
    if (!path) {
      errors.add(settings.location("time_fields"),
                   fmt::format("{}: invalid field path \"{}\" in time_fields: {}", settings.context(), text, error));
      valid = false;
      continue;
    }
    config.time_fields.push_back(std::move(*path));
  }

  const std::string zone_name = settings.string("timezone");
  if (std::optional<timestamp::TimeZone> zone = timestamp::TimeZone::find(zone_name)) {
    config.zone = *zone;
  } else {
    errors.add(settings.location("timezone"),
                 fmt::format("{}: unknown time zone \"{}\"; use an IANA name such as UTC or Europe/Prague",
                             settings.context(), zone_name));
    valid = false;
  }

  config.since_micros = parse_bound(settings, "since", config.zone, errors);
  config.until_micros = parse_bound(settings, "until", config.zone, errors);
  valid = valid && (settings.has("since") == config.since_micros.has_value()) &&
          (settings.has("until") == config.until_micros.has_value());
  if (config.since_micros && config.until_micros && *config.until_micros <= *config.since_micros) {
    errors.add(settings.location("until"),
                 fmt::format("{}: until must be later than since, or no event can pass", settings.context()));
    valid = false;
  }

  const std::string speed = settings.string("speed");
  const auto [end, error] = std::from_chars(speed.data(), speed.data() + speed.size(), config.speed);
  if (error != std::errc() || end != speed.data() + speed.size() || !std::isfinite(config.speed) ||
      config.speed < 0) {
    errors.add(settings.location("speed"),
                 fmt::format("{}: invalid speed \"{}\"; use 0 for as fast as possible or a positive number such as "
                             "60",
                             settings.context(), speed));
    valid = false;
  }

  config.drop_without_time = settings.string("without_time") == "drop";
  if (!valid) {
    return std::nullopt;
  }
  return config;
}

std::unique_ptr<Filter> TimeWindowFilter::create(const config::Section& settings, config::Errors& errors) {
  std::optional<TimeWindowConfig> config = TimeWindowConfig::parse(settings, errors);
  if (!config) {
    return nullptr;
  }
  return std::make_unique<TimeWindowFilter>(std::move(*config));
}

std::optional<std::int64_t> TimeWindowFilter::event_time(const Event& event, FilterContext& context) const {
  const std::optional<json::Value> document = parse_event(event, context);
  if (!document) {
    return std::nullopt;
  }
  for (const FieldPath& path : config_.time_fields) {
    const json::Value* value = path.find(*document);
    if (value == nullptr) {
      continue;
    }
    timestamp::ParsedTime parsed;
    if (value->is_string()) {
      parsed = timestamp::parse(value->as_string(), config_.zone);
    } else if (value->is_number()) {
      parsed = timestamp::parse_epoch_seconds(value->number_text());
    } else {
      continue;
    }
    if (parsed.ok()) {
      return parsed.utc_micros;
    }
  }
  return std::nullopt;
}

void TimeWindowFilter::wait_for_turn(std::int64_t event_micros, FilterContext& context) {
  const auto now = std::chrono::steady_clock::now();
  if (!first_event_micros_) {
    first_event_micros_ = event_micros;
    first_event_wall_ = now;
    return;
  }

  // Events older than the first one are not held back.
  const double offset_micros = static_cast<double>(event_micros - *first_event_micros_) / config_.speed;
  if (offset_micros <= 0) {
    return;
  }
  const auto due = first_event_wall_ + std::chrono::microseconds(static_cast<std::int64_t>(offset_micros));
  while (!context.stop_requested()) {
    const auto left = due - std::chrono::steady_clock::now();
    if (left <= std::chrono::steady_clock::duration::zero()) {
      return;
    }
    std::this_thread::sleep_for(std::min<std::chrono::steady_clock::duration>(left, kLongestSleep));
  }
}

void TimeWindowFilter::process(const BatchPtr& batch, FilterContext& context) {
  // Events wait for their turn one by one. Those already due leave in one
  // batch before each wait, so pacing never delays a due event.
  Batch pending;
  pending.acks = batch->acks;
  bool changed = false;
  std::uint64_t dropped = 0;
  const auto send_pending = [&] {
    if (!pending.events.empty()) {
      context.emit(std::exchange(pending, Batch{.events = {}, .acks = batch->acks}));
    }
  };

  for (const Event& event : batch->events) {
    const std::optional<std::int64_t> time = event_time(event, context);
    if (!time) {
      if (config_.drop_without_time) {
        ++without_time_;
        ++dropped;
        changed = true;
        continue;
      }
      pending.events.push_back(event);
      continue;
    }
    const bool before = config_.since_micros && *time < *config_.since_micros;
    const bool after = config_.until_micros && *time >= *config_.until_micros;
    if (before || after) {
      ++outside_window_;
      ++dropped;
      changed = true;
      continue;
    }
    if (config_.speed > 0) {
      send_pending();
      changed = true;
      wait_for_turn(*time, context);
    }
    pending.events.push_back(event);
  }

  if (!changed) {
    context.forward(batch);
    return;
  }
  context.metrics().dropped_events.fetch_add(dropped, std::memory_order_relaxed);
  send_pending();
}

void TimeWindowFilter::finish(FilterContext& context) {
  if (outside_window_ + without_time_ > 0) {
    context.log().info("Dropped events outside the time window or without a readable time. outside_window={} "
                       "without_time={}",
                       outside_window_, without_time_);
  }
}

SLIPWAY_REGISTER_FILTER("time_window",
                        "Passes events whose time lies in [since, until) and optionally paces them by their "
                        "original times",
                        TimeWindowConfig::kSchema, &TimeWindowFilter::create);

}  // namespace slipway::filters
