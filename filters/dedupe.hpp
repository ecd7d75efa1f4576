// The `dedupe` filter: passes the first event of each key and drops the
// events with the same key that follow within `window_secs`; Slips, for
// one, publishes each alert's evidence twice. The keys of passed events are
// stored under data_dir once their batch has been delivered, so a restart
// or a replay does not send them again. An event lost in a crash before
// delivery is not recorded, so the input's replay sends it.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <deque>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_set>
#include <vector>

#include "config/errors.hpp"
#include "config/schema.hpp"
#include "engine/component.hpp"
#include "filters/clock.hpp"
#include "filters/dedupe_store.hpp"
#include "filters/field_path.hpp"

namespace slipway::filters {

struct DedupeConfig {
  std::vector<FieldPath> key;  // the fields that together identify an event
  std::chrono::seconds window{86'400};
  std::size_t max_keys = 100'000;

  static const config::Schema kSchema;
  // Returns nullopt after adding the problems to `errors`.
  static std::optional<DedupeConfig> parse(const config::Section& settings, config::Errors& errors);
};

struct DedupeCounters {
  std::atomic<std::uint64_t> keyless_events{0};  // lacked every key field, so passed
  std::atomic<std::uint64_t> evicted_keys{0};    // forgotten before their window ended, to respect max_keys
  std::atomic<std::uint64_t> failed_writes{0};   // batches of keys the database did not take
};

class DedupeFilter final : public Filter {
 public:
  explicit DedupeFilter(DedupeConfig config, std::shared_ptr<Clock> clock = system_clock());
  ~DedupeFilter() override;

  static std::unique_ptr<Filter> create(const config::Section& settings, config::Errors& errors);

  // Opens the database under the context's data_dir on the first call.
  void process(const BatchPtr& batch, FilterContext& context) override;
  void finish(FilterContext& context) override;

  const DedupeCounters& counters() const { return *counters_; }
  // Keys held in memory: passed within the window, at most max_keys.
  std::size_t remembered_keys() const { return passed_.size(); }

 private:
  class Recorder;

  void open(FilterContext& context);
  // Forgets keys that passed before the window; returns true if any.
  bool forget_expired(std::int64_t now_micros);
  // Remembers a passed key; returns true when an older key was evicted.
  bool remember(std::string key, std::int64_t now_micros);
  void report_failed_writes(FilterContext& context);

  DedupeConfig config_;
  std::shared_ptr<Clock> clock_;
  std::shared_ptr<DedupeCounters> counters_ = std::make_shared<DedupeCounters>();
  std::shared_ptr<Recorder> recorder_;  // null until open()
  std::shared_ptr<AckTracker> delivery_;

  // Passed keys, oldest first; `index_` views the strings stored here,
  // which a deque never moves while elements are added or removed at its ends.
  std::deque<SeenKey> passed_;
  std::unordered_set<std::string_view> index_;
  std::uint64_t reported_failed_writes_ = 0;
};

}  // namespace slipway::filters
