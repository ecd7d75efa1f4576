#include "tests/support/stix_checks.hpp"

#include <arpa/inet.h>

#include <algorithm>
#include <array>
#include <cctype>
#include <regex>

#include <fmt/format.h>

namespace slipway::testing {

namespace {

const std::regex kIdentifier("^([a-z][a-z0-9-]*)--[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$");
const std::regex kTimestamp(R"(^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})(\.(\d+))?Z$)");

constexpr std::array<std::string_view, 10> kOperators = {"=",       "!=",         "<=",         ">=",   "<", ">",
                                                         "LIKE",    "MATCHES",    "ISSUBSET",   "ISSUPERSET"};
constexpr std::array<std::string_view, 6> kIndicatorTypes = {"anomalous-activity", "anonymization", "benign",
                                                             "compromised",        "malicious-activity",
                                                             "attribution"};

class PatternParser {
 public:
  explicit PatternParser(std::string_view text) : text_(text) {}

  PatternCheck run() {
    PatternCheck check;
    comparisons_ = &check.comparisons;
    if (!pattern() || (skip_space(), position_ != text_.size())) {
      check.error = error_.empty() ? fmt::format("unexpected text at byte {}", position_) : error_;
    }
    return check;
  }

 private:
  bool fail(std::string_view what) {
    if (error_.empty()) {
      error_ = fmt::format("{} at byte {}", what, position_);
    }
    return false;
  }

  void skip_space() {
    while (position_ < text_.size() && std::isspace(static_cast<unsigned char>(text_[position_]))) {
      ++position_;
    }
  }

  bool keyword(std::string_view word) {
    skip_space();
    if (text_.substr(position_, word.size()) != word) {
      return false;
    }
    const std::size_t end = position_ + word.size();
    if (end < text_.size() && (std::isalnum(static_cast<unsigned char>(text_[end])) || text_[end] == '_')) {
      return false;
    }
    position_ = end;
    return true;
  }

  bool symbol(char character) {
    skip_space();
    if (position_ < text_.size() && text_[position_] == character) {
      ++position_;
      return true;
    }
    return false;
  }

  // pattern := observation ((AND | OR | FOLLOWEDBY) observation)*
  bool pattern() {
    if (!observation()) {
      return false;
    }
    while (keyword("AND") || keyword("OR") || keyword("FOLLOWEDBY")) {
      if (!observation()) {
        return false;
      }
    }
    return true;
  }

  // observation := '[' comparisons ']' | '(' pattern ')'
  bool observation() {
    if (symbol('(')) {
      return pattern() && (symbol(')') || fail("missing ')'"));
    }
    if (!symbol('[')) {
      return fail("expected '['");
    }
    return comparisons() && (symbol(']') || fail("missing ']'"));
  }

  // comparisons := conjunction (OR conjunction)*
  bool comparisons() {
    if (!conjunction()) {
      return false;
    }
    while (keyword("OR")) {
      if (!conjunction()) {
        return false;
      }
    }
    return true;
  }

  // conjunction := comparison (AND comparison)*
  bool conjunction() {
    if (!comparison()) {
      return false;
    }
    while (keyword("AND")) {
      if (!comparison()) {
        return false;
      }
    }
    return true;
  }

  // comparison := '(' comparisons ')' | object_path [NOT] operator literal
  bool comparison() {
    if (symbol('(')) {
      return comparisons() && (symbol(')') || fail("missing ')'"));
    }
    PatternComparison found;
    if (!object_path(found.object_path)) {
      return false;
    }
    if (keyword("NOT")) {
      found.op = "NOT ";
    }
    skip_space();
    bool matched = false;
    for (const std::string_view op : kOperators) {
      const bool word = std::isalpha(static_cast<unsigned char>(op[0])) != 0;
      if (word ? keyword(op) : text_.substr(position_, op.size()) == op) {
        position_ += word ? 0 : op.size();
        found.op += op;
        matched = true;
        break;
      }
    }
    if (!matched) {
      return fail("expected a comparison operator");
    }
    if (!literal(found.value)) {
      return false;
    }
    comparisons_->push_back(std::move(found));
    return true;
  }

  // object_path := object-type ':' property ('.' property | '[' index ']')*
  bool object_path(std::string& out) {
    skip_space();
    const std::size_t start = position_;
    if (position_ >= text_.size() || !std::islower(static_cast<unsigned char>(text_[position_]))) {
      return fail("expected an object type");
    }
    while (position_ < text_.size() && (std::islower(static_cast<unsigned char>(text_[position_])) ||
                                        std::isdigit(static_cast<unsigned char>(text_[position_])) ||
                                        text_[position_] == '-')) {
      ++position_;
    }
    if (position_ >= text_.size() || text_[position_] != ':') {
      return fail("expected ':' after the object type");
    }
    ++position_;
    const std::size_t property_start = position_;
    while (position_ < text_.size() && (std::isalnum(static_cast<unsigned char>(text_[position_])) ||
                                        text_[position_] == '_' || text_[position_] == '.' ||
                                        text_[position_] == '[' || text_[position_] == ']' || text_[position_] == '*')) {
      ++position_;
    }
    if (position_ == property_start) {
      return fail("expected a property name");
    }
    out = std::string(text_.substr(start, position_ - start));
    return true;
  }

  // A quoted string in which only \' and \\ are escapes; the prefixes t,
  // h and b mark timestamps, hex and binary.
  bool literal(std::string& out) {
    skip_space();
    if (position_ >= text_.size()) {
      return fail("expected a literal");
    }
    if (text_.substr(position_, 2) == "t'" || text_.substr(position_, 2) == "h'" ||
        text_.substr(position_, 2) == "b'") {
      ++position_;
    }
    if (text_[position_] != '\'') {
      return unquoted_literal(out);
    }
    ++position_;
    while (position_ < text_.size()) {
      const char character = text_[position_++];
      if (character == '\'') {
        return true;
      }
      if (character == '\\') {
        if (position_ >= text_.size() || (text_[position_] != '\'' && text_[position_] != '\\')) {
          return fail("invalid escape in a string literal; only \\' and \\\\ are allowed");
        }
        out += text_[position_++];
        continue;
      }
      out += character;
    }
    return fail("unterminated string literal");
  }

  // An integer, a decimal number, true or false.
  bool unquoted_literal(std::string& out) {
    if (keyword("true") || keyword("false")) {
      out = text_[position_ - 1] == 'e' && text_.substr(position_ - 4, 4) == "true" ? "true" : "false";
      return true;
    }
    const std::size_t start = position_;
    const auto digits = [&] {
      const std::size_t first = position_;
      while (position_ < text_.size() && std::isdigit(static_cast<unsigned char>(text_[position_]))) {
        ++position_;
      }
      return position_ > first;
    };
    if (text_[position_] == '-' || text_[position_] == '+') {
      ++position_;
    }
    if (!digits()) {
      return fail("expected a literal");
    }
    if (position_ < text_.size() && text_[position_] == '.' && (++position_, !digits())) {
      return fail("expected digits after the decimal point");
    }
    out = std::string(text_.substr(start, position_ - start));
    return true;
  }

  std::string_view text_;
  std::size_t position_ = 0;
  std::string error_;
  std::vector<PatternComparison>* comparisons_ = nullptr;
};

bool is_address(std::string_view text, int family) {
  const std::string terminated(text);
  unsigned char bytes[16];
  return ::inet_pton(family, terminated.c_str(), bytes) == 1;
}

bool is_network(std::string_view text, int family) {
  const std::size_t slash = text.find('/');
  if (slash == std::string_view::npos) {
    return is_address(text, family);
  }
  const std::string prefix(text.substr(slash + 1));
  const int max_prefix = family == AF_INET ? 32 : 128;
  return is_address(text.substr(0, slash), family) && !prefix.empty() &&
         std::all_of(prefix.begin(), prefix.end(), [](char c) { return std::isdigit(static_cast<unsigned char>(c)); }) &&
         std::stoi(prefix) <= max_prefix;
}

class ObjectChecker {
 public:
  ObjectChecker(const json::Value& object, std::size_t fraction_digits)
      : object_(object), fraction_digits_(fraction_digits) {}

  std::vector<std::string> run();

 private:
  void problem(std::string text) { problems_.push_back(std::move(text)); }

  const json::Value* required(std::string_view key, json::Type type) {
    const json::Value* value = object_.find(key);
    if (value == nullptr) {
      problem(fmt::format("missing required property {}", key));
      return nullptr;
    }
    if (value->type() != type) {
      problem(fmt::format("property {} has the wrong JSON type", key));
      return nullptr;
    }
    return value;
  }

  // Checks a timestamp property; returns its text when valid.
  std::optional<std::string> timestamp(std::string_view key, bool is_required) {
    const json::Value* value = object_.find(key);
    if (value == nullptr) {
      if (is_required) {
        problem(fmt::format("missing required property {}", key));
      }
      return std::nullopt;
    }
    std::smatch match;
    const std::string text = value->is_string() ? value->as_string() : std::string();
    if (!std::regex_match(text, match, kTimestamp)) {
      problem(fmt::format("{} \"{}\" is not an RFC 3339 UTC timestamp ending in Z", key, text));
      return std::nullopt;
    }
    if (match[8].length() != static_cast<std::ptrdiff_t>(fraction_digits_)) {
      problem(fmt::format("{} \"{}\" does not have {} fraction digits", key, text, fraction_digits_));
    }
    return text;
  }

  void reference(std::string_view key, const json::Value& value, std::vector<std::string_view> types) {
    std::smatch match;
    const std::string text = value.is_string() ? value.as_string() : std::string();
    if (!std::regex_match(text, match, kIdentifier)) {
      problem(fmt::format("{} \"{}\" is not an identifier", key, text));
      return;
    }
    if (std::find(types.begin(), types.end(), match[1].str()) == types.end()) {
      problem(fmt::format("{} refers to a {}, which it may not", key, match[1].str()));
    }
  }

  void references(std::string_view key, bool is_required, std::vector<std::string_view> types) {
    const json::Value* list = object_.find(key);
    if (list == nullptr) {
      if (is_required) {
        problem(fmt::format("missing required property {}", key));
      }
      return;
    }
    if (!list->is_array() || list->items().empty()) {
      problem(fmt::format("{} must be a non-empty list", key));
      return;
    }
    for (const json::Value& item : list->items()) {
      reference(key, item, types);
    }
  }

  void integer_in(std::string_view key, bool is_required, std::int64_t min, std::int64_t max) {
    const json::Value* value = object_.find(key);
    if (value == nullptr) {
      if (is_required) {
        problem(fmt::format("missing required property {}", key));
      }
      return;
    }
    const std::optional<std::int64_t> number = value->is_number() ? value->as_int() : std::nullopt;
    if (!number || *number < min || *number > max) {
      problem(fmt::format("{} must be an integer from {} to {}", key, min, max));
    }
  }

  void check_common_sdo();
  void check_indicator();
  void check_pattern_values(const std::vector<PatternComparison>& comparisons);

  const json::Value& object_;
  std::size_t fraction_digits_;
  std::vector<std::string> problems_;
};

std::vector<std::string> ObjectChecker::run() {
  const json::Value* type = required("type", json::Type::String);
  const json::Value* spec_version = required("spec_version", json::Type::String);
  const json::Value* id = required("id", json::Type::String);
  if (spec_version != nullptr && spec_version->as_string() != "2.1") {
    problem("spec_version is not \"2.1\"");
  }
  if (type == nullptr || id == nullptr) {
    return problems_;
  }
  const std::string& type_name = type->as_string();
  std::smatch match;
  if (!std::regex_match(id->as_string(), match, kIdentifier) || match[1].str() != type_name) {
    problem(fmt::format("id \"{}\" is not {}--<uuid>", id->as_string(), type_name));
  }

  if (type_name == "ipv4-addr" || type_name == "ipv6-addr" || type_name == "domain-name" || type_name == "url") {
    required("value", json::Type::String);
    return problems_;
  }
  check_common_sdo();
  if (type_name == "identity") {
    required("name", json::Type::String);
  } else if (type_name == "indicator") {
    check_indicator();
  } else if (type_name == "sighting") {
    if (const json::Value* target = required("sighting_of_ref", json::Type::String)) {
      reference("sighting_of_ref", *target, {"indicator", "malware", "attack-pattern", "campaign", "infrastructure"});
    }
    const auto first = timestamp("first_seen", false);
    const auto last = timestamp("last_seen", false);
    if (first && last && *last < *first) {
      problem("last_seen is before first_seen");
    }
    integer_in("count", false, 0, 999'999'999);
    references("observed_data_refs", false, {"observed-data"});
    references("where_sighted_refs", false, {"identity", "location"});
  } else if (type_name == "observed-data") {
    const auto first = timestamp("first_observed", true);
    const auto last = timestamp("last_observed", true);
    if (first && last && *last < *first) {
      problem("last_observed is before first_observed");
    }
    integer_in("number_observed", true, 1, 999'999'999);
    if ((object_.find("object_refs") != nullptr) == (object_.find("objects") != nullptr)) {
      problem("observed-data needs exactly one of object_refs and objects");
    }
    references("object_refs", false, {"ipv4-addr", "ipv6-addr", "domain-name", "url", "network-traffic", "file"});
  } else {
    problem(fmt::format("unexpected object type {}", type_name));
  }
  return problems_;
}

void ObjectChecker::check_common_sdo() {
  const auto created = timestamp("created", true);
  const auto modified = timestamp("modified", true);
  if (created && modified && *modified < *created) {
    problem("modified is before created");
  }
  if (const json::Value* creator = object_.find("created_by_ref")) {
    reference("created_by_ref", *creator, {"identity"});
  }
  integer_in("confidence", false, 0, 100);
}

void ObjectChecker::check_indicator() {
  const json::Value* pattern = required("pattern", json::Type::String);
  const json::Value* pattern_type = required("pattern_type", json::Type::String);
  const auto valid_from = timestamp("valid_from", true);
  const auto valid_until = timestamp("valid_until", false);
  if (valid_from && valid_until && *valid_until <= *valid_from) {
    problem("valid_until is not after valid_from");
  }
  if (const json::Value* types = object_.find("indicator_types")) {
    for (const json::Value& item : types->items()) {
      if (!item.is_string() ||
          std::find(kIndicatorTypes.begin(), kIndicatorTypes.end(), item.as_string()) == kIndicatorTypes.end()) {
        problem("indicator_types holds a value outside the indicator-type vocabulary");
      }
    }
  }
  if (pattern == nullptr || pattern_type == nullptr || pattern_type->as_string() != "stix") {
    return;
  }
  const PatternCheck check = check_pattern(pattern->as_string());
  if (check.error) {
    problem(fmt::format("pattern \"{}\": {}", pattern->as_string(), *check.error));
    return;
  }
  check_pattern_values(check.comparisons);
}

void ObjectChecker::check_pattern_values(const std::vector<PatternComparison>& comparisons) {
  for (const PatternComparison& comparison : comparisons) {
    const bool subset = comparison.op == "ISSUBSET";
    bool valid = true;
    if (comparison.object_path == "ipv4-addr:value") {
      valid = subset ? is_network(comparison.value, AF_INET) : is_address(comparison.value, AF_INET);
    } else if (comparison.object_path == "ipv6-addr:value") {
      valid = subset ? is_network(comparison.value, AF_INET6) : is_address(comparison.value, AF_INET6);
    } else if (comparison.object_path != "domain-name:value" && comparison.object_path != "url:value") {
      valid = false;
    }
    if (!valid || comparison.value.empty()) {
      problem(fmt::format("pattern compares {} {} '{}', which is not a valid value for it", comparison.object_path,
                          comparison.op, comparison.value));
    }
  }
}

}  // namespace

PatternCheck check_pattern(std::string_view pattern) { return PatternParser(pattern).run(); }

std::vector<std::string> check_stix_object(const json::Value& object, std::size_t fraction_digits) {
  if (!object.is_object()) {
    return {"not a JSON object"};
  }
  return ObjectChecker(object, fraction_digits).run();
}

}  // namespace slipway::testing
