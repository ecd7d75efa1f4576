#include "filters/idea/idea_normalize.hpp"

#include <algorithm>
#include <cstdint>
#include <optional>
#include <thread>
#include <utility>

#include <fmt/format.h>

#include "engine/registry.hpp"
#include "engine/timestamp.hpp"
#include "filters/idea/idea_syntax.hpp"

namespace slipway::filters {
namespace {

constexpr std::int64_t kMaxWorkers = 64;
// The worker count that `workers: 0` picks on a machine with many cores.
constexpr std::size_t kMaxAutomaticWorkers = 8;
// Workers take records in ranges this long: short enough that a worker
// which starts late still finds ranges left, long enough that taking one
// costs little. A tailed file's batches of a few records stay on the
// filter's own thread.
constexpr std::size_t kRecordsPerRange = 32;

std::size_t worker_count(std::size_t configured) {
  if (configured > 0) {
    return configured;
  }
  return std::clamp<std::size_t>(std::thread::hardware_concurrency(), 1, kMaxAutomaticWorkers);
}

}  // namespace

const config::Schema IdeaNormalize::kSchema{{
    config::Field{.name = "zoneless_time_zone",
                  .type = config::FieldType::String,
                  .doc = "IANA time zone for times written without a UTC offset, such as Slips' "
                         "\"2024/04/09 10:00:00\"; set it to the zone of the Slips host",
                  .default_text = "UTC"},
    config::Field{.name = "node_name",
                  .type = config::FieldType::String,
                  .doc = "Name written as Node[0].Name with SW [\"Slips\"], a dotted identifier such as "
                         "cz.example.slips.sensor1 (Warden requires its client name here); empty adds no Node",
                  .default_text = ""},
    config::Field{.name = "test_category",
                  .type = config::FieldType::Boolean,
                  .doc = "Add the Test category to every record, as a Warden client in test mode must",
                  .default_text = "false"},
    config::Field{.name = "workers",
                  .type = config::FieldType::Integer,
                  .doc = "Threads that normalize a large batch together; records keep their order. 0 uses one per "
                         "CPU core, at most 8; batches of up to 32 records stay on the filter's own thread",
                  .default_text = "0",
                  .min = 0,
                  .max = kMaxWorkers},
}};

std::unique_ptr<Filter> IdeaNormalize::create(const config::Section& settings, config::Errors& errors) {
  idea::NormalizerOptions options;
  bool valid = true;

  const std::string zone_name = settings.string("zoneless_time_zone");
  if (const std::optional<timestamp::TimeZone> zone = timestamp::TimeZone::find(zone_name)) {
    options.zoneless_zone = *zone;
  } else {
    errors.add(settings.location("zoneless_time_zone"),
               fmt::format("{}: key \"zoneless_time_zone\": unknown time zone \"{}\"; use an IANA name such as "
                           "\"Europe/Prague\", or \"UTC\"",
                           settings.context(), zone_name));
    valid = false;
  }

  options.node_name = settings.string("node_name");
  if (!options.node_name.empty() && !idea::is_nsid(options.node_name)) {
    errors.add(settings.location("node_name"),
               fmt::format("{}: key \"node_name\": \"{}\" is not a valid IDEA node name; use dot-separated labels "
                           "of letters, digits, '_' and '-', such as \"cz.example.slips.sensor1\"",
                           settings.context(), options.node_name));
    valid = false;
  }

  options.test_category = settings.boolean("test_category");
  if (!valid) {
    return nullptr;
  }
  // The schema check reports a count out of range; the clamp only keeps a
  // caller that skipped it from starting billions of threads.
  const std::int64_t workers = std::clamp<std::int64_t>(settings.integer("workers"), 0, kMaxWorkers);
  return std::make_unique<IdeaNormalize>(options, static_cast<std::size_t>(workers));
}

IdeaNormalize::IdeaNormalize(const idea::NormalizerOptions& options, std::size_t workers)
    : pool_(worker_count(workers)) {
  for (std::size_t worker = 0; worker < pool_.workers(); ++worker) {
    workers_.push_back(std::make_unique<Worker>(options));
  }
}

void IdeaNormalize::normalize_range(Worker& worker, const Batch& batch, std::size_t begin, std::size_t end) {
  for (std::size_t index = begin; index < end; ++index) {
    Result& result = results_[index];
    // Writing into one reused buffer and copying the result keeps the
    // writer in cached memory and gives each event an exact-size string.
    worker.scratch.clear();
    result.normalized = worker.normalizer.normalize(batch.events[index].json, worker.scratch, result.text);
    if (result.normalized) {
      result.text = worker.scratch;
    }
  }
}

// The engine counts received and sent events around process(), and
// dead_letter() counts the dead letters, so no counter is bumped here.
void IdeaNormalize::process(const BatchPtr& batch, FilterContext& context) {
  const std::size_t count = batch->events.size();
  results_.resize(count);
  pool_.for_each_range(count, kRecordsPerRange, [&](std::size_t worker, std::size_t begin, std::size_t end) {
    normalize_range(*workers_[worker], *batch, begin, end);
  });

  // Results are taken in input order, so events and dead letters keep it.
  Batch normalized;
  normalized.acks = batch->acks;
  normalized.events.reserve(count);
  std::size_t rejected = 0;
  std::size_t first_rejected = 0;
  for (std::size_t index = 0; index < count; ++index) {
    Result& result = results_[index];
    const Event& event = batch->events[index];
    if (result.normalized) {
      normalized.events.push_back(Event{std::move(result.text), event.origin});
      continue;
    }
    context.dead_letter(event.json, event.origin, result.text);
    if (rejected == 0) {
      first_rejected = index;
    }
    ++rejected;
  }

  // One line per batch: the dead-letter file and its counter hold the detail.
  if (rejected > 0) {
    const EventOrigin& origin = batch->events[first_rejected].origin;
    context.log().debug("Records that could not be normalized went to the dead-letter file. count={} source={} "
                        "line={} error=\"{}\"",
                        rejected, origin.source ? *origin.source : std::string("unknown"), origin.line,
                        results_[first_rejected].text);
  }
  if (!normalized.events.empty()) {
    context.emit(std::move(normalized));
  }
}

SLIPWAY_REGISTER_FILTER("idea_normalize",
                        "Converts Slips alerts of every generation to canonical IDEA0; Slips data without an IDEA "
                        "key (threat level, time window, uids, evidence type) goes in the _Slips member",
                        IdeaNormalize::kSchema, &IdeaNormalize::create);

}  // namespace slipway::filters
