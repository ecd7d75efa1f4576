#include "filters/drop.hpp"

#include "engine/registry.hpp"
#include "filters/filter_support.hpp"

namespace slipway::filters {

const config::Schema DropConfig::kSchema{{
    config::Field{.name = "condition",
                  .type = config::FieldType::Object,
                  .doc = "Events matching this condition are discarded, e.g. {field: Category[0], equals: "
                         "Anomaly.Traffic}",
                  .required = true},
}};

std::optional<DropConfig> DropConfig::parse(const config::Section& settings, config::Errors& errors) {
  if (!settings.has("condition")) {
    return std::nullopt;  // the schema check reports the missing key
  }
  std::optional<Condition> condition = Condition::parse(settings.node()["condition"], "condition", settings, errors);
  if (!condition) {
    return std::nullopt;
  }
  return DropConfig{std::move(*condition)};
}

std::unique_ptr<Filter> DropFilter::create(const config::Section& settings, config::Errors& errors) {
  std::optional<DropConfig> config = DropConfig::parse(settings, errors);
  if (!config) {
    return nullptr;
  }
  return std::make_unique<DropFilter>(std::move(*config));
}

void DropFilter::process(const BatchPtr& batch, FilterContext& context) {
  std::optional<Batch> kept;
  std::uint64_t dropped = 0;
  for (std::size_t event_idx = 0; event_idx < batch->events.size(); ++event_idx) {
    const Event& event = batch->events[event_idx];
    const std::optional<json::Value> document = parse_event(event, context);
    const bool drop = document && config_.condition.matches(*document, counters_);
    if (document && !drop) {
      if (kept) {
        kept->events.push_back(event);
      }
      continue;
    }

    dropped += drop ? 1 : 0;
    if (!kept) {
      kept.emplace();
      kept->events.assign(batch->events.begin(), batch->events.begin() + static_cast<std::ptrdiff_t>(event_idx));
      kept->acks = batch->acks;
    }
  }

  if (!kept) {
    context.forward(batch);
    return;
  }
  context.metrics().dropped_events.fetch_add(dropped, std::memory_order_relaxed);
  context.log().debug("Dropped events matching the condition. dropped={} kept={}", dropped, kept->events.size());
  context.emit(std::move(*kept));
}

void DropFilter::finish(FilterContext& context) { log_match_counters(counters_, context); }

SLIPWAY_REGISTER_FILTER("drop", "Discards events that match a condition", DropConfig::kSchema, &DropFilter::create);

}  // namespace slipway::filters
