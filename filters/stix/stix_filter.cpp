#include "filters/stix/stix_filter.hpp"

#include <algorithm>
#include <array>
#include <string_view>

#include <fmt/format.h>

#include "engine/registry.hpp"

namespace slipway::filters {

namespace {

constexpr std::string_view kIndicator = "indicator";
constexpr std::string_view kSighting = "sighting";
constexpr std::string_view kObservedData = "observed_data";
constexpr std::array<std::string_view, 3> kObjectKinds = {kIndicator, kSighting, kObservedData};

// identity-class-ov of STIX 2.1.
const std::vector<std::string> kIdentityClasses = {"individual", "group", "system", "organization", "class",
                                                   "unknown"};

const config::Schema kIdentitySchema{{
    config::Field{.name = "name",
                  .type = config::FieldType::String,
                  .doc = "Name of the sensor that every object names as its creator, e.g. the Slips host; part of "
                         "the identity's id",
                  .default_text = "slipway"},
    config::Field{.name = "identity_class",
                  .type = config::FieldType::Enum,
                  .doc = "STIX identity class of the sensor; part of the identity's id",
                  .default_text = "system",
                  .choices = kIdentityClasses},
}};

}  // namespace

const config::Schema StixFilter::kSchema{{
    config::Field{.name = "objects",
                  .type = config::FieldType::StringList,
                  .doc = "STIX objects built per alert: indicator (always), sighting (one per indicator) and "
                         "observed_data (one per alert, with its observables)",
                  .default_text = "indicator"},
    config::Field{.name = "identity",
                  .type = config::FieldType::Object,
                  .doc = "The identity object for the sensor, named by every object's created_by_ref: name, "
                         "identity_class",
                  .nested = &kIdentitySchema},
    config::Field{.name = "slips_properties",
                  .type = config::FieldType::Boolean,
                  .doc = "Add x_slips_evidence_id and x_slips_threat_level to indicators, as Slips' own exporter "
                         "does; turn off for consumers that reject custom properties",
                  .default_text = "true"},
    // One thread by default: a pipeline with stix already keeps two cores
    // busy with its input, idea_normalize and output threads, and on a
    // 2-core machine more threads cost about a tenth of its throughput.
    workers_field("map the records", "1"),
}};

std::unique_ptr<Filter> StixFilter::create(const config::Section& settings, config::Errors& errors) {
  stix::MapperOptions options;
  bool valid = true;

  const std::vector<std::string> objects = settings.strings("objects");
  for (const std::string& kind : objects) {
    if (std::find(kObjectKinds.begin(), kObjectKinds.end(), kind) == kObjectKinds.end()) {
      errors.add(settings.location("objects"),
                 fmt::format("{}: key \"objects\": unknown object \"{}\"; use indicator, sighting or observed_data",
                             settings.context(), kind));
      valid = false;
    }
  }
  if (std::find(objects.begin(), objects.end(), kIndicator) == objects.end()) {
    errors.add(settings.location("objects"),
               fmt::format("{}: key \"objects\": must include indicator, which the other objects refer to",
                           settings.context()));
    valid = false;
  }
  options.sighting = std::find(objects.begin(), objects.end(), kSighting) != objects.end();
  options.observed_data = std::find(objects.begin(), objects.end(), kObservedData) != objects.end();

  const config::Section identity = settings.object("identity");
  options.identity_name = identity.string("name");
  options.identity_class = identity.string("identity_class");
  if (options.identity_name.empty()) {
    errors.add(identity.location("name"),
               fmt::format("{}: key \"identity.name\": expected the sensor's name, got an empty string",
                           settings.context()));
    valid = false;
  }
  options.slips_properties = settings.boolean("slips_properties");

  if (!valid) {
    return nullptr;
  }
  return std::make_unique<StixFilter>(options, worker_count(settings.integer("workers")));
}

StixFilter::StixFilter(const stix::MapperOptions& options, std::size_t workers)
    : workers_(workers, stix::MapOutcome::Mapped, [&options] { return std::make_unique<stix::StixMapper>(options); }) {}

// The engine counts received and sent events around process(), and
// dead_letter() counts the dead letters.
void StixFilter::process(const BatchPtr& batch, FilterContext& context) {
  auto& results = workers_.convert(*batch, [](stix::StixMapper& mapper, std::string_view json, std::string& out,
                                               std::string& reason) { return mapper.map(json, out, reason); });

  // Results are taken in input order, so bundles and dead letters keep it.
  Batch bundles;
  bundles.acks = batch->acks;
  bundles.events.reserve(results.size());
  std::uint64_t without_indicator = 0;
  std::uint64_t rejected = 0;
  std::string first_reason;
  for (std::size_t index = 0; index < results.size(); ++index) {
    auto& result = results[index];
    const Event& event = batch->events[index];
    switch (result.outcome) {
      case stix::MapOutcome::Mapped:
        bundles.events.push_back(Event{std::move(result.text), event.origin});
        break;
      case stix::MapOutcome::NoIndicator:
        ++without_indicator;
        break;
      case stix::MapOutcome::Invalid:
        context.dead_letter(event.json, event.origin, result.text);
        if (rejected++ == 0) {
          first_reason = result.text;
        }
        break;
    }
  }

  // One line per batch: the dead-letter file and the counters hold the detail.
  if (without_indicator > 0) {
    context.metrics().dropped_events.fetch_add(without_indicator, std::memory_order_relaxed);
    context.log().debug("Dropped records without an attacker IoC to share. count={}", without_indicator);
  }
  if (rejected > 0) {
    context.log().debug("Records that are not IDEA0 went to the dead-letter file. count={} error=\"{}\"", rejected,
                        first_reason);
  }
  if (!bundles.events.empty()) {
    context.emit(std::move(bundles));
  }
}

SLIPWAY_REGISTER_FILTER("stix",
                        "Maps IDEA0 records (from idea_normalize) to STIX 2.1 bundles: an indicator per attacker IoC, "
                        "the sensor's identity, optional sightings and observed-data, with ids derived from the alert",
                        StixFilter::kSchema, &StixFilter::create);

}  // namespace slipway::filters
