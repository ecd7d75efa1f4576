#include "filters/field_path.hpp"

#include <algorithm>
#include <charconv>

#include <fmt/format.h>

namespace slipway::filters {

namespace {

// Appends the index step that starts at `text[pos]` (an opening bracket);
// returns the position after its closing bracket, or npos after setting `error`.
std::size_t parse_index(std::string_view text, std::size_t pos, std::vector<FieldPath::Step>& steps,
                        std::string& error) {
  const std::size_t close = text.find(']', pos);
  if (close == std::string_view::npos) {
    error = "missing \"]\" after \"[\"";
    return std::string_view::npos;
  }
  const std::string_view digits = text.substr(pos + 1, close - pos - 1);
  std::size_t index = 0;
  const auto [stop, parse_error] = std::from_chars(digits.data(), digits.data() + digits.size(), index);
  if (digits.empty() || parse_error != std::errc() || stop != digits.data() + digits.size()) {
    error = fmt::format("index \"{}\" is not a non-negative integer", digits);
    return std::string_view::npos;
  }
  steps.push_back(FieldPath::Step{.index = index, .is_index = true});
  return close + 1;
}

}  // namespace

std::optional<FieldPath> FieldPath::parse(std::string_view text, std::string& error) {
  FieldPath path;
  path.text_ = std::string(text);
  if (text.empty()) {
    error = "the path is empty";
    return std::nullopt;
  }

  std::size_t pos = 0;
  bool expect_name = true;
  while (pos < text.size()) {
    const char current = text[pos];
    if (current == '[') {
      if (path.steps_.empty()) {
        error = "a path starts with a member name, as events are objects";
        return std::nullopt;
      }
      pos = parse_index(text, pos, path.steps_, error);
      if (pos == std::string_view::npos) {
        return std::nullopt;
      }
      expect_name = false;
      continue;
    }
    if (current == '.') {
      if (expect_name) {
        error = "a member name is missing before \".\"";
        return std::nullopt;
      }
      expect_name = true;
      ++pos;
      continue;
    }
    if (current == ']') {
      error = "unexpected \"]\"";
      return std::nullopt;
    }
    if (!expect_name) {
      error = fmt::format("expected \".\" or \"[\" before \"{}\"", text.substr(pos));
      return std::nullopt;
    }
    const std::size_t name_end = std::min(text.find_first_of(".[]", pos), text.size());
    path.steps_.push_back(Step{.name = std::string(text.substr(pos, name_end - pos))});
    pos = name_end;
    expect_name = false;
  }
  if (expect_name) {
    error = "the path ends with \".\"";
    return std::nullopt;
  }
  return path;
}

const json::Value* FieldPath::find(const json::Value& root) const {
  const json::Value* current = &root;
  for (const Step& step : steps_) {
    if (step.is_index) {
      if (!current->is_array() || step.index >= current->items().size()) {
        return nullptr;
      }
      current = &current->items()[step.index];
    } else {
      current = current->find(step.name);
      if (current == nullptr) {
        return nullptr;
      }
    }
  }
  return current;
}

bool FieldPath::assign(json::Value& root, json::Value value) const {
  json::Value* current = &root;
  for (std::size_t step_idx = 0; step_idx < steps_.size(); ++step_idx) {
    const Step& step = steps_[step_idx];
    if (step.is_index) {
      if (!current->is_array() || step.index >= current->items().size()) {
        return false;
      }
      current = &current->items()[step.index];
      continue;
    }
    if (!current->is_object()) {
      return false;
    }
    json::Value* member = current->find(step.name);
    if (member == nullptr) {
      // A created member is an empty object, where a later index step would
      // fail after the event had already changed.
      const bool index_follows = std::any_of(steps_.begin() + static_cast<std::ptrdiff_t>(step_idx) + 1,
                                             steps_.end(), [](const Step& later) { return later.is_index; });
      if (index_follows) {
        return false;
      }
      member = &current->set(step.name, json::Value::object());
    }
    current = member;
  }
  *current = std::move(value);
  return true;
}

bool FieldPath::erase(json::Value& root) const {
  json::Value* parent = &root;
  for (std::size_t step_idx = 0; step_idx + 1 < steps_.size(); ++step_idx) {
    const Step& step = steps_[step_idx];
    if (step.is_index) {
      if (!parent->is_array() || step.index >= parent->items().size()) {
        return false;
      }
      parent = &parent->items()[step.index];
    } else {
      parent = parent->find(step.name);
      if (parent == nullptr) {
        return false;
      }
    }
  }
  return parent->erase(steps_.back().name);
}

}  // namespace slipway::filters
