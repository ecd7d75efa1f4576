#include <algorithm>
#include <charconv>
#include <cstdlib>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "filters/condition_node.hpp"
#include "filters/filter_support.hpp"

namespace slipway::filters::condition_detail {

namespace {

using Node = Condition::Node;

std::string describe_kind(const YAML::Node& node) {
  switch (node.Type()) {
    case YAML::NodeType::Map:
      return "a mapping";
    case YAML::NodeType::Sequence:
      return "a list";
    case YAML::NodeType::Null:
      return "nothing";
    default:
      return fmt::format("\"{}\"", node.Scalar());
  }
}

// Reads one condition tree, reporting problems as `CONTEXT: key "PATH": ...`
// at the position of the offending YAML node.
class ConditionParser {
 public:
  ConditionParser(const config::Section& settings, config::Errors& errors) : settings_(settings), errors_(errors) {}

  std::optional<Node> parse(const YAML::Node& yaml, const std::string& key_path) {
    if (!yaml.IsMap() || yaml.size() == 0) {
      error(yaml, key_path,
            fmt::format("expected a condition such as {{field: Status, equals: Incident}}, got {}",
                        yaml.IsMap() ? "an empty mapping" : describe_kind(yaml)));
      return std::nullopt;
    }
    for (const std::string_view combinator : kCombinators) {
      if (yaml[std::string(combinator)]) {
        return parse_combinator(yaml, key_path, std::string(combinator));
      }
    }
    return parse_leaf(yaml, key_path);
  }

 private:
  void error(const YAML::Node& at, const std::string& key_path, const std::string& what) {
    errors_.add(location_of(at, settings_), fmt::format("{}: key \"{}\": {}", settings_.context(), key_path, what));
  }

  std::optional<Node> parse_combinator(const YAML::Node& yaml, const std::string& key_path, const std::string& name) {
    if (yaml.size() != 1) {
      std::vector<std::string> keys;
      for (const auto& entry : yaml) {
        keys.push_back(fmt::format("\"{}\"", entry.first.Scalar()));
      }
      error(yaml, key_path,
            fmt::format("\"{}\" must be the only key of its condition, got {}; put the other tests inside it",
                        name, fmt::join(keys, ", ")));
      return std::nullopt;
    }
    const YAML::Node operand = yaml[name];
    const std::string operand_path = key_path + "." + name;
    Node node;
    if (name == "not") {
      node.kind = Node::Kind::Not;
      std::optional<Node> child = parse(operand, operand_path);
      if (!child) {
        return std::nullopt;
      }
      node.children.push_back(std::move(*child));
      return node;
    }

    node.kind = name == "all" ? Node::Kind::All : Node::Kind::Any;
    if (!operand.IsSequence() || operand.size() == 0) {
      error(operand, operand_path,
            fmt::format("expected a non-empty list of conditions, got {}",
                        operand.IsSequence() ? "an empty list" : describe_kind(operand)));
      return std::nullopt;
    }
    bool valid = true;
    for (std::size_t child_idx = 0; child_idx < operand.size(); ++child_idx) {
      std::optional<Node> child = parse(operand[child_idx], fmt::format("{}[{}]", operand_path, child_idx));
      if (child) {
        node.children.push_back(std::move(*child));
      }
      valid = valid && child.has_value();
    }
    return valid ? std::optional<Node>(std::move(node)) : std::nullopt;
  }

  std::optional<Node> parse_leaf(const YAML::Node& yaml, const std::string& key_path) {
    Node node;
    bool valid = true;
    std::vector<std::string> operators;
    for (const auto& entry : yaml) {
      const std::string key = entry.first.Scalar();
      if (key == "field") {
        continue;
      }
      const auto known = std::find_if(std::begin(kOperators), std::end(kOperators),
                                      [&](const OperatorName& candidate) { return candidate.name == key; });
      if (known == std::end(kOperators)) {
        report_unknown_operator(entry.first, key_path + "." + key, key);
        valid = false;
        continue;
      }
      operators.push_back(key);
      node.op = known->op;
    }

    const YAML::Node field = yaml["field"];
    if (!field) {
      error(yaml, key_path, "missing key \"field\" (the path of the value to test, e.g. Source[0].IP4[0])");
      return std::nullopt;
    }
    if (!field.IsScalar()) {
      error(field, key_path + ".field", fmt::format("expected a field path, got {}", describe_kind(field)));
      return std::nullopt;
    }
    std::string path_error;
    node.path = FieldPath::parse(field.Scalar(), path_error);
    if (!node.path) {
      error(field, key_path + ".field", fmt::format("invalid field path \"{}\": {}", field.Scalar(), path_error));
      return std::nullopt;
    }

    if (operators.size() > 1) {
      error(yaml, key_path,
            fmt::format("the condition on \"{}\" has {} operators ({}); use one per condition and combine "
                        "conditions with all or any",
                        field.Scalar(), operators.size(), fmt::join(operators, ", ")));
      return std::nullopt;
    }
    if (operators.empty()) {
      if (valid) {
        error(yaml, key_path,
              fmt::format("the condition on \"{}\" has no operator; add one of: {}", field.Scalar(),
                          fmt::join(condition_operator_names(), ", ")));
      }
      return std::nullopt;
    }
    if (!valid || !parse_operand(node, yaml[operators.front()], key_path + "." + operators.front())) {
      return std::nullopt;
    }
    return node;
  }

  void report_unknown_operator(const YAML::Node& key_node, const std::string& key_path, const std::string& key) {
    std::vector<std::string> known = condition_operator_names();
    known.insert(known.begin(), "field");
    known.insert(known.end(), std::begin(kCombinators), std::end(kCombinators));
    std::string message = fmt::format("unknown operator \"{}\"", key);
    if (const auto suggestion = config::closest_name(key, known)) {
      message += fmt::format("; did you mean \"{}\"?", *suggestion);
    } else {
      message += fmt::format("; known operators: {}", fmt::join(condition_operator_names(), ", "));
    }
    error(key_node, key_path, message);
  }

  bool parse_operand(Node& node, const YAML::Node& operand, const std::string& key_path) {
    switch (node.op) {
      case Operator::Equals:
      case Operator::Contains:
      case Operator::Prefix:
        return parse_scalar(node, operand, key_path);
      case Operator::In:
        return parse_list(node, operand, key_path);
      case Operator::Regex:
        return parse_regex(node, operand, key_path);
      case Operator::Exists:
        if (!operand.IsScalar() || (operand.Scalar() != "true" && operand.Scalar() != "false")) {
          error(operand, key_path, fmt::format("expected true or false, got {}", describe_kind(operand)));
          return false;
        }
        node.exists = operand.Scalar() == "true";
        return true;
      case Operator::GreaterThan:
      case Operator::LessThan:
        if (!operand.IsScalar() || operand.Tag() == "!" || !is_json_number(operand.Scalar())) {
          error(operand, key_path, fmt::format("expected a number, got {}", describe_kind(operand)));
          return false;
        }
        node.literals.push_back(literal_from(operand));
        return true;
    }
    return false;
  }

  bool parse_scalar(Node& node, const YAML::Node& operand, const std::string& key_path) {
    if (!operand.IsScalar() && !operand.IsNull()) {
      std::string hint;
      if (operand.IsSequence() && node.op == Operator::Equals) {
        hint = "; use \"in\" to match any of several values";
      }
      error(operand, key_path,
            fmt::format("expected a string, number, boolean or null, got {}{}", describe_kind(operand), hint));
      return false;
    }
    node.literals.push_back(literal_from(operand));
    return true;
  }

  bool parse_list(Node& node, const YAML::Node& operand, const std::string& key_path) {
    if (!operand.IsSequence() || operand.size() == 0) {
      error(operand, key_path,
            fmt::format("expected a non-empty list of values, got {}",
                        operand.IsSequence() ? "an empty list" : describe_kind(operand)));
      return false;
    }
    bool valid = true;
    for (std::size_t item_idx = 0; item_idx < operand.size(); ++item_idx) {
      const YAML::Node item = operand[item_idx];
      if (!item.IsScalar() && !item.IsNull()) {
        error(item, fmt::format("{}[{}]", key_path, item_idx),
              fmt::format("expected a string, number, boolean or null, got {}", describe_kind(item)));
        valid = false;
        continue;
      }
      node.literals.push_back(literal_from(item));
    }
    return valid;
  }

  bool parse_regex(Node& node, const YAML::Node& operand, const std::string& key_path) {
    if (!operand.IsScalar()) {
      error(operand, key_path, fmt::format("expected a regular expression, got {}", describe_kind(operand)));
      return false;
    }
    RE2::Options options;
    options.set_log_errors(false);
    node.regex = std::make_unique<RE2>(operand.Scalar(), options);
    if (!node.regex->ok()) {
      error(operand, key_path,
            fmt::format("invalid regular expression \"{}\": {}", operand.Scalar(), node.regex->error()));
      return false;
    }
    return true;
  }

  const config::Section& settings_;
  config::Errors& errors_;
};

}  // namespace

Literal literal_from(const YAML::Node& scalar) {
  Literal literal;
  if (scalar.IsNull()) {
    literal.text = "null";
    literal.is_null = true;
    return literal;
  }
  literal.text = scalar.Scalar();
  // yaml-cpp tags a plain scalar "?" and a quoted one "!".
  literal.quoted = scalar.Tag() == "!";
  if (literal.quoted) {
    return literal;
  }
  if (is_json_number(literal.text)) {
    std::int64_t integer = 0;
    const char* end = literal.text.data() + literal.text.size();
    const auto [stop, error] = std::from_chars(literal.text.data(), end, integer);
    if (error == std::errc() && stop == end) {
      literal.integer = integer;
    }
    literal.number = std::strtod(literal.text.c_str(), nullptr);
  } else if (literal.text == "true" || literal.text == "false") {
    literal.boolean = literal.text == "true";
  } else if (literal.text == "null" || literal.text == "~" || literal.text.empty()) {
    literal.is_null = true;
  }
  return literal;
}

std::optional<Condition::Node> parse_tree(const YAML::Node& node, const std::string& key_path,
                                          const config::Section& settings, config::Errors& errors) {
  return ConditionParser(settings, errors).parse(node, key_path);
}

}  // namespace slipway::filters::condition_detail
