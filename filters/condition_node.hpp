// The parsed form of a condition, shared by the parser
// (condition_parser.cpp) and the evaluator (condition.cpp). Private to
// the condition code: other components include condition.hpp.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <re2/re2.h>
#include <yaml-cpp/yaml.h>

#include "config/errors.hpp"
#include "config/schema.hpp"
#include "filters/condition.hpp"
#include "filters/field_path.hpp"

namespace slipway::filters::condition_detail {

enum class Operator { Equals, In, Contains, Prefix, Regex, Exists, GreaterThan, LessThan };

struct OperatorName {
  std::string_view name;
  Operator op;
};

inline constexpr OperatorName kOperators[] = {
    {"equals", Operator::Equals}, {"in", Operator::In},         {"contains", Operator::Contains},
    {"prefix", Operator::Prefix}, {"regex", Operator::Regex},   {"exists", Operator::Exists},
    {"gt", Operator::GreaterThan}, {"lt", Operator::LessThan},
};

inline constexpr std::string_view kCombinators[] = {"all", "any", "not"};

// A YAML scalar to compare event values with. A plain scalar compares with
// a string by its text and with a number, boolean or null by what it reads
// as, so `equals: 1` matches both 1 and "1". A quoted scalar matches
// strings only, so `equals: "1"` does not match the number 1.
struct Literal {
  std::string text;
  bool quoted = false;
  std::optional<std::int64_t> integer;
  std::optional<double> number;
  std::optional<bool> boolean;
  bool is_null = false;
};

// Reads a YAML scalar, or null, as a Literal.
Literal literal_from(const YAML::Node& scalar);

}  // namespace slipway::filters::condition_detail

namespace slipway::filters {

struct Condition::Node {
  enum class Kind { All, Any, Not, Leaf };

  Kind kind = Kind::Leaf;
  std::vector<Node> children;  // All, Any; Not has exactly one

  std::optional<FieldPath> path;  // Leaf
  condition_detail::Operator op = condition_detail::Operator::Equals;
  std::vector<condition_detail::Literal> literals;  // one, or the list of `in`
  std::unique_ptr<RE2> regex;
  bool exists = true;
};

namespace condition_detail {

// Reads the condition at `node` (key `key_path` of `settings`), adding
// every problem to `errors`; nullopt when there is any.
std::optional<Condition::Node> parse_tree(const YAML::Node& node, const std::string& key_path,
                                          const config::Section& settings, config::Errors& errors);

}  // namespace condition_detail

}  // namespace slipway::filters
