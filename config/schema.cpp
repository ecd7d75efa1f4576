#include "config/schema.hpp"

#include <algorithm>
#include <charconv>
#include <stdexcept>

#include <fmt/format.h>
#include <fmt/ranges.h>

namespace slipway::config {

namespace {

Location location_of(const YAML::Node& node, const std::string& file) {
  if (!node.IsDefined()) {
    return Location{file, 0, 0};
  }
  const YAML::Mark mark = node.Mark();
  if (mark.is_null()) {
    return Location{file, 0, 0};
  }
  return Location{file, mark.line + 1, mark.column + 1};
}

std::optional<std::int64_t> parse_integer(const std::string& text) {
  std::int64_t value = 0;
  const char* end = text.data() + text.size();
  const auto [stop, error] = std::from_chars(text.data(), end, value);
  if (error != std::errc() || stop != end || text.empty()) {
    return std::nullopt;
  }
  return value;
}

// YAML 1.1 also reads yes/no/on/off as booleans; only true and false are
// accepted here, so a typo such as `of` is an error instead of a guess.
std::optional<bool> parse_boolean(const std::string& text) {
  if (text == "true") {
    return true;
  }
  if (text == "false") {
    return false;
  }
  return std::nullopt;
}

std::string quoted_value(const Field& field, const std::string& text) {
  if (field.secret) {
    return "a value (not shown because it is secret)";
  }
  return fmt::format("\"{}\"", text);
}

std::string describe_node_kind(const YAML::Node& node) {
  switch (node.Type()) {
    case YAML::NodeType::Map:
      return "a mapping";
    case YAML::NodeType::Sequence:
      return "a list";
    case YAML::NodeType::Null:
      return "nothing";
    default:
      return "a scalar";
  }
}

// Edit distance where swapping two neighbouring characters counts as one
// edit, the most common typo ("fromat" for "format").
std::size_t edit_distance(std::string_view left, std::string_view right) {
  std::vector<std::vector<std::size_t>> distance(left.size() + 1, std::vector<std::size_t>(right.size() + 1));
  for (std::size_t row = 0; row <= left.size(); ++row) {
    distance[row][0] = row;
  }
  for (std::size_t column = 0; column <= right.size(); ++column) {
    distance[0][column] = column;
  }
  for (std::size_t row = 1; row <= left.size(); ++row) {
    for (std::size_t column = 1; column <= right.size(); ++column) {
      const std::size_t cost = left[row - 1] == right[column - 1] ? 0 : 1;
      distance[row][column] = std::min(
          {distance[row - 1][column] + 1, distance[row][column - 1] + 1, distance[row - 1][column - 1] + cost});
      if (row > 1 && column > 1 && left[row - 1] == right[column - 2] && left[row - 2] == right[column - 1]) {
        distance[row][column] = std::min(distance[row][column], distance[row - 2][column - 2] + 1);
      }
    }
  }
  return distance[left.size()][right.size()];
}

class Checker {
 public:
  Checker(const std::string& context, const std::string& file, Errors& errors)
      : context_(context), file_(file), errors_(errors) {}

  void check_mapping(const YAML::Node& node, const Schema& schema, const std::string& prefix,
                     const std::vector<std::string>& reserved_keys = {}) {
    if (!node.IsMap()) {
      errors_.add(location_of(node, file_),
                  fmt::format("{}: expected a mapping of settings, got {}", context_, describe_node_kind(node)));
      return;
    }

    std::vector<std::string> known = reserved_keys;
    for (const Field& field : schema.fields) {
      known.push_back(field.name);
    }
    for (const auto& entry : node) {
      const std::string key = entry.first.Scalar();
      const bool reserved = std::find(reserved_keys.begin(), reserved_keys.end(), key) != reserved_keys.end();
      if (schema.find(key) == nullptr && !reserved) {
        report_unknown_key(entry.first, prefix + key, key, known);
      }
    }

    for (const Field& field : schema.fields) {
      const YAML::Node value = node[field.name];
      const std::string path = prefix + field.name;
      if (!value.IsDefined() || value.IsNull()) {
        if (field.required) {
          errors_.add(location_of(node, file_),
                      fmt::format("{}: missing required key \"{}\" ({})", context_, path, field.doc));
        }
        continue;
      }
      check_value(value, field, path);
    }
  }

 private:
  void report_unknown_key(const YAML::Node& key_node, const std::string& path, const std::string& key,
                          const std::vector<std::string>& known) {
    std::string message = fmt::format("{}: unknown key \"{}\"", context_, path);
    if (const auto suggestion = closest_name(key, known)) {
      message += fmt::format("; did you mean \"{}\"?", *suggestion);
    } else {
      message += fmt::format("; known keys: {}", fmt::join(known, ", "));
    }
    errors_.add(location_of(key_node, file_), std::move(message));
  }

  void error_at(const YAML::Node& value, const std::string& path, const std::string& what) {
    errors_.add(location_of(value, file_), fmt::format("{}: key \"{}\": {}", context_, path, what));
  }

  void check_value(const YAML::Node& value, const Field& field, const std::string& path) {
    switch (field.type) {
      case FieldType::String:
        if (!value.IsScalar()) {
          error_at(value, path, fmt::format("expected a string, got {}", describe_node_kind(value)));
        }
        return;
      case FieldType::Integer:
        check_integer(value, field, path);
        return;
      case FieldType::Boolean:
        if (!value.IsScalar() || !parse_boolean(value.Scalar())) {
          error_at(value, path,
                   fmt::format("expected true or false, got {}",
                               value.IsScalar() ? quoted_value(field, value.Scalar()) : describe_node_kind(value)));
        }
        return;
      case FieldType::Enum:
        check_enum(value, field, path);
        return;
      case FieldType::StringList:
        check_string_list(value, path);
        return;
      case FieldType::Object:
        if (field.nested != nullptr) {
          check_mapping(value, *field.nested, path + ".");
        }
        return;
    }
  }

  void check_integer(const YAML::Node& value, const Field& field, const std::string& path) {
    std::optional<std::int64_t> number;
    if (value.IsScalar()) {
      number = parse_integer(value.Scalar());
    }
    std::string bounds;
    if (field.min && field.max) {
      bounds = fmt::format(" from {} to {}", *field.min, *field.max);
    } else if (field.min) {
      bounds = *field.min == 0 ? " of 0 or more" : fmt::format(" of at least {}", *field.min);
    } else if (field.max) {
      bounds = fmt::format(" of at most {}", *field.max);
    }
    const std::string got = value.IsScalar() ? quoted_value(field, value.Scalar()) : describe_node_kind(value);
    const std::int64_t parsed = number.value_or(0);
    const bool in_range = (!field.min || parsed >= *field.min) && (!field.max || parsed <= *field.max);
    if (!number.has_value() || !in_range) {
      error_at(value, path, fmt::format("expected an integer{}, got {}", bounds, got));
    }
  }

  void check_enum(const YAML::Node& value, const Field& field, const std::string& path) {
    const bool known = value.IsScalar() && std::find(field.choices.begin(), field.choices.end(), value.Scalar()) !=
                                               field.choices.end();
    if (known) {
      return;
    }
    std::string message = fmt::format(
        "invalid value {}; expected one of: {}",
        value.IsScalar() ? quoted_value(field, value.Scalar()) : describe_node_kind(value),
        fmt::join(field.choices, ", "));
    if (value.IsScalar()) {
      if (const auto suggestion = closest_name(value.Scalar(), field.choices)) {
        message += fmt::format(" (did you mean \"{}\"?)", *suggestion);
      }
    }
    error_at(value, path, message);
  }

  void check_string_list(const YAML::Node& value, const std::string& path) {
    if (value.IsScalar()) {
      return;
    }
    if (!value.IsSequence()) {
      error_at(value, path, fmt::format("expected a list of strings, got {}", describe_node_kind(value)));
      return;
    }
    for (const auto& item : value) {
      if (!item.IsScalar()) {
        error_at(item, path, fmt::format("expected a string in the list, got {}", describe_node_kind(item)));
      }
    }
  }

  const std::string& context_;
  const std::string& file_;
  Errors& errors_;
};

}  // namespace

const Field* Schema::find(std::string_view name) const {
  for (const Field& field : fields) {
    if (field.name == name) {
      return &field;
    }
  }
  return nullptr;
}

const char* field_type_name(FieldType type) {
  switch (type) {
    case FieldType::String:
      return "string";
    case FieldType::Integer:
      return "integer";
    case FieldType::Boolean:
      return "boolean";
    case FieldType::Enum:
      return "enum";
    case FieldType::StringList:
      return "list of strings";
    case FieldType::Object:
      return "object";
  }
  return "value";
}

std::optional<std::string> closest_name(std::string_view name, const std::vector<std::string>& known) {
  std::optional<std::string> best;
  std::size_t best_distance = 0;
  for (const std::string& candidate : known) {
    const std::size_t distance = edit_distance(name, candidate);
    if (!best || distance < best_distance) {
      best = candidate;
      best_distance = distance;
    }
  }
  // Allow about one typo per three characters, so "sorce" finds "source"
  // but an unrelated word gets the list of known keys instead.
  const std::size_t allowed = std::max<std::size_t>(2, name.size() / 3);
  if (best && best_distance <= allowed) {
    return best;
  }

  // Otherwise a known name that starts the given one, or the reverse, is
  // the likely intent ("warning" for "warn") even when many characters differ.
  constexpr std::size_t kMinPrefixLength = 3;
  for (const std::string& candidate : known) {
    const std::size_t shorter = std::min(candidate.size(), name.size());
    if (shorter >= kMinPrefixLength && candidate != name && candidate.compare(0, shorter, name.substr(0, shorter)) == 0) {
      return candidate;
    }
  }

  return std::nullopt;
}

void check_against_schema(const YAML::Node& node, const Schema& schema, const std::string& context,
                          const std::string& file, const std::string& key_prefix, Errors& errors,
                          const std::vector<std::string>& reserved_keys) {
  Checker(context, file, errors).check_mapping(node, schema, key_prefix, reserved_keys);
}

const Field& Section::field(std::string_view key) const {
  const Field* found = schema_ != nullptr ? schema_->find(key) : nullptr;
  if (found == nullptr) {
    throw std::logic_error(fmt::format("configuration key \"{}\" is not declared in the schema", key));
  }
  return *found;
}

bool Section::has(std::string_view key) const {
  if (!node_.IsMap()) {
    return false;
  }
  const YAML::Node value = node_[std::string(key)];
  return value.IsDefined() && !value.IsNull();
}

std::string Section::string(std::string_view key) const {
  const Field& declared = field(key);
  return has(key) ? node_[std::string(key)].Scalar() : declared.default_text;
}

std::int64_t Section::integer(std::string_view key) const {
  const Field& declared = field(key);
  const std::string text = has(key) ? node_[std::string(key)].Scalar() : declared.default_text;
  return parse_integer(text).value_or(0);
}

bool Section::boolean(std::string_view key) const {
  const Field& declared = field(key);
  const std::string text = has(key) ? node_[std::string(key)].Scalar() : declared.default_text;
  return parse_boolean(text).value_or(false);
}

std::vector<std::string> Section::strings(std::string_view key) const {
  const Field& declared = field(key);
  std::vector<std::string> values;
  if (!has(key)) {
    if (!declared.default_text.empty()) {
      values.push_back(declared.default_text);
    }
    return values;
  }
  const YAML::Node value = node_[std::string(key)];
  if (value.IsScalar()) {
    values.push_back(value.Scalar());
    return values;
  }
  for (const auto& item : value) {
    values.push_back(item.Scalar());
  }
  return values;
}

Section Section::object(std::string_view key) const {
  const Field& declared = field(key);
  YAML::Node value = has(key) ? node_[std::string(key)] : YAML::Node(YAML::NodeType::Map);
  return Section(value, declared.nested, context_, file_);
}

Location Section::location(std::string_view key) const {
  if (has(key)) {
    return location_of(node_[std::string(key)], file_);
  }
  return location_of(node_, file_);
}

}  // namespace slipway::config
