// Independent checks of STIX 2.1 objects for tests: the required
// properties of each object type slipway produces, the id and timestamp
// forms, and the STIX patterning grammar. They share no code with the
// `stix` filter, so a bug in one is not repeated in the other.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "engine/json.hpp"

namespace slipway::testing {

// One comparison found in a pattern, with its string literal unescaped.
struct PatternComparison {
  std::string object_path;  // e.g. "ipv4-addr:value"
  std::string op;           // e.g. "=", "ISSUBSET", "NOT ="
  std::string value;
};

struct PatternCheck {
  std::optional<std::string> error;  // where and why the pattern breaks the grammar
  std::vector<PatternComparison> comparisons;
};

// Parses a STIX pattern: observation expressions in brackets joined by
// AND, OR or FOLLOWEDBY, comparisons joined by AND or OR, object paths,
// comparison operators and literals (strings, numbers, booleans,
// timestamps t'...', hex h'...' and binary b'...').
PatternCheck check_pattern(std::string_view pattern);

// The problems of one STIX object: missing required properties, wrong id
// or timestamp forms, out-of-range numbers, references to the wrong types
// and, for indicators, pattern errors. Empty when the object is valid.
// Timestamps must carry exactly `fraction_digits` digits after the second.
std::vector<std::string> check_stix_object(const json::Value& object, std::size_t fraction_digits = 3);

}  // namespace slipway::testing
