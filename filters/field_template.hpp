// Templates for values that filters write, e.g. in modify's `set`:
//
//   "{{ Source[0].IP4[0] }}"               the value at a field path
//   "seen by {{ Analyzer.Name }}"          text around placeholders
//   "{{ now | %Y-%m-%dT%H:%M:%SZ }}"       the current time, formatted
//   "{{ DetectTime | %Y-%m-%d }}"          a time field, reformatted
//
// A placeholder is `{{ PATH }}` or `{{ PATH | FORMAT }}`; spaces inside the
// braces are optional. `now` is the current time, never a field named
// "now". A template that is one placeholder and nothing else yields the
// value with its JSON type, so a number stays a number. Any other template
// yields a string, in which strings appear without quotes and other values
// as compact JSON. There is no escape: `{{` always opens a placeholder.
//
// FORMAT renders a time in UTC. The time is read from a string in any form
// timestamp::parse accepts (RFC 3339, Slips' own, epoch seconds) or from a
// number of epoch seconds. Conversions: %Y year, %m month, %d day, %H hour,
// %M minute, %S second, %f microseconds (6 digits), %j day of the year,
// %s epoch seconds, %z "+0000", %Z "UTC", %F = %Y-%m-%d, %T = %H:%M:%S,
// %% a percent sign. Without a FORMAT, `now` is written as RFC 3339 with
// microseconds, e.g. 2024-04-09T10:00:00.000000Z.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "engine/json.hpp"
#include "filters/condition.hpp"
#include "filters/field_path.hpp"

namespace slipway::filters {

class FieldTemplate {
 public:
  // Parses `text`; on failure returns nullopt and sets `error` to the
  // reason, e.g. "placeholder \"{{ Source\" is not closed with \"}}\"".
  static std::optional<FieldTemplate> parse(std::string_view text, std::string& error);

  // Renders the value for `event`. Returns nullopt, counted in `counters`,
  // when a referenced field is missing or a FORMAT meets a value that is
  // not a time. `now_micros` is the current time in UTC microseconds.
  std::optional<json::Value> render(const json::Value& event, std::int64_t now_micros,
                                    MatchCounters& counters) const;

  // True when the template has no placeholders, so render() always
  // returns the same string.
  bool is_constant() const;
  // True when a placeholder reads the top-level member `name` or below it.
  bool reads_member(std::string_view name) const;
  // Appends the top-level member names the placeholders read.
  void add_top_level_names(std::vector<std::string>& names) const;

  struct Conversion {
    char code = 0;         // a conversion letter, or 0 for literal text
    std::string literal;  // for code 0
  };

  struct Piece {
    std::string literal;               // text outside placeholders
    std::optional<FieldPath> path;     // a field placeholder
    bool now = false;                  // a `now` placeholder
    std::optional<std::vector<Conversion>> time_format;
  };

 private:
  std::vector<Piece> pieces_;
};

// Appends `utc_micros` formatted by `format` (see FORMAT above).
void append_time(std::int64_t utc_micros, const std::vector<FieldTemplate::Conversion>& format, std::string& out);

}  // namespace slipway::filters
