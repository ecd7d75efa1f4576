#include "filters/field_template.hpp"

#include <iterator>

#include <date/date.h>
#include <fmt/format.h>

#include "engine/timestamp.hpp"

namespace slipway::filters {

namespace {

constexpr std::string_view kOpen = "{{";
constexpr std::string_view kClose = "}}";
constexpr std::string_view kNow = "now";
constexpr std::string_view kConversionCodes = "YmdHMSfjszZFT%";
constexpr std::int64_t kMicrosPerSecond = 1'000'000;
constexpr std::int64_t kSecondsPerDay = 86'400;

std::string_view trim(std::string_view text) {
  const std::size_t first = text.find_first_not_of(" \t");
  if (first == std::string_view::npos) {
    return {};
  }
  const std::size_t last = text.find_last_not_of(" \t");
  return text.substr(first, last - first + 1);
}

std::optional<std::vector<FieldTemplate::Conversion>> parse_time_format(std::string_view format, std::string& error) {
  std::vector<FieldTemplate::Conversion> conversions;
  std::string literal;
  for (std::size_t pos = 0; pos < format.size(); ++pos) {
    if (format[pos] != '%') {
      literal += format[pos];
      continue;
    }
    if (pos + 1 == format.size() || kConversionCodes.find(format[pos + 1]) == std::string_view::npos) {
      error = fmt::format("unknown time conversion \"{}\" in \"{}\"; known: %Y %m %d %H %M %S %f %j %s %z %Z %F %T %%",
                          format.substr(pos, 2), format);
      return std::nullopt;
    }
    if (!literal.empty()) {
      conversions.push_back(FieldTemplate::Conversion{.literal = std::move(literal)});
      literal.clear();
    }
    conversions.push_back(FieldTemplate::Conversion{.code = format[++pos]});
  }
  if (!literal.empty()) {
    conversions.push_back(FieldTemplate::Conversion{.literal = std::move(literal)});
  }
  return conversions;
}

std::optional<FieldTemplate::Piece> parse_placeholder(std::string_view inner, std::string_view whole,
                                                      std::string& error) {
  const std::size_t bar = inner.find('|');
  const std::string_view path_text = trim(inner.substr(0, bar));
  FieldTemplate::Piece piece;
  if (path_text.empty()) {
    error = fmt::format("placeholder \"{}\" names no field", whole);
    return std::nullopt;
  }
  if (path_text == kNow) {
    piece.now = true;
  } else {
    std::string path_error;
    piece.path = FieldPath::parse(path_text, path_error);
    if (!piece.path) {
      error = fmt::format("invalid field path \"{}\" in placeholder \"{}\": {}", path_text, whole, path_error);
      return std::nullopt;
    }
  }
  if (bar != std::string_view::npos) {
    const std::string_view format = trim(inner.substr(bar + 1));
    if (format.empty()) {
      error = fmt::format("placeholder \"{}\" has an empty time format after \"|\"", whole);
      return std::nullopt;
    }
    piece.time_format = parse_time_format(format, error);
    if (!piece.time_format) {
      return std::nullopt;
    }
  }
  return piece;
}

// Appends a value as it appears inside text: strings without quotes.
void append_text(const json::Value& value, std::string& out) {
  switch (value.type()) {
    case json::Type::String:
      out += value.as_string();
      return;
    case json::Type::Number:
      out += value.number_text();
      return;
    default:
      json::write(value, out);
      return;
  }
}

std::optional<std::int64_t> read_time(const json::Value& value) {
  static const timestamp::TimeZone kUtc = timestamp::TimeZone::utc();
  timestamp::ParsedTime parsed;
  if (value.is_string()) {
    parsed = timestamp::parse(value.as_string(), kUtc);
  } else if (value.is_number()) {
    parsed = timestamp::parse_epoch_seconds(value.number_text());
  } else {
    return std::nullopt;
  }
  if (!parsed.ok()) {
    return std::nullopt;
  }
  return parsed.utc_micros;
}

std::int64_t floor_divide(std::int64_t value, std::int64_t divisor) {
  const std::int64_t quotient = value / divisor;
  return (value % divisor != 0 && value < 0) ? quotient - 1 : quotient;
}

}  // namespace

std::optional<FieldTemplate> FieldTemplate::parse(std::string_view text, std::string& error) {
  FieldTemplate result;
  std::size_t pos = 0;
  while (pos < text.size()) {
    const std::size_t open = text.find(kOpen, pos);
    if (open != pos) {
      const std::size_t literal_end = open == std::string_view::npos ? text.size() : open;
      result.pieces_.push_back(Piece{.literal = std::string(text.substr(pos, literal_end - pos))});
      if (open == std::string_view::npos) {
        break;
      }
    }
    const std::size_t close = text.find(kClose, open + kOpen.size());
    if (close == std::string_view::npos) {
      error = fmt::format("placeholder \"{}\" is not closed with \"}}}}\"", text.substr(open));
      return std::nullopt;
    }
    const std::string_view whole = text.substr(open, close + kClose.size() - open);
    std::optional<Piece> piece =
        parse_placeholder(text.substr(open + kOpen.size(), close - open - kOpen.size()), whole, error);
    if (!piece) {
      return std::nullopt;
    }
    result.pieces_.push_back(std::move(*piece));
    pos = close + kClose.size();
  }
  return result;
}

bool FieldTemplate::is_constant() const {
  for (const Piece& piece : pieces_) {
    if (piece.path || piece.now) {
      return false;
    }
  }
  return true;
}

bool FieldTemplate::reads_member(std::string_view name) const {
  for (const Piece& piece : pieces_) {
    if (piece.path && piece.path->steps().front().name == name) {
      return true;
    }
  }
  return false;
}

void FieldTemplate::add_top_level_names(std::vector<std::string>& names) const {
  for (const Piece& piece : pieces_) {
    if (piece.path) {
      names.push_back(piece.path->steps().front().name);
    }
  }
}

std::optional<json::Value> FieldTemplate::render(const json::Value& event, std::int64_t now_micros,
                                                 MatchCounters& counters) const {
  if (pieces_.size() == 1 && pieces_.front().path && !pieces_.front().time_format) {
    const json::Value* value = pieces_.front().path->find(event);
    if (value == nullptr) {
      counters.missing_fields.fetch_add(1, std::memory_order_relaxed);
      return std::nullopt;
    }
    return *value;
  }

  std::string text;
  for (const Piece& piece : pieces_) {
    if (!piece.path && !piece.now) {
      text += piece.literal;
      continue;
    }
    std::int64_t time_micros = now_micros;
    if (piece.path) {
      const json::Value* value = piece.path->find(event);
      if (value == nullptr) {
        counters.missing_fields.fetch_add(1, std::memory_order_relaxed);
        return std::nullopt;
      }
      if (!piece.time_format) {
        append_text(*value, text);
        continue;
      }
      const std::optional<std::int64_t> parsed = read_time(*value);
      if (!parsed) {
        counters.type_mismatches.fetch_add(1, std::memory_order_relaxed);
        return std::nullopt;
      }
      time_micros = *parsed;
    }
    if (piece.time_format) {
      append_time(time_micros, *piece.time_format, text);
    } else {
      timestamp::append_utc(time_micros, text);
    }
  }
  return json::Value::string(std::move(text));
}

void append_time(std::int64_t utc_micros, const std::vector<FieldTemplate::Conversion>& format, std::string& out) {
  const std::int64_t epoch_seconds = floor_divide(utc_micros, kMicrosPerSecond);
  const std::int64_t fraction = utc_micros - epoch_seconds * kMicrosPerSecond;
  const std::int64_t days = floor_divide(epoch_seconds, kSecondsPerDay);
  const std::int64_t second_of_day = epoch_seconds - days * kSecondsPerDay;
  const date::sys_days day{date::days{days}};
  const date::year_month_day civil{day};
  const std::int64_t day_of_year = (day - date::sys_days{civil.year() / date::January / 1}).count() + 1;

  auto sink = std::back_inserter(out);
  for (const FieldTemplate::Conversion& conversion : format) {
    switch (conversion.code) {
      case 0: out += conversion.literal; break;
      case 'Y': fmt::format_to(sink, "{:04}", static_cast<int>(civil.year())); break;
      case 'm': fmt::format_to(sink, "{:02}", static_cast<unsigned>(civil.month())); break;
      case 'd': fmt::format_to(sink, "{:02}", static_cast<unsigned>(civil.day())); break;
      case 'H': fmt::format_to(sink, "{:02}", second_of_day / 3600); break;
      case 'M': fmt::format_to(sink, "{:02}", second_of_day / 60 % 60); break;
      case 'S': fmt::format_to(sink, "{:02}", second_of_day % 60); break;
      case 'f': fmt::format_to(sink, "{:06}", fraction); break;
      case 'j': fmt::format_to(sink, "{:03}", day_of_year); break;
      case 's': fmt::format_to(sink, "{}", epoch_seconds); break;
      case 'z': out += "+0000"; break;
      case 'Z': out += "UTC"; break;
      case 'F':
        fmt::format_to(sink, "{:04}-{:02}-{:02}", static_cast<int>(civil.year()), static_cast<unsigned>(civil.month()),
                       static_cast<unsigned>(civil.day()));
        break;
      case 'T':
        fmt::format_to(sink, "{:02}:{:02}:{:02}", second_of_day / 3600, second_of_day / 60 % 60, second_of_day % 60);
        break;
      case '%': out += '%'; break;
      default: break;
    }
  }
}

}  // namespace slipway::filters
