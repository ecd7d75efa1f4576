#include "filters/throttle.hpp"

#include <algorithm>

#include <fmt/format.h>

#include "engine/registry.hpp"
#include "filters/filter_support.hpp"

namespace slipway::filters {

const config::Schema ThrottleConfig::kSchema{{
    config::Field{.name = "max_events",
                  .type = config::FieldType::Integer,
                  .doc = "Events passed at most per key in any period of interval_secs",
                  .required = true,
                  .min = 1},
    config::Field{.name = "interval_secs",
                  .type = config::FieldType::Integer,
                  .doc = "Length of the period max_events applies to, in seconds",
                  .default_text = "60",
                  .min = 1},
    config::Field{.name = "key",
                  .type = config::FieldType::StringList,
                  .doc = "Field paths whose values select the bucket, e.g. [\"Source[0].IP4[0]\"]; empty: one bucket for "
                         "all events"},
    config::Field{.name = "when_exceeded",
                  .type = config::FieldType::Enum,
                  .doc = "delay: hold excess events until their bucket has room; drop: discard and count them",
                  .default_text = "delay",
                  .choices = {"delay", "drop"}},
    config::Field{.name = "max_pending",
                  .type = config::FieldType::Integer,
                  .doc = "Events held at most with when_exceeded: delay; beyond it the filter waits and slows its "
                         "upstream",
                  .default_text = "10000",
                  .min = 1},
}};

std::optional<ThrottleConfig> ThrottleConfig::parse(const config::Section& settings, config::Errors& errors) {
  ThrottleConfig config;
  bool valid = true;
  for (const std::string& text : settings.strings("key")) {
    std::string problem;
    std::optional<FieldPath> path = FieldPath::parse(text, problem);
    if (!path) {
      errors.add(settings.location("key"),
                 fmt::format("{}: key \"key\": invalid field path \"{}\": {}", settings.context(), text, problem));
      valid = false;
      continue;
    }
    config.key.push_back(std::move(*path));
  }
  config.max_events = static_cast<std::size_t>(settings.integer("max_events"));
  config.interval = std::chrono::seconds(settings.integer("interval_secs"));
  config.when_exceeded = settings.string("when_exceeded") == "drop" ? WhenExceeded::Drop : WhenExceeded::Delay;
  config.max_pending = static_cast<std::size_t>(settings.integer("max_pending"));
  if (!valid || !settings.has("max_events")) {
    return std::nullopt;
  }
  return config;
}

std::unique_ptr<Filter> ThrottleFilter::create(const config::Section& settings, config::Errors& errors) {
  std::optional<ThrottleConfig> config = ThrottleConfig::parse(settings, errors);
  if (!config) {
    return nullptr;
  }
  return std::make_unique<ThrottleFilter>(std::move(*config));
}

void ThrottleFilter::Outgoing::add(Event event, const std::vector<AckRef>& acks) {
  for (const AckRef& ack : acks) {
    if (known_acks.insert(ack.get()).second) {
      batch.acks.push_back(ack);
    }
  }
  batch.events.push_back(std::move(event));
}

bool ThrottleFilter::has_room(Bucket& bucket, Clock::SteadyTime now) const {
  while (!bucket.sent.empty() && bucket.sent.front() + config_.interval <= now) {
    bucket.sent.pop_front();
  }
  return bucket.sent.size() < config_.max_events;
}

void ThrottleFilter::release_into(Outgoing& outgoing, Clock::SteadyTime now) {
  std::vector<Held> released;
  for (auto bucket_it = holding_buckets_.begin(); bucket_it != holding_buckets_.end();) {
    Bucket& bucket = **bucket_it;
    while (!bucket.held.empty() && has_room(bucket, now)) {
      bucket.sent.push_back(now);
      released.push_back(std::move(bucket.held.front()));
      bucket.held.pop_front();
      --pending_;
    }
    bucket_it = bucket.held.empty() ? holding_buckets_.erase(bucket_it) : std::next(bucket_it);
  }

  // Events of different buckets leave in the order they arrived.
  std::sort(released.begin(), released.end(),
            [](const Held& left, const Held& right) { return left.arrival < right.arrival; });
  for (Held& held : released) {
    outgoing.add(std::move(held.event), *held.acks);
  }
}

std::optional<Clock::SteadyTime> ThrottleFilter::next_release() {
  std::optional<Clock::SteadyTime> earliest;
  const Clock::SteadyTime now = clock_->steady_now();
  for (Bucket* bucket : holding_buckets_) {
    const Clock::SteadyTime ready = has_room(*bucket, now) ? now : bucket->sent.front() + config_.interval;
    earliest = earliest ? std::min(*earliest, ready) : ready;
  }
  return earliest;
}

void ThrottleFilter::wait_for_room(Outgoing& outgoing, FilterContext& context) {
  // Downstream gets what is already released before this thread sleeps.
  if (!outgoing.batch.events.empty()) {
    context.emit(std::move(outgoing.batch));
    outgoing = Outgoing();
  }
  // pending_ >= max_pending >= 1, so some bucket has a held event.
  clock_->sleep_until(*next_release());
  release_into(outgoing, clock_->steady_now());
}

void ThrottleFilter::process(const BatchPtr& batch, FilterContext& context) {
  Clock::SteadyTime now = clock_->steady_now();
  Outgoing outgoing;
  release_into(outgoing, now);

  std::shared_ptr<const std::vector<AckRef>> batch_acks;
  std::uint64_t dropped = 0;
  for (const Event& event : batch->events) {
    const std::optional<json::Value> document = parse_event(event, context);
    if (!document) {
      continue;
    }
    const std::string key = config_.key.empty() ? std::string() : compose_key(config_.key, *document).value_or("");
    Bucket& bucket = buckets_[key];
    while (true) {
      now = clock_->steady_now();
      if (bucket.held.empty() && has_room(bucket, now)) {
        bucket.sent.push_back(now);
        outgoing.add(event, batch->acks);
        break;
      }
      if (config_.when_exceeded == WhenExceeded::Drop) {
        ++dropped;
        break;
      }
      if (pending_ < config_.max_pending) {
        if (!batch_acks) {
          batch_acks = std::make_shared<const std::vector<AckRef>>(batch->acks);
        }
        bucket.held.push_back(Held{event, batch_acks, next_arrival_++});
        holding_buckets_.insert(&bucket);
        ++pending_;
        break;
      }
      wait_for_room(outgoing, context);
    }
  }

  if (dropped > 0) {
    context.metrics().dropped_events.fetch_add(dropped, std::memory_order_relaxed);
    context.log().debug("Dropped events over the rate limit. dropped={}", dropped);
  }
  context.emit(std::move(outgoing.batch));
  forget_idle_buckets(clock_->steady_now());
}

void ThrottleFilter::release_due(FilterContext& context) {
  Outgoing outgoing;
  release_into(outgoing, clock_->steady_now());
  context.emit(std::move(outgoing.batch));
}

// Without this, a key seen once (say one scanning address) would keep its
// bucket for the whole run.
void ThrottleFilter::forget_idle_buckets(Clock::SteadyTime now) {
  if (now - last_sweep_ < config_.interval) {
    return;
  }
  last_sweep_ = now;
  for (auto bucket_it = buckets_.begin(); bucket_it != buckets_.end();) {
    Bucket& bucket = bucket_it->second;
    has_room(bucket, now);
    bucket_it = bucket.held.empty() && bucket.sent.empty() ? buckets_.erase(bucket_it) : std::next(bucket_it);
  }
}

void ThrottleFilter::finish(FilterContext& context) {
  if (pending_ == 0) {
    return;
  }
  // NOTE: held events leave at shutdown without waiting for their bucket —
  // waiting could take max_pending / max_events intervals, and a stop must
  // not hang for hours. The rate is exceeded once instead.
  std::vector<Held> remaining;
  for (Bucket* bucket : holding_buckets_) {
    std::move(bucket->held.begin(), bucket->held.end(), std::back_inserter(remaining));
    bucket->held.clear();
  }
  holding_buckets_.clear();
  std::sort(remaining.begin(), remaining.end(),
            [](const Held& left, const Held& right) { return left.arrival < right.arrival; });
  Outgoing outgoing;
  for (Held& held : remaining) {
    outgoing.add(std::move(held.event), *held.acks);
  }
  context.log().info("Sending held events at shutdown without waiting for the rate limit. events={}", pending_);
  pending_ = 0;
  context.emit(std::move(outgoing.batch));
}

SLIPWAY_REGISTER_FILTER("throttle", "Limits events per interval and key, holding or dropping the excess",
                        ThrottleConfig::kSchema, &ThrottleFilter::create);

}  // namespace slipway::filters
