#include "filters/idea/idea_normalize.hpp"

#include <optional>
#include <string>
#include <string_view>

#include <fmt/format.h>

#include "engine/registry.hpp"
#include "engine/timestamp.hpp"
#include "filters/idea/idea_syntax.hpp"

namespace slipway::filters {

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
    workers_field("normalize the records", "0"),
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
  return std::make_unique<IdeaNormalize>(options, worker_count(settings.integer("workers")));
}

IdeaNormalize::IdeaNormalize(const idea::NormalizerOptions& options, std::size_t workers)
    : workers_(workers, true, [&options] { return std::make_unique<idea::Normalizer>(options); }) {}

// The engine counts received and sent events around process(), and
// dead_letter() counts the dead letters, so no counter is bumped here.
void IdeaNormalize::process(const BatchPtr& batch, FilterContext& context) {
  auto& results = workers_.convert(*batch, [](idea::Normalizer& normalizer, std::string_view json, std::string& out,
                                               std::string& reason) { return normalizer.normalize(json, out, reason); });
  const std::size_t count = results.size();

  // Results are taken in input order, so events and dead letters keep it.
  Batch normalized;
  normalized.acks = batch->acks;
  normalized.events.reserve(count);
  std::size_t rejected = 0;
  std::size_t first_rejected = 0;
  for (std::size_t index = 0; index < count; ++index) {
    auto& result = results[index];
    const Event& event = batch->events[index];
    if (result.outcome) {
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
                        results[first_rejected].text);
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
