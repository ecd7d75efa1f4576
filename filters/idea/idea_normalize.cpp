#include "filters/idea/idea_normalize.hpp"

#include <optional>
#include <utility>

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
  return std::make_unique<IdeaNormalize>(std::move(options));
}

// The engine counts received and sent events around process(), and
// dead_letter() counts the dead letters, so no counter is bumped here.
void IdeaNormalize::process(const BatchPtr& batch, FilterContext& context) {
  Batch normalized;
  normalized.acks = batch->acks;
  normalized.events.reserve(batch->events.size());
  std::size_t rejected = 0;
  std::string first_reason;
  const EventOrigin* first_rejected_origin = nullptr;
  for (const Event& event : batch->events) {
    // Writing into one reused buffer and copying the result keeps the
    // writer in cached memory and gives each event an exact-size string.
    scratch_.clear();
    if (normalizer_.normalize(event.json, scratch_, reason_)) {
      normalized.events.push_back(Event{scratch_, event.origin});
      continue;
    }
    context.dead_letter(event.json, event.origin, reason_);
    if (rejected == 0) {
      first_reason = reason_;
      first_rejected_origin = &event.origin;
    }
    ++rejected;
  }

  // One line per batch: the dead-letter file and its counter hold the detail.
  if (rejected > 0) {
    const EventOrigin& origin = *first_rejected_origin;
    context.log().debug("Records that could not be normalized went to the dead-letter file. count={} source={} "
                        "line={} error=\"{}\"",
                        rejected, origin.source ? *origin.source : std::string("unknown"), origin.line,
                        first_reason);
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
