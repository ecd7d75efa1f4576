// Typed configuration schemas. Each component declares its keys once, with
// type, default and a one-line description; the same table drives
// validation (unknown keys, wrong types, ranges, choices), the typed
// accessors components read their settings through, and `slipway describe`.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <yaml-cpp/yaml.h>

#include "config/errors.hpp"

namespace slipway::config {

enum class FieldType {
  String,
  Integer,
  Boolean,
  Enum,        // a string from `choices`
  StringList,  // a list of strings; a single string is accepted as a list of one
  Object,      // a nested mapping checked against `nested`
};

struct Schema;

struct Field {
  std::string name;
  FieldType type = FieldType::String;
  std::string doc;               // one line for `slipway describe` and the docs
  std::string default_text;      // default as the user would write it; empty when none
  bool required = false;
  std::vector<std::string> choices;   // Enum values
  std::optional<std::int64_t> min;    // Integer bounds, inclusive
  std::optional<std::int64_t> max;
  const Schema* nested = nullptr;     // Object
  bool secret = false;  // the value never appears in logs or error messages
};

struct Schema {
  std::vector<Field> fields;

  const Field* find(std::string_view name) const;
};

const char* field_type_name(FieldType type);

// A mapping validated against a schema. Accessors return the configured
// value or the field's default; asking for a key the schema does not
// declare is a programming error.
class Section {
 public:
  Section(YAML::Node node, const Schema* schema, std::string context, std::string file)
      : node_(std::move(node)), schema_(schema), context_(std::move(context)), file_(std::move(file)) {}

  std::string string(std::string_view key) const;
  std::int64_t integer(std::string_view key) const;
  bool boolean(std::string_view key) const;
  std::vector<std::string> strings(std::string_view key) const;
  Section object(std::string_view key) const;
  // True when the user wrote the key, as opposed to a default applying.
  bool has(std::string_view key) const;

  // Location of a key's value (or of the section when the key is absent),
  // for errors a component finds after the schema checks.
  Location location(std::string_view key) const;
  // "output \"archive\" (file)": what error messages name.
  const std::string& context() const { return context_; }
  const std::string& file() const { return file_; }
  const YAML::Node& node() const { return node_; }

 private:
  const Field& field(std::string_view key) const;

  YAML::Node node_;
  const Schema* schema_;
  std::string context_;
  std::string file_;
};

// Checks `node` against `schema`, adding every problem to `errors`:
// unknown keys (with the closest known key), missing required keys, wrong
// types, values outside bounds or choices. Nested objects are checked too.
// `reserved_keys` are top-level keys the caller checks itself (e.g. `type`).
void check_against_schema(const YAML::Node& node, const Schema& schema, const std::string& context,
                          const std::string& file, const std::string& key_prefix, Errors& errors,
                          const std::vector<std::string>& reserved_keys = {});

// The known name closest to `name` by edit distance, if close enough to be a likely typo.
std::optional<std::string> closest_name(std::string_view name, const std::vector<std::string>& known);

}  // namespace slipway::config
