// Steps the filters in this directory share: parsing an event once and
// sending a record that is not JSON to the dead-letter file.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "config/errors.hpp"
#include "config/schema.hpp"
#include "engine/component.hpp"
#include "engine/json.hpp"
#include "filters/condition.hpp"
#include "filters/event_members.hpp"
#include "filters/field_path.hpp"

namespace slipway::filters {

// Parses `event`; when it is not valid JSON, dead-letters it with the
// parser's reason and returns nullopt. Inputs only emit valid objects, so
// this happens only when a filter upstream produced broken text.
std::optional<json::Value> parse_event(const Event& event, FilterContext& context);

// Parses only the top-level members a filter reads, e.g. `Status` and
// `Source` for a condition on `Source[0].IP4[0]`: the other members of an
// alert are skipped, not decoded, which costs a fraction of a full parse.
// The result is an object with those members only, so conditions and field
// paths evaluate on it exactly as on the whole event.
class MemberSubsetParser {
 public:
  explicit MemberSubsetParser(std::vector<std::string> names);

  // Like parse_event(), including the dead letter for text that is not JSON.
  std::optional<json::Value> parse(const Event& event, FilterContext& context);

 private:
  std::vector<std::string> names_;
  std::vector<std::string_view> name_views_;
  std::vector<flow::MemberValue> found_;
};

// True when `text` follows JSON's number grammar. YAML also reads forms
// such as 0x1F, .5 or 1_000 as numbers; configuration values in those forms
// are kept as strings, so they compare like the number text in events.
bool is_json_number(std::string_view text);

// Joins the values at `paths` into one key, or returns nullopt when the
// event has none of them. Two events get the same key exactly when each
// path names equal values (strings by text, numbers by their text) or is
// missing in both.
std::optional<std::string> compose_key(const std::vector<FieldPath>& paths, const json::Value& document);

// A location for a problem found at `node` of the component's settings.
config::Location location_of(const YAML::Node& node, const config::Section& settings);

// Logs the run-time condition misses once, when the filter finishes.
void log_match_counters(const MatchCounters& counters, FilterContext& context);

}  // namespace slipway::filters
