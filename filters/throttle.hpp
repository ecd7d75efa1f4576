// The `throttle` filter: passes at most `max_events` events in any period
// of `interval_secs` per key (default: one bucket for all events). Excess
// events are held and sent, in their order per key, once the bucket has
// room again. With `max_pending` events held the filter waits, which slows
// its upstream. With `when_exceeded: drop` the excess is dropped and
// counted instead. Held events are never lost: finish() sends them all.
#pragma once

#include <chrono>
#include <cstdint>
#include <deque>
#include <memory>
#include <optional>
#include <string>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "config/errors.hpp"
#include "config/schema.hpp"
#include "engine/component.hpp"
#include "filters/clock.hpp"
#include "filters/field_path.hpp"

namespace slipway::filters {

enum class WhenExceeded { Delay, Drop };

struct ThrottleConfig {
  std::size_t max_events = 1;
  std::chrono::seconds interval{60};
  std::vector<FieldPath> key;  // empty: one bucket for all events
  WhenExceeded when_exceeded = WhenExceeded::Delay;
  std::size_t max_pending = 10'000;

  static const config::Schema kSchema;
  // Returns nullopt after adding the problems to `errors`.
  static std::optional<ThrottleConfig> parse(const config::Section& settings, config::Errors& errors);
};

class ThrottleFilter final : public Filter {
 public:
  explicit ThrottleFilter(ThrottleConfig config, std::shared_ptr<Clock> clock = system_clock())
      : config_(std::move(config)), clock_(std::move(clock)) {}

  static std::unique_ptr<Filter> create(const config::Section& settings, config::Errors& errors);

  // Sends what the buckets allow, held events first; may block in
  // clock->sleep_until() while max_pending events are held.
  void process(const BatchPtr& batch, FilterContext& context) override;
  // Sends every held event at once, in arrival order.
  void finish(FilterContext& context) override;

  // Sends the held events whose bucket has room now.
  // TODO: the engine calls a filter only when a batch arrives, so while no
  // batch comes held events wait for the next one or for shutdown;
  // release_due() and next_release() are ready for a timer in the engine.
  void release_due(FilterContext& context);
  // When the next held event may go; nullopt when none is held.
  std::optional<Clock::SteadyTime> next_release();
  std::size_t pending() const { return pending_; }
  // Keys with a bucket in memory.
  std::size_t bucket_count() const { return buckets_.size(); }

 private:
  struct Held {
    Event event;
    std::shared_ptr<const std::vector<AckRef>> acks;  // of the batch it came in
    std::uint64_t arrival = 0;
  };

  struct Bucket {
    std::deque<Clock::SteadyTime> sent;  // send times within the last interval, oldest first
    std::deque<Held> held;
  };

  // A batch being assembled from events of several incoming batches.
  struct Outgoing {
    Batch batch;
    std::unordered_set<const AckState*> known_acks;
    void add(Event event, const std::vector<AckRef>& acks);
  };

  bool has_room(Bucket& bucket, Clock::SteadyTime now) const;
  void release_into(Outgoing& outgoing, Clock::SteadyTime now);
  // Blocks until a held event may go, then moves it into `outgoing`.
  void wait_for_room(Outgoing& outgoing, FilterContext& context);
  void forget_idle_buckets(Clock::SteadyTime now);

  ThrottleConfig config_;
  std::shared_ptr<Clock> clock_;
  std::unordered_map<std::string, Bucket> buckets_;
  std::unordered_set<Bucket*> holding_buckets_;  // buckets with held events
  std::size_t pending_ = 0;
  std::uint64_t next_arrival_ = 0;
  Clock::SteadyTime last_sweep_{};
};

}  // namespace slipway::filters
