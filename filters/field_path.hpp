// Field paths such as `Source[0].IP4[0]`, `Category[0]` or `Status`: member
// names joined by dots, each optionally followed by array indexes. A path
// is parsed once when the configuration loads and then walked per event
// without further parsing.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "engine/json.hpp"

namespace slipway::filters {

class FieldPath {
 public:
  struct Step {
    std::string name;        // member name, for a name step
    std::size_t index = 0;   // array index, for an index step
    bool is_index = false;
  };

  // Parses `text`. On failure returns nullopt and sets `error` to the
  // reason, e.g. "index \"x\" is not a non-negative integer".
  static std::optional<FieldPath> parse(std::string_view text, std::string& error);

  // Returns the value the path names, or nullptr when a step is missing or
  // meets a value of the wrong type.
  const json::Value* find(const json::Value& root) const;

  // Stores `value` at the path. Missing members on the way are created as
  // empty objects; an index must name an existing element. Returns false,
  // changing nothing, when a step meets a value that is not an object
  // (for a name) or not a long enough array (for an index).
  bool assign(json::Value& root, json::Value value) const;

  // Removes the member the path names; returns false when it is absent.
  // Requires ends_with_name().
  bool erase(json::Value& root) const;

  // True when the last step is a member name, as erase() requires.
  bool ends_with_name() const { return !steps_.back().is_index; }
  const std::string& text() const { return text_; }
  const std::vector<Step>& steps() const { return steps_; }

 private:
  FieldPath() = default;

  std::string text_;
  std::vector<Step> steps_;  // never empty
};

}  // namespace slipway::filters
