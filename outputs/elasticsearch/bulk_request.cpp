#include "outputs/elasticsearch/bulk_request.hpp"

#include <fmt/format.h>

#include "engine/json.hpp"
#include "engine/timestamp.hpp"

namespace slipway::outputs::elasticsearch {

namespace {

constexpr std::int64_t kMicrosPerSecond = 1'000'000;
constexpr std::int64_t kSecondsPerDay = 86'400;
// Elasticsearch rejects longer index names (in bytes).
constexpr std::size_t kMaxIndexNameBytes = 255;

struct CivilDate {
  std::int64_t year;
  unsigned month;
  unsigned day;
};

// Converts days since 1970-01-01 to a proleptic Gregorian date (Howard
// Hinnant's days_from_civil inverse).
CivilDate civil_from_days(std::int64_t days) {
  days += 719468;
  const std::int64_t era = (days >= 0 ? days : days - 146096) / 146097;
  const auto day_of_era = static_cast<unsigned>(days - era * 146097);
  const unsigned year_of_era = (day_of_era - day_of_era / 1460 + day_of_era / 36524 - day_of_era / 146096) / 365;
  const unsigned day_of_year = day_of_era - (365 * year_of_era + year_of_era / 4 - year_of_era / 100);
  const unsigned month_index = (5 * day_of_year + 2) / 153;
  const unsigned day = day_of_year - (153 * month_index + 2) / 5 + 1;
  const unsigned month = month_index < 10 ? month_index + 3 : month_index - 9;
  return CivilDate{static_cast<std::int64_t>(year_of_era) + era * 400 + (month <= 2 ? 1 : 0), month, day};
}

std::int64_t floor_divide(std::int64_t value, std::int64_t divisor) {
  return value / divisor - (value % divisor < 0 ? 1 : 0);
}

std::optional<std::int64_t> event_time(const json::Value& object, const std::vector<std::string>& fields) {
  for (const std::string& field : fields) {
    const json::Value* value = object.find(field);
    if (value == nullptr) {
      continue;
    }
    timestamp::ParsedTime parsed;
    if (value->is_string()) {
      parsed = timestamp::parse(value->as_string(), timestamp::TimeZone::utc());
    } else if (value->is_number()) {
      parsed = timestamp::parse_epoch_seconds(value->number_text());
    } else {
      continue;
    }
    if (parsed.ok()) {
      return parsed.utc_micros;
    }
  }
  return std::nullopt;
}

}  // namespace

std::optional<IndexTemplate> IndexTemplate::parse(std::string_view text, std::string& problem) {
  IndexTemplate parsed;
  std::string literal;
  const auto flush = [&] {
    if (!literal.empty()) {
      parsed.pieces_.push_back(Piece{Part::Literal, std::move(literal)});
      literal.clear();
    }
  };
  for (std::size_t at = 0; at < text.size(); ++at) {
    const char c = text[at];
    if (c != '%') {
      // Elasticsearch index names are lower case and exclude these characters.
      if ((c >= 'A' && c <= 'Z') || std::string_view("\\/*?\"<>| ,#:").find(c) != std::string_view::npos) {
        problem = fmt::format("\"{}\": index names are lower case without spaces or any of \\/*?\"<>|,#:", text);
        return std::nullopt;
      }
      literal += c;
      continue;
    }
    const char code = at + 1 < text.size() ? text[at + 1] : '\0';
    ++at;
    if (code == '%') {
      literal += '%';
      continue;
    }
    Part part = Part::Literal;
    switch (code) {
      case 'Y':
        part = Part::Year;
        break;
      case 'm':
        part = Part::Month;
        break;
      case 'd':
        part = Part::Day;
        break;
      case 'H':
        part = Part::Hour;
        break;
      default:
        break;
    }
    if (part == Part::Literal) {
      problem = fmt::format("\"{}\": unsupported field \"%{}\"; use %Y, %m, %d, %H or %%", text,
                            code == '\0' ? std::string() : std::string(1, code));
      return std::nullopt;
    }
    flush();
    parsed.pieces_.push_back(Piece{part, {}});
  }
  flush();

  if (text.empty() || text.front() == '-' || text.front() == '_' || text.front() == '+' || text == "." ||
      text == "..") {
    problem = fmt::format("\"{}\": an index name cannot be empty, \".\" or \"..\", or start with -, _ or +", text);
    return std::nullopt;
  }
  if (text.size() > kMaxIndexNameBytes) {
    problem = fmt::format("index names are at most {} bytes", kMaxIndexNameBytes);
    return std::nullopt;
  }
  return parsed;
}

void IndexTemplate::append_name(std::int64_t utc_micros, std::string& out) const {
  const std::int64_t seconds = floor_divide(utc_micros, kMicrosPerSecond);
  const std::int64_t days = floor_divide(seconds, kSecondsPerDay);
  const CivilDate date = civil_from_days(days);
  const std::int64_t hour = (seconds - days * kSecondsPerDay) / 3600;
  for (const Piece& piece : pieces_) {
    switch (piece.part) {
      case Part::Literal:
        out += piece.literal;
        break;
      case Part::Year:
        fmt::format_to(std::back_inserter(out), "{:04}", date.year);
        break;
      case Part::Month:
        fmt::format_to(std::back_inserter(out), "{:02}", date.month);
        break;
      case Part::Day:
        fmt::format_to(std::back_inserter(out), "{:02}", date.day);
        break;
      case Part::Hour:
        fmt::format_to(std::back_inserter(out), "{:02}", hour);
        break;
    }
  }
}

void append_bulk_item(const Event& event, const BulkSettings& settings, std::int64_t now_micros, std::string& out) {
  const json::ParseResult parsed = json::parse(event.json);
  const json::Value* object = parsed.value && parsed.value->is_object() ? &*parsed.value : nullptr;

  // NOTE: an event without a usable time goes to the index of the moment
  // it is sent, so a resend on another day lands in another index.
  const std::int64_t time = object != nullptr ? event_time(*object, settings.time_fields).value_or(now_micros)
                                              : now_micros;
  std::string index;
  settings.index.append_name(time, index);

  out += settings.action == BulkAction::Create ? R"({"create":{"_index":)" : R"({"index":{"_index":)";
  json::append_quoted(index, out);
  if (!settings.id_field.empty() && object != nullptr) {
    const json::Value* id = object->find(settings.id_field);
    if (id != nullptr && (id->is_string() || id->is_number())) {
      out += R"(,"_id":)";
      json::append_quoted(id->is_string() ? id->as_string() : id->number_text(), out);
    }
  }
  out += "}}\n";
  out += event.json;
  out += '\n';
}

std::optional<std::vector<ItemResult>> parse_bulk_response(std::string_view body, std::size_t expected_items) {
  const json::ParseResult parsed = json::parse(body);
  if (!parsed.value || !parsed.value->is_object()) {
    return std::nullopt;
  }
  const json::Value* items = parsed.value->find("items");
  if (items == nullptr || !items->is_array() || items->items().size() != expected_items) {
    return std::nullopt;
  }

  std::vector<ItemResult> results;
  results.reserve(expected_items);
  for (const json::Value& item : items->items()) {
    // Each item is {"<action>": {"status": ..., "error": {...}}}.
    if (!item.is_object() || item.members().size() != 1 || !item.members()[0].second.is_object()) {
      return std::nullopt;
    }
    const json::Value& outcome = item.members()[0].second;
    const json::Value* status = outcome.find("status");
    if (status == nullptr || !status->as_int()) {
      return std::nullopt;
    }
    ItemResult result{static_cast<int>(*status->as_int()), {}};
    if (const json::Value* error = outcome.find("error"); error != nullptr) {
      const json::Value* type = error->find("type");
      const json::Value* reason = error->find("reason");
      result.error = fmt::format("{}: {}", type != nullptr && type->is_string() ? type->as_string() : "error",
                                 reason != nullptr && reason->is_string() ? reason->as_string() : json::to_string(*error));
    }
    results.push_back(std::move(result));
  }
  return results;
}

}  // namespace slipway::outputs::elasticsearch
