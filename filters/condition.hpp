// Conditions on event fields, shared by route, drop and other filters:
//
//   {field: Status, equals: Incident}
//   {field: "Source[0].IP4[0]", prefix: "192.168."}
//   {all: [COND, ...]}   {any: [COND, ...]}   {not: COND}
//
// In YAML's {...} and [...] forms a path with brackets must be quoted.
// Operators: equals, in (list), contains (substring of a string or element
// of an array), prefix, regex (RE2, matches anywhere in the string unless
// anchored with ^ and $), exists (true or false), gt and lt (numbers).
// A condition is checked completely when the configuration loads. At run
// time a missing field or a value of the wrong type is no match and is
// counted, so evaluation never throws.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <yaml-cpp/yaml.h>

#include "config/errors.hpp"
#include "config/schema.hpp"
#include "engine/json.hpp"

namespace slipway::filters {

// Outcomes that made a test fail for a reason other than a differing value.
// Relaxed atomics, so a metrics reader on another thread may read them.
struct MatchCounters {
  std::atomic<std::uint64_t> missing_fields{0};   // the path named nothing in the event
  std::atomic<std::uint64_t> type_mismatches{0};  // e.g. prefix on a number, gt on a string
};

class Condition {
 public:
  Condition(Condition&&) noexcept;
  Condition& operator=(Condition&&) noexcept;
  ~Condition();

  // Reads the condition at `node`, which sits at key `key_path` of the
  // component's settings (e.g. "routes.incidents"), for error messages.
  // Adds every problem found to `errors`; returns nullopt when there is any.
  static std::optional<Condition> parse(const YAML::Node& node, const std::string& key_path,
                                        const config::Section& settings, config::Errors& errors);

  // True when `event` satisfies the condition. `all` and `any` stop at the
  // first condition that decides the result, so later ones are not counted.
  bool matches(const json::Value& event, MatchCounters& counters) const;

  // Appends the top-level member names the condition reads, e.g. "Source"
  // for a test on `Source[0].IP4[0]`.
  void add_top_level_names(std::vector<std::string>& names) const;

  struct Node;

 private:
  explicit Condition(std::unique_ptr<Node> root);

  std::unique_ptr<Node> root_;
};

// The operator names, in the order messages list them.
const std::vector<std::string>& condition_operator_names();

}  // namespace slipway::filters
