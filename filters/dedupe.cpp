#include "filters/dedupe.hpp"

#include <charconv>
#include <map>
#include <mutex>

#include <fmt/format.h>

#include "engine/registry.hpp"
#include "filters/filter_support.hpp"

namespace slipway::filters {

namespace {

constexpr std::int64_t kMicrosPerSecond = 1'000'000;

}  // namespace

// Keeps the keys of each emitted batch until the outputs have delivered it,
// then writes them to the database. Runs on whichever output thread
// releases the batch last, in emission order.
class DedupeFilter::Recorder {
 public:
  Recorder(const std::filesystem::path& path, std::shared_ptr<DedupeCounters> counters)
      : store_(path), counters_(std::move(counters)) {}

  SeenKeyStore& store() { return store_; }

  std::uint64_t hold(std::vector<SeenKey> keys) {
    std::lock_guard lock(mutex_);
    const std::uint64_t sequence = next_sequence_++;
    waiting_.emplace(sequence, std::move(keys));
    return sequence;
  }

  // Called from an AckState destructor, so it must not throw.
  void delivered(const std::vector<CheckpointEntry>& entries) noexcept {
    std::vector<SeenKey> keys;
    {
      std::lock_guard lock(mutex_);
      for (const CheckpointEntry& entry : entries) {
        std::uint64_t sequence = 0;
        std::from_chars(entry.value.data(), entry.value.data() + entry.value.size(), sequence);
        const auto found = waiting_.find(sequence);
        if (found != waiting_.end()) {
          std::move(found->second.begin(), found->second.end(), std::back_inserter(keys));
          waiting_.erase(found);
        }
      }
    }
    try {
      store_.insert(keys);
    } catch (const std::exception&) {
      counters_->failed_writes.fetch_add(1, std::memory_order_relaxed);
    }
  }

 private:
  SeenKeyStore store_;
  std::shared_ptr<DedupeCounters> counters_;
  std::mutex mutex_;
  std::uint64_t next_sequence_ = 0;
  // NOTE: after a batch is marked undelivered, the tracker commits nothing
  // more, so keys wait here until the process ends — by design, since the
  // input then replays those events and they must pass again.
  std::map<std::uint64_t, std::vector<SeenKey>> waiting_;
};

const config::Schema DedupeConfig::kSchema{{
    config::Field{.name = "key",
                  .type = config::FieldType::StringList,
                  .doc = "Field paths that together identify an event; events with the same values are duplicates",
                  .default_text = "ID"},
    config::Field{.name = "window_secs",
                  .type = config::FieldType::Integer,
                  .doc = "How long after an event passed its duplicates are dropped, in seconds",
                  .default_text = "86400",
                  .min = 1},
    config::Field{.name = "max_keys",
                  .type = config::FieldType::Integer,
                  .doc = "Keys remembered at most; beyond it the oldest are forgotten early (about 200 bytes each)",
                  .default_text = "100000",
                  .min = 1},
}};

std::optional<DedupeConfig> DedupeConfig::parse(const config::Section& settings, config::Errors& errors) {
  DedupeConfig config;
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
  if (valid && config.key.empty()) {
    errors.add(settings.location("key"),
               fmt::format("{}: key \"key\": expected at least one field path, e.g. [ID]", settings.context()));
    valid = false;
  }
  config.window = std::chrono::seconds(settings.integer("window_secs"));
  config.max_keys = static_cast<std::size_t>(settings.integer("max_keys"));
  if (!valid) {
    return std::nullopt;
  }
  return config;
}

DedupeFilter::DedupeFilter(DedupeConfig config, std::shared_ptr<Clock> clock)
    : config_(std::move(config)), clock_(std::move(clock)) {}

DedupeFilter::~DedupeFilter() = default;

std::unique_ptr<Filter> DedupeFilter::create(const config::Section& settings, config::Errors& errors) {
  std::optional<DedupeConfig> config = DedupeConfig::parse(settings, errors);
  if (!config) {
    return nullptr;
  }
  return std::make_unique<DedupeFilter>(std::move(*config));
}

void DedupeFilter::open(FilterContext& context) {
  const std::filesystem::path path = context.data_dir() / "dedupe" / (context.id() + ".sqlite");
  recorder_ = std::make_shared<Recorder>(path, counters_);
  delivery_ = std::make_shared<AckTracker>(
      [recorder = recorder_](const std::vector<CheckpointEntry>& entries) { recorder->delivered(entries); });

  const std::int64_t window_start = clock_->wall_micros() - config_.window.count() * kMicrosPerSecond;
  for (SeenKey& seen : recorder_->store().load(window_start, config_.max_keys)) {
    passed_.push_back(std::move(seen));
    index_.insert(passed_.back().key);
  }
  context.log().info("Loaded the keys of events passed within the window. path={} keys={}", path.string(),
                     passed_.size());
}

bool DedupeFilter::forget_expired(std::int64_t now_micros) {
  const std::int64_t window_start = now_micros - config_.window.count() * kMicrosPerSecond;
  bool forgot = false;
  while (!passed_.empty() && passed_.front().passed_at_micros < window_start) {
    index_.erase(passed_.front().key);
    passed_.pop_front();
    forgot = true;
  }
  return forgot;
}

bool DedupeFilter::remember(std::string key, std::int64_t now_micros) {
  passed_.push_back(SeenKey{std::move(key), now_micros});
  index_.insert(passed_.back().key);
  bool evicted = false;
  while (passed_.size() > config_.max_keys) {
    index_.erase(passed_.front().key);
    passed_.pop_front();
    counters_->evicted_keys.fetch_add(1, std::memory_order_relaxed);
    evicted = true;
  }
  return evicted;
}

void DedupeFilter::process(const BatchPtr& batch, FilterContext& context) {
  if (!recorder_) {
    open(context);
  }
  report_failed_writes(context);
  const std::int64_t now_micros = clock_->wall_micros();
  bool forgot = forget_expired(now_micros);

  Batch passed_batch;
  std::vector<SeenKey> new_keys;
  std::uint64_t dropped = 0;
  for (const Event& event : batch->events) {
    const std::optional<json::Value> document = parse_event(event, context);
    if (!document) {
      continue;
    }
    std::optional<std::string> key = compose_key(config_.key, *document);
    if (!key) {
      counters_->keyless_events.fetch_add(1, std::memory_order_relaxed);
      passed_batch.events.push_back(event);
      continue;
    }
    if (index_.contains(*key)) {
      ++dropped;
      continue;
    }
    new_keys.push_back(SeenKey{*key, now_micros});
    forgot = remember(std::move(*key), now_micros) || forgot;
    passed_batch.events.push_back(event);
  }

  // Rows older than every remembered key are expired or evicted.
  if (forgot) {
    recorder_->store().forget_before(passed_.empty() ? now_micros - config_.window.count() * kMicrosPerSecond
                                                     : passed_.front().passed_at_micros);
  }
  if (dropped > 0) {
    context.metrics().dropped_events.fetch_add(dropped, std::memory_order_relaxed);
    context.log().debug("Dropped duplicate events. dropped={} passed={}", dropped, passed_batch.events.size());
  }
  if (passed_batch.events.empty()) {
    return;
  }
  passed_batch.acks = batch->acks;
  if (!new_keys.empty()) {
    const std::uint64_t sequence = recorder_->hold(std::move(new_keys));
    passed_batch.acks.push_back(delivery_->track(CheckpointEntry{"", std::to_string(sequence)}));
  }
  context.emit(std::move(passed_batch));
}

void DedupeFilter::report_failed_writes(FilterContext& context) {
  const std::uint64_t failed = counters_->failed_writes.load(std::memory_order_relaxed);
  if (failed == reported_failed_writes_) {
    return;
  }
  context.metrics().errors.fetch_add(failed - reported_failed_writes_, std::memory_order_relaxed);
  context.log().error("Recording passed keys in the dedupe database failed; after a restart those events pass "
                      "again. failed_batches={} path={}",
                      failed - reported_failed_writes_, recorder_->store().path().string());
  reported_failed_writes_ = failed;
}

void DedupeFilter::finish(FilterContext& context) {
  if (recorder_) {
    report_failed_writes(context);
  }
  context.log().info("Dedupe finished. remembered_keys={} keyless_events={} evicted_keys={}", passed_.size(),
                     counters_->keyless_events.load(), counters_->evicted_keys.load());
}

SLIPWAY_REGISTER_FILTER("dedupe", "Drops events whose key was already seen within a time window, across restarts",
                        DedupeConfig::kSchema, &DedupeFilter::create);

}  // namespace slipway::filters
