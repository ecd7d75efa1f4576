// The `modify` filter: changes fields of every event, in this fixed order:
//   1. rename: {OLD_PATH: NEW_PATH}  moves a value
//   2. copy:   {FROM_PATH: TO_PATH}  copies a value
//   3. set:    {PATH: VALUE}         writes a constant or a template
//   4. remove: [PATH, ...]           deletes members
// so later steps see the names earlier ones gave, and a value can be
// copied out of a member that `remove` then deletes. Paths may be nested;
// missing objects on the way to a target are created. An event that no
// step changes is passed on byte for byte. When the only change is new
// top-level members, they are appended to the original text; any other
// change rewrites the event as compact JSON. Templates read `now` once per
// batch, so the events of one batch get the same time.
#pragma once

#include <memory>
#include <optional>
#include <vector>

#include "config/errors.hpp"
#include "config/schema.hpp"
#include "engine/component.hpp"
#include "filters/clock.hpp"
#include "filters/condition.hpp"
#include "filters/field_path.hpp"
#include "filters/field_template.hpp"
#include "filters/filter_support.hpp"

namespace slipway::filters {

struct FieldMove {
  FieldPath from;
  FieldPath to;
};

struct FieldAssignment {
  FieldPath target;
  std::optional<json::Value> constant;  // a number, boolean, null or string without placeholders
  std::optional<FieldTemplate> value_template;
};

struct ModifyConfig {
  std::vector<FieldMove> rename;
  std::vector<FieldMove> copy;
  std::vector<FieldAssignment> set;
  std::vector<FieldPath> remove;

  static const config::Schema kSchema;
  // Returns nullopt after adding the problems to `errors`.
  static std::optional<ModifyConfig> parse(const config::Section& settings, config::Errors& errors);
};

class ModifyFilter final : public Filter {
 public:
  explicit ModifyFilter(ModifyConfig config, std::shared_ptr<Clock> clock = system_clock());

  static std::unique_ptr<Filter> create(const config::Section& settings, config::Errors& errors);

  void process(const BatchPtr& batch, FilterContext& context) override;
  void finish(FilterContext& context) override;

  // Sources or template fields that were missing, and values that could
  // not be written or read as times; the step was skipped for that event.
  const MatchCounters& counters() const { return counters_; }

 private:
  // Applies every step; returns true when the document changed.
  bool apply(json::Value& document, std::int64_t now_micros);
  // Appends the `set` members to the event's own text, when that gives the
  // same result as apply(): see appends_only_. Returns false, writing
  // nothing, when the event has a member of that name already.
  bool append_members(const Event& event, const json::Value& document, std::int64_t now_micros,
                      std::string& out);

  ModifyConfig config_;
  // True when the settings only add top-level members that no template
  // reads. Appending them to the text then gives the same members as
  // rewriting the document, without serializing it again.
  bool appends_only_ = false;
  // With appends_only_: reads only the members that `set` adds or its
  // templates read, instead of the whole event.
  std::optional<MemberSubsetParser> append_parser_;
  std::shared_ptr<Clock> clock_;
  MatchCounters counters_;
};

}  // namespace slipway::filters
