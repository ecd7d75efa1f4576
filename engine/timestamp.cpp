#include "engine/timestamp.hpp"

#include <algorithm>
#include <array>
#include <charconv>
#include <chrono>
#include <cmath>
#include <exception>
#include <utility>

#include <date/date.h>
#include <date/tz.h>

namespace slipway::timestamp {

namespace {

constexpr std::int64_t kMicrosPerSecond = 1'000'000;
constexpr std::int64_t kSecondsPerDay = 86'400;
constexpr int kFractionDigits = 6;
// Enough integer digits for any epoch second before the year 10000.
constexpr int kMaxEpochIntegerDigits = 12;
constexpr int kMaxExponentDigits = 4;

// 0000-01-01T00:00:00Z and 9999-12-31T23:59:59.999999Z, the range of a
// four-digit RFC 3339 year.
constexpr std::int64_t kMinMicros = -62'167'219'200LL * kMicrosPerSecond;
constexpr std::int64_t kMaxMicros = 253'402'300'800LL * kMicrosPerSecond - 1;

std::int64_t floor_div(std::int64_t value, std::int64_t divisor) {
  const std::int64_t quotient = value / divisor;
  return (value % divisor != 0 && (value < 0) != (divisor < 0)) ? quotient - 1 : quotient;
}

bool is_digit(char c) { return c >= '0' && c <= '9'; }

// Reads exactly `count` digits at `pos`; nullopt when any is missing.
std::optional<int> read_digits(std::string_view text, std::size_t& pos, int count) {
  if (text.size() - pos < static_cast<std::size_t>(count)) {
    return std::nullopt;
  }
  int value = 0;
  for (int index = 0; index < count; ++index) {
    const char c = text[pos + static_cast<std::size_t>(index)];
    if (!is_digit(c)) {
      return std::nullopt;
    }
    value = value * 10 + (c - '0');
  }
  pos += static_cast<std::size_t>(count);
  return value;
}

bool consume(std::string_view text, std::size_t& pos, char expected) {
  if (pos < text.size() && text[pos] == expected) {
    ++pos;
    return true;
  }
  return false;
}

// Reads `.digits` or `,digits` (ISO 8601 allows both) as microseconds,
// keeping the first six digits and cutting the rest.
std::optional<std::int64_t> read_fraction(std::string_view text, std::size_t& pos) {
  if (pos >= text.size() || (text[pos] != '.' && text[pos] != ',')) {
    return 0;
  }
  ++pos;
  const std::size_t first_digit = pos;
  std::int64_t micros = 0;
  while (pos < text.size() && is_digit(text[pos])) {
    if (pos - first_digit < kFractionDigits) {
      micros = micros * 10 + (text[pos] - '0');
    }
    ++pos;
  }
  const std::size_t digit_count = pos - first_digit;
  if (digit_count == 0) {
    return std::nullopt;
  }
  for (std::size_t index = digit_count; index < kFractionDigits; ++index) {
    micros *= 10;
  }
  return micros;
}

struct Offset {
  bool present = false;
  std::int64_t seconds = 0;  // east of UTC
  TimeError error = TimeError::None;
};

// Reads `Z`, `±HH:MM`, `±HHMM` or `±HH` up to the end of the text.
Offset read_offset(std::string_view text, std::size_t& pos) {
  Offset offset;
  if (pos == text.size()) {
    return offset;
  }
  if (text[pos] == 'Z' || text[pos] == 'z') {
    ++pos;
    offset.present = true;
    return offset;
  }
  if (text[pos] != '+' && text[pos] != '-') {
    offset.error = TimeError::Malformed;
    return offset;
  }
  const bool west = text[pos] == '-';
  ++pos;

  const std::optional<int> hours = read_digits(text, pos, 2);
  if (!hours) {
    offset.error = TimeError::Malformed;
    return offset;
  }
  int minutes = 0;
  if (pos < text.size()) {
    consume(text, pos, ':');
    const std::optional<int> read_minutes = read_digits(text, pos, 2);
    if (!read_minutes) {
      offset.error = TimeError::Malformed;
      return offset;
    }
    minutes = *read_minutes;
  }

  if (*hours > 23 || minutes > 59) {
    offset.error = TimeError::InvalidOffset;
    return offset;
  }
  offset.present = true;
  offset.seconds = (west ? -1 : 1) * (*hours * 3600 + minutes * 60);
  return offset;
}

ParsedTime failure(TimeError error) {
  ParsedTime result;
  result.error = error;
  return result;
}

ParsedTime in_range(std::int64_t utc_micros, bool default_zone_applied) {
  if (utc_micros < kMinMicros || utc_micros > kMaxMicros) {
    return failure(TimeError::OutOfRange);
  }
  ParsedTime result;
  result.utc_micros = utc_micros;
  result.default_zone_applied = default_zone_applied;
  return result;
}

// Parses `YYYY-MM-DD` or `YYYY/MM/DD`, then `T`, `t` or a space, then
// `HH:MM:SS`, an optional fraction and an optional offset.
ParsedTime parse_calendar(std::string_view text, const TimeZone& zoneless_zone) {
  std::size_t pos = 0;
  const std::optional<int> year = read_digits(text, pos, 4);
  const char date_separator = pos < text.size() ? text[pos] : '\0';
  if (!year || (date_separator != '-' && date_separator != '/')) {
    return failure(TimeError::Malformed);
  }
  ++pos;
  const std::optional<int> month = read_digits(text, pos, 2);
  if (!month || !consume(text, pos, date_separator)) {
    return failure(TimeError::Malformed);
  }
  const std::optional<int> day = read_digits(text, pos, 2);
  if (!day || pos >= text.size() || (text[pos] != 'T' && text[pos] != 't' && text[pos] != ' ')) {
    return failure(TimeError::Malformed);
  }
  ++pos;
  const std::optional<int> hour = read_digits(text, pos, 2);
  if (!hour || !consume(text, pos, ':')) {
    return failure(TimeError::Malformed);
  }
  const std::optional<int> minute = read_digits(text, pos, 2);
  if (!minute || !consume(text, pos, ':')) {
    return failure(TimeError::Malformed);
  }
  const std::optional<int> second = read_digits(text, pos, 2);
  if (!second) {
    return failure(TimeError::Malformed);
  }
  const std::optional<std::int64_t> fraction_micros = read_fraction(text, pos);
  if (!fraction_micros) {
    return failure(TimeError::Malformed);
  }
  const Offset offset = read_offset(text, pos);
  if (offset.error != TimeError::None) {
    return failure(offset.error);
  }
  if (pos != text.size()) {
    return failure(TimeError::Malformed);
  }

  const date::year_month_day calendar_date{date::year{*year}, date::month{static_cast<unsigned>(*month)},
                                           date::day{static_cast<unsigned>(*day)}};
  if (!calendar_date.ok()) {
    return failure(TimeError::InvalidDate);
  }
  if (*hour > 23 || *minute > 59 || *second > 60) {
    return failure(TimeError::InvalidTime);
  }

  const std::int64_t days = date::sys_days{calendar_date}.time_since_epoch().count();
  const std::int64_t seconds = days * kSecondsPerDay + *hour * 3600 + *minute * 60 + *second;
  const std::int64_t wall_micros = seconds * kMicrosPerSecond + *fraction_micros;
  if (offset.present) {
    return in_range(wall_micros - offset.seconds * kMicrosPerSecond, false);
  }
  return in_range(zoneless_zone.local_to_utc(wall_micros), true);
}

}  // namespace

TimeZone TimeZone::utc() { return TimeZone(nullptr, "UTC"); }

std::optional<TimeZone> TimeZone::find(std::string_view iana_name) {
  if (iana_name == "UTC") {
    return utc();
  }
  try {
    return TimeZone(date::locate_zone(iana_name), std::string(iana_name));
  } catch (const std::exception&) {
    // locate_zone throws both for an unknown name and for a missing or
    // unreadable database; either way the name cannot be used.
    return std::nullopt;
  }
}

std::int64_t TimeZone::local_to_utc(std::int64_t local_micros) const {
  if (zone_ == nullptr) {
    return local_micros;
  }
  using std::chrono::seconds;
  const std::int64_t local_seconds = floor_div(local_micros, kMicrosPerSecond);
  const date::local_info info = zone_->get_info(date::local_seconds{seconds{local_seconds}});
  // For a unique local time `first` is the only result. For an ambiguous
  // one it is the earlier occurrence, and for a skipped one the period
  // before the gap.
  return local_micros - static_cast<std::int64_t>(info.first.offset.count()) * kMicrosPerSecond;
}

std::string_view describe(TimeError error) {
  switch (error) {
    case TimeError::None:
      return "valid";
    case TimeError::Empty:
      return "empty";
    case TimeError::Malformed:
      return "not an RFC 3339, Slips or epoch time";
    case TimeError::InvalidDate:
      return "no such calendar date";
    case TimeError::InvalidTime:
      return "hour, minute or second out of range";
    case TimeError::InvalidOffset:
      return "UTC offset out of range";
    case TimeError::OutOfRange:
      return "outside the years 0000 to 9999";
  }
  return "invalid";
}

ParsedTime parse(std::string_view text, const TimeZone& zoneless_zone) {
  if (text.empty()) {
    return failure(TimeError::Empty);
  }
  // A calendar time has its date separator after a four-digit year; epoch
  // text never has '-' or '/' there.
  if (text.size() > 4 && (text[4] == '-' || text[4] == '/')) {
    return parse_calendar(text, zoneless_zone);
  }
  return parse_epoch_seconds(text);
}

ParsedTime parse_epoch_seconds(std::string_view decimal) {
  if (decimal.empty()) {
    return failure(TimeError::Empty);
  }
  std::size_t pos = 0;
  const bool negative = decimal[pos] == '-';
  if (negative || decimal[pos] == '+') {
    ++pos;
  }

  // The significant digits, integer part without leading zeros first, and
  // the position of the decimal point among them. Only the digits up to the
  // sixth after the point matter, so later ones are counted but not kept.
  std::array<char, 32> digits{};
  std::size_t digit_count = 0;
  std::int64_t point = 0;
  bool any_digit = false;
  const auto keep = [&](char c) {
    if (digit_count < digits.size()) {
      digits[digit_count] = c;
    }
    ++digit_count;
  };
  for (; pos < decimal.size() && is_digit(decimal[pos]); ++pos) {
    any_digit = true;
    if (digit_count == 0 && decimal[pos] == '0') {
      continue;
    }
    keep(decimal[pos]);
    ++point;
  }
  if (consume(decimal, pos, '.')) {
    for (; pos < decimal.size() && is_digit(decimal[pos]); ++pos) {
      any_digit = true;
      keep(decimal[pos]);
    }
  }
  if (!any_digit) {
    return failure(TimeError::Malformed);
  }
  if (pos < decimal.size() && (decimal[pos] == 'e' || decimal[pos] == 'E')) {
    ++pos;
    bool negative_exponent = false;
    if (pos < decimal.size() && (decimal[pos] == '-' || decimal[pos] == '+')) {
      negative_exponent = decimal[pos] == '-';
      ++pos;
    }
    const std::size_t first_exponent_digit = pos;
    std::int64_t exponent = 0;
    for (; pos < decimal.size() && is_digit(decimal[pos]); ++pos) {
      if (pos - first_exponent_digit >= kMaxExponentDigits) {
        return failure(TimeError::OutOfRange);
      }
      exponent = exponent * 10 + (decimal[pos] - '0');
    }
    if (pos == first_exponent_digit) {
      return failure(TimeError::Malformed);
    }
    point += negative_exponent ? -exponent : exponent;
  }
  if (pos != decimal.size()) {
    return failure(TimeError::Malformed);
  }
  if (point > kMaxEpochIntegerDigits) {
    return failure(TimeError::OutOfRange);
  }

  const auto digit_at = [&](std::int64_t index) -> int {
    if (index < 0 || static_cast<std::size_t>(index) >= std::min(digit_count, digits.size())) {
      return 0;
    }
    return digits[static_cast<std::size_t>(index)] - '0';
  };
  std::int64_t seconds = 0;
  for (std::int64_t index = 0; index < point; ++index) {
    seconds = seconds * 10 + digit_at(index);
  }
  std::int64_t fraction = 0;
  for (std::int64_t index = point; index < point + kFractionDigits; ++index) {
    fraction = fraction * 10 + digit_at(index);
  }
  const std::int64_t magnitude = seconds * kMicrosPerSecond + fraction;
  return in_range(negative ? -magnitude : magnitude, false);
}

ParsedTime epoch_seconds_from_double(double seconds) {
  if (!std::isfinite(seconds)) {
    return failure(TimeError::Malformed);
  }
  std::array<char, 64> text{};
  const std::to_chars_result written = std::to_chars(text.data(), text.data() + text.size(), seconds);
  if (written.ec != std::errc()) {
    return failure(TimeError::OutOfRange);
  }
  return parse_epoch_seconds(std::string_view(text.data(), static_cast<std::size_t>(written.ptr - text.data())));
}

void append_utc(std::int64_t utc_micros, std::string& out) {
  // parse() only returns times within years 0000-9999; clamping keeps the
  // text a valid RFC 3339 time for any other value a caller computes.
  const std::int64_t micros = std::clamp(utc_micros, kMinMicros, kMaxMicros);
  const std::int64_t seconds = floor_div(micros, kMicrosPerSecond);
  const std::int64_t fraction = micros - seconds * kMicrosPerSecond;
  const std::int64_t days = floor_div(seconds, kSecondsPerDay);
  const std::int64_t second_of_day = seconds - days * kSecondsPerDay;
  const date::year_month_day calendar_date{date::sys_days{date::days{days}}};

  std::array<char, 27> text{};
  const auto put = [&](std::size_t at, std::int64_t value, int width) {
    for (int index = width - 1; index >= 0; --index) {
      text[at + static_cast<std::size_t>(index)] = static_cast<char>('0' + value % 10);
      value /= 10;
    }
  };
  put(0, static_cast<int>(calendar_date.year()), 4);
  text[4] = '-';
  put(5, static_cast<unsigned>(calendar_date.month()), 2);
  text[7] = '-';
  put(8, static_cast<unsigned>(calendar_date.day()), 2);
  text[10] = 'T';
  put(11, second_of_day / 3600, 2);
  text[13] = ':';
  put(14, second_of_day / 60 % 60, 2);
  text[16] = ':';
  put(17, second_of_day % 60, 2);
  text[19] = '.';
  put(20, fraction, 6);
  text[26] = 'Z';
  out.append(text.data(), text.size());
}

std::string format_utc(std::int64_t utc_micros) {
  std::string text;
  append_utc(utc_micros, text);
  return text;
}

}  // namespace slipway::timestamp
