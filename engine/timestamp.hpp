// Parsing of every time form Slips writes into UTC microseconds since the
// Unix epoch, and formatting back to RFC 3339. Parsing never reads the
// process time zone (TZ) or the wall clock: a time without an offset is
// read in the zone the caller passes, so results depend only on the input
// and the configuration.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>

namespace date {
class time_zone;
}  // namespace date

namespace slipway::timestamp {

// A zone from the IANA database, used for times written without an offset.
class TimeZone {
 public:
  static TimeZone utc();
  // Finds a zone by its IANA name, such as "Europe/Prague"; nullopt when
  // the system time-zone database has no zone of that name. "UTC" never
  // needs the database.
  static std::optional<TimeZone> find(std::string_view iana_name);

  const std::string& name() const { return name_; }
  bool is_utc() const { return zone_ == nullptr; }

  // Converts local wall-clock microseconds (counted as if the local time
  // were UTC) to UTC microseconds. A local time that occurs twice when
  // clocks go back maps to its first occurrence. One skipped when clocks go
  // forward is read with the offset in force before the change.
  std::int64_t local_to_utc(std::int64_t local_micros) const;

 private:
  TimeZone(const date::time_zone* zone, std::string name) : zone_(zone), name_(std::move(name)) {}

  const date::time_zone* zone_ = nullptr;  // nullptr means UTC
  std::string name_;
};

enum class TimeError : std::uint8_t {
  None,
  Empty,          // no text at all
  Malformed,      // not one of the accepted forms
  InvalidDate,    // well formed, but no such day (month 13, February 30)
  InvalidTime,    // hour above 23, minute or second above 59
  InvalidOffset,  // UTC offset hours above 23 or minutes above 59
  OutOfRange,     // outside the years 0000 to 9999
};

// A short phrase for messages, e.g. "no such calendar date".
std::string_view describe(TimeError error);

struct ParsedTime {
  std::int64_t utc_micros = 0;
  // True when the text had no offset and the caller's zone was applied.
  bool default_zone_applied = false;
  TimeError error = TimeError::None;

  bool ok() const { return error == TimeError::None; }
};

// Parses text in any of these forms:
//   RFC 3339 / ISO 8601: 2024-04-09T10:00:00.5+02:00, with `T`, `t` or a
//     space between date and time, `Z`, `±HH:MM`, `±HHMM` or `±HH`, or no
//     offset at all;
//   Slips' own form: 2024/04/09 10:00:00.123456+0200, offset optional;
//   Unix epoch seconds as decimal text: 1712656800.123457.
// A fraction may have any number of digits: the first six are kept and the
// rest cut, never rounded, so a time never moves into the next microsecond.
// A second of 60 (a leap second) counts as the first second of the next
// minute, since Unix time has no leap seconds. Text without an offset is
// read in `zoneless_zone`.
ParsedTime parse(std::string_view text, const TimeZone& zoneless_zone);

// Parses Unix epoch seconds written in decimal, optionally with a sign and
// an exponent (`1.7126568001234e9`), using the digits as written so that
// .123457 stays .123457 instead of the nearest binary double.
ParsedTime parse_epoch_seconds(std::string_view decimal);

// Epoch seconds from a JSON number that is only available as a double:
// the shortest decimal text that reads back as the same double is parsed,
// which is the text a JSON writer such as Python's json module printed.
ParsedTime epoch_seconds_from_double(double seconds);

// Appends `YYYY-MM-DDTHH:MM:SS.ffffffZ`.
void append_utc(std::int64_t utc_micros, std::string& out);
std::string format_utc(std::int64_t utc_micros);

}  // namespace slipway::timestamp
