// The `time_window` filter: passes the events whose time lies in
// [since, until) and, with a speed, paces them by their original times.
// A replay of archived alerts uses it to select a period and play it back
// at N times real speed, and `slipway replay` adds one to the pipeline.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <vector>

#include "config/errors.hpp"
#include "config/schema.hpp"
#include "engine/component.hpp"
#include "engine/timestamp.hpp"
#include "filters/field_path.hpp"

namespace slipway::filters {

struct TimeWindowConfig {
  std::vector<FieldPath> time_fields;
  std::optional<std::int64_t> since_micros;  // inclusive, UTC
  std::optional<std::int64_t> until_micros;  // exclusive, UTC
  double speed = 0;                          // 0: as fast as possible
  bool drop_without_time = false;
  timestamp::TimeZone zone = timestamp::TimeZone::utc();

  static const config::Schema kSchema;
  // Returns nullopt after adding the problems to `errors`.
  static std::optional<TimeWindowConfig> parse(const config::Section& settings, config::Errors& errors);
};

class TimeWindowFilter final : public Filter {
 public:
  explicit TimeWindowFilter(TimeWindowConfig config) : config_(std::move(config)) {}

  static std::unique_ptr<Filter> create(const config::Section& settings, config::Errors& errors);

  void process(const BatchPtr& batch, FilterContext& context) override;
  void finish(FilterContext& context) override;

 private:
  // The event's time in UTC microseconds, from the first time field with a readable time.
  std::optional<std::int64_t> event_time(const Event& event, FilterContext& context) const;
  // Sleeps until the wall-clock moment that `event_micros` maps to at the
  // configured speed; returns early when the pipeline stops.
  void wait_for_turn(std::int64_t event_micros, FilterContext& context);

  TimeWindowConfig config_;
  std::optional<std::int64_t> first_event_micros_;
  std::chrono::steady_clock::time_point first_event_wall_;
  std::uint64_t outside_window_ = 0;
  std::uint64_t without_time_ = 0;
};

}  // namespace slipway::filters
