#include "filters/condition.hpp"

#include <algorithm>
#include <string_view>

#include "filters/condition_node.hpp"

namespace slipway::filters {

namespace {

using condition_detail::Literal;
using condition_detail::Operator;
using Node = Condition::Node;

// Compares two numbers exactly when both are integers, as doubles otherwise.
int compare_numbers(const json::Value& value, const std::optional<std::int64_t>& integer, double number) {
  if (integer) {
    if (const auto value_integer = value.as_int()) {
      return *value_integer < *integer ? -1 : (*value_integer > *integer ? 1 : 0);
    }
  }
  const double value_number = value.as_double().value_or(0.0);
  return value_number < number ? -1 : (value_number > number ? 1 : 0);
}

bool literal_equals(const Literal& literal, const json::Value& value) {
  switch (value.type()) {
    case json::Type::String:
      return value.as_string() == literal.text;
    case json::Type::Number:
      return literal.number && compare_numbers(value, literal.integer, *literal.number) == 0;
    case json::Type::Bool:
      return literal.boolean && *literal.boolean == value.as_bool();
    case json::Type::Null:
      return literal.is_null;
    case json::Type::Array:
    case json::Type::Object:
      return false;
  }
  return false;
}

void count(std::atomic<std::uint64_t>& counter) { counter.fetch_add(1, std::memory_order_relaxed); }

bool leaf_matches(const Node& leaf, const json::Value& event, MatchCounters& counters) {
  const json::Value* value = leaf.path->find(event);
  if (leaf.op == Operator::Exists) {
    return (value != nullptr) == leaf.exists;
  }
  if (value == nullptr) {
    count(counters.missing_fields);
    return false;
  }

  switch (leaf.op) {
    case Operator::Equals:
    case Operator::In:
      if (value->is_array() || value->is_object()) {
        break;
      }
      return std::any_of(leaf.literals.begin(), leaf.literals.end(),
                         [&](const Literal& literal) { return literal_equals(literal, *value); });
    case Operator::Contains:
      if (value->is_string()) {
        return value->as_string().find(leaf.literals.front().text) != std::string::npos;
      }
      if (value->is_array()) {
        return std::any_of(value->items().begin(), value->items().end(),
                           [&](const json::Value& item) { return literal_equals(leaf.literals.front(), item); });
      }
      break;
    case Operator::Prefix:
      if (value->is_string()) {
        return std::string_view(value->as_string()).starts_with(leaf.literals.front().text);
      }
      break;
    case Operator::Regex:
      if (value->is_string()) {
        return RE2::PartialMatch(value->as_string(), *leaf.regex);
      }
      break;
    case Operator::GreaterThan:
    case Operator::LessThan:
      if (value->is_number()) {
        const Literal& bound = leaf.literals.front();
        const int order = compare_numbers(*value, bound.integer, *bound.number);
        return leaf.op == Operator::GreaterThan ? order > 0 : order < 0;
      }
      break;
    case Operator::Exists:
      break;
  }
  count(counters.type_mismatches);
  return false;
}

bool node_matches(const Node& node, const json::Value& event, MatchCounters& counters) {
  switch (node.kind) {
    case Node::Kind::All:
      return std::all_of(node.children.begin(), node.children.end(),
                         [&](const Node& child) { return node_matches(child, event, counters); });
    case Node::Kind::Any:
      return std::any_of(node.children.begin(), node.children.end(),
                         [&](const Node& child) { return node_matches(child, event, counters); });
    case Node::Kind::Not:
      return !node_matches(node.children.front(), event, counters);
    case Node::Kind::Leaf:
      return leaf_matches(node, event, counters);
  }
  return false;
}

}  // namespace

Condition::Condition(std::unique_ptr<Node> root) : root_(std::move(root)) {}
Condition::Condition(Condition&&) noexcept = default;
Condition& Condition::operator=(Condition&&) noexcept = default;
Condition::~Condition() = default;

std::optional<Condition> Condition::parse(const YAML::Node& node, const std::string& key_path,
                                          const config::Section& settings, config::Errors& errors) {
  std::optional<Node> root = condition_detail::parse_tree(node, key_path, settings, errors);
  if (!root) {
    return std::nullopt;
  }
  return Condition(std::make_unique<Node>(std::move(*root)));
}

bool Condition::matches(const json::Value& event, MatchCounters& counters) const {
  return node_matches(*root_, event, counters);
}

void Condition::add_top_level_names(std::vector<std::string>& names) const {
  std::vector<const Node*> pending = {root_.get()};
  while (!pending.empty()) {
    const Node* node = pending.back();
    pending.pop_back();
    for (const Node& child : node->children) {
      pending.push_back(&child);
    }
    if (node->path && !node->path->steps().empty()) {
      names.push_back(node->path->steps().front().name);
    }
  }
}

const std::vector<std::string>& condition_operator_names() {
  static const std::vector<std::string> names = [] {
    std::vector<std::string> list;
    for (const condition_detail::OperatorName& entry : condition_detail::kOperators) {
      list.emplace_back(entry.name);
    }
    return list;
  }();
  return names;
}

}  // namespace slipway::filters
