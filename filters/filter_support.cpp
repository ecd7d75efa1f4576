#include "filters/filter_support.hpp"

#include <algorithm>
#include <iterator>

#include <fmt/format.h>

namespace slipway::filters {

namespace {

// Appends one key component as TYPE LENGTH ':' TEXT, so that no choice of
// field values can make two different events produce the same key.
void append_component(char type, std::string_view text, std::string& key) {
  key += type;
  fmt::format_to(std::back_inserter(key), "{}:", text.size());
  key += text;
}

}  // namespace

std::optional<json::Value> parse_event(const Event& event, FilterContext& context) {
  json::ParseResult parsed = json::parse(event.json);
  if (!parsed.value) {
    context.dead_letter(event.json, event.origin,
                        fmt::format("invalid JSON at byte {}: {}", parsed.error_offset, parsed.error));
    return std::nullopt;
  }
  return std::move(parsed.value);
}

MemberSubsetParser::MemberSubsetParser(std::vector<std::string> names) : names_(std::move(names)) {
  std::sort(names_.begin(), names_.end());
  names_.erase(std::unique(names_.begin(), names_.end()), names_.end());
  name_views_.assign(names_.begin(), names_.end());
  found_.resize(names_.size());
}

std::optional<json::Value> MemberSubsetParser::parse(const Event& event, FilterContext& context) {
  std::fill(found_.begin(), found_.end(), flow::MemberValue{});
  if (!flow::find_members(event.json, name_views_, found_)) {
    return parse_event(event, context);
  }

  json::Value subset = json::Value::object();
  for (std::size_t index = 0; index < names_.size(); ++index) {
    if (!found_[index].found) {
      continue;
    }
    const std::string_view text =
        std::string_view(event.json).substr(found_[index].begin, found_[index].end - found_[index].begin);
    json::ParseResult value = json::parse(text);
    if (!value.value) {
      // The scan skips values without checking them; let the full parser find and report the fault.
      return parse_event(event, context);
    }
    subset.members().emplace_back(names_[index], std::move(*value.value));
  }
  return subset;
}

bool is_json_number(std::string_view text) {
  std::size_t pos = 0;
  const auto skip_digits = [&] {
    const std::size_t start = pos;
    while (pos < text.size() && text[pos] >= '0' && text[pos] <= '9') {
      ++pos;
    }
    return pos > start;
  };
  if (pos < text.size() && text[pos] == '-') {
    ++pos;
  }
  if (pos < text.size() && text[pos] == '0') {
    ++pos;
  } else if (!skip_digits()) {
    return false;
  }
  if (pos < text.size() && text[pos] == '.') {
    ++pos;
    if (!skip_digits()) {
      return false;
    }
  }
  if (pos < text.size() && (text[pos] == 'e' || text[pos] == 'E')) {
    ++pos;
    if (pos < text.size() && (text[pos] == '+' || text[pos] == '-')) {
      ++pos;
    }
    if (!skip_digits()) {
      return false;
    }
  }
  return pos == text.size();
}

std::optional<std::string> compose_key(const std::vector<FieldPath>& paths, const json::Value& document) {
  std::string key;
  bool found_any = false;
  for (const FieldPath& path : paths) {
    const json::Value* value = path.find(document);
    if (value == nullptr) {
      key += '-';
      continue;
    }
    found_any = true;
    switch (value->type()) {
      case json::Type::String:
        append_component('s', value->as_string(), key);
        break;
      case json::Type::Number:
        append_component('n', value->number_text(), key);
        break;
      default:
        append_component('j', json::to_string(*value), key);
        break;
    }
  }
  if (!found_any) {
    return std::nullopt;
  }
  return key;
}

config::Location location_of(const YAML::Node& node, const config::Section& settings) {
  // yaml-cpp throws when asked for the mark of a key that is absent.
  if (!node.IsDefined()) {
    return config::Location{settings.file(), 0, 0};
  }
  const YAML::Mark mark = node.Mark();
  if (mark.is_null()) {
    return config::Location{settings.file(), 0, 0};
  }
  return config::Location{settings.file(), mark.line + 1, mark.column + 1};
}

void log_match_counters(const MatchCounters& counters, FilterContext& context) {
  const std::uint64_t missing = counters.missing_fields.load(std::memory_order_relaxed);
  const std::uint64_t mismatched = counters.type_mismatches.load(std::memory_order_relaxed);
  if (missing == 0 && mismatched == 0) {
    return;
  }
  context.log().info("Some field tests found no value or a value of another type and did not match. "
                     "missing_fields={} type_mismatches={}",
                     missing, mismatched);
}

}  // namespace slipway::filters
