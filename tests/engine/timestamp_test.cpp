#include "engine/timestamp.hpp"

#include <cstdlib>
#include <ctime>
#include <optional>
#include <string>
#include <vector>

#include <gtest/gtest.h>

namespace slipway::timestamp {
namespace {

// How a row gives its time: as JSON string text or as a JSON number.
enum class Written { Text, Number };

struct Row {
  int record;
  Written written;
  std::string text;  // the string, or the number as written in the file
  std::string expected_utc;  // empty when the time must be rejected
  bool zone_defaulted;
};

// The DetectTime values of the timestamp field case (record 13 has only an
// EventTime, which is the value listed) and their normalized UTC times.
const std::vector<Row>& zone_rows() {
  static const std::vector<Row> rows = {
      {1, Written::Text, "2024-04-09T10:00:00.123456+00:00", "2024-04-09T10:00:00.123456Z", false},
      {2, Written::Text, "2024-04-09T10:00:00+00:00", "2024-04-09T10:00:00.000000Z", false},
      {3, Written::Text, "2024-04-09T12:00:00.5+02:00", "2024-04-09T10:00:00.500000Z", false},
      {4, Written::Text, "2024-04-09T10:00:00Z", "2024-04-09T10:00:00.000000Z", false},
      {5, Written::Text, "2024-04-09T10:00:00.123456789Z", "2024-04-09T10:00:00.123456Z", false},
      {6, Written::Text, "2024-04-09T08:30:00.000-0130", "2024-04-09T10:00:00.000000Z", false},
      {7, Written::Text, "2024-04-09T23:30:00-12:00", "2024-04-10T11:30:00.000000Z", false},
      {8, Written::Text, "2024/04/09 10:00:00.123456", "2024-04-09T10:00:00.123456Z", true},
      {9, Written::Number, "1712656800.123457", "2024-04-09T10:00:00.123457Z", false},
      {10, Written::Text, "1712656800.123457", "2024-04-09T10:00:00.123457Z", false},
      {11, Written::Text, "2024-02-29T10:00:00Z", "2024-02-29T10:00:00.000000Z", false},
      {12, Written::Text, "2024-13-45T99:00:00Z", "", false},
      {13, Written::Text, "2024-04-09T10:00:13.000001+00:00", "2024-04-09T10:00:13.000001Z", false},
  };
  return rows;
}

ParsedTime parse_row(const Row& row, const TimeZone& zone) {
  if (row.written == Written::Number) {
    return epoch_seconds_from_double(std::stod(row.text));
  }
  return parse(row.text, zone);
}

std::optional<std::string> utc_text(std::string_view text, const TimeZone& zone = TimeZone::utc()) {
  const ParsedTime parsed = parse(text, zone);
  if (!parsed.ok()) {
    return std::nullopt;
  }
  return format_utc(parsed.utc_micros);
}

TimeZone prague() {
  const std::optional<TimeZone> zone = TimeZone::find("Europe/Prague");
  EXPECT_TRUE(zone.has_value()) << "the IANA zone Europe/Prague is missing; install tzdata";
  return zone.value_or(TimeZone::utc());
}

// Sets TZ for the lifetime of the object and restores the previous value.
class ScopedTz {
 public:
  explicit ScopedTz(const char* value) {
    if (const char* previous = std::getenv("TZ"); previous != nullptr) {
      previous_ = previous;
    }
    ::setenv("TZ", value, 1);
    ::tzset();
  }
  ~ScopedTz() {
    if (previous_) {
      ::setenv("TZ", previous_->c_str(), 1);
    } else {
      ::unsetenv("TZ");
    }
    ::tzset();
  }
  ScopedTz(const ScopedTz&) = delete;
  ScopedTz& operator=(const ScopedTz&) = delete;

 private:
  std::optional<std::string> previous_;
};

// Every row of the field case normalizes exactly, and only the zone-less row is tagged.
TEST(TimestampTest, NormalizesFieldCaseRowsInUtc) {
  for (const Row& row : zone_rows()) {
    SCOPED_TRACE("record " + std::to_string(row.record) + ": " + row.text);
    const ParsedTime parsed = parse_row(row, TimeZone::utc());
    if (row.expected_utc.empty()) {
      EXPECT_FALSE(parsed.ok());
      continue;
    }
    ASSERT_TRUE(parsed.ok()) << describe(parsed.error);
    EXPECT_EQ(format_utc(parsed.utc_micros), row.expected_utc);
    EXPECT_EQ(parsed.default_zone_applied, row.zone_defaulted);
  }
}

// With Europe/Prague for zone-less times only the zone-less row moves, by the CEST offset.
TEST(TimestampTest, ZonelessDefaultChangesOnlyZonelessRow) {
  const TimeZone zone = prague();
  for (const Row& row : zone_rows()) {
    SCOPED_TRACE("record " + std::to_string(row.record) + ": " + row.text);
    const ParsedTime parsed = parse_row(row, zone);
    if (row.expected_utc.empty()) {
      EXPECT_FALSE(parsed.ok());
      continue;
    }
    ASSERT_TRUE(parsed.ok()) << describe(parsed.error);
    const std::string expected = row.record == 8 ? "2024-04-09T08:00:00.123456Z" : row.expected_utc;
    EXPECT_EQ(format_utc(parsed.utc_micros), expected);
  }
}

// The process TZ variable never changes a result, whatever zone it names.
TEST(TimestampTest, IgnoresProcessTimeZone) {
  const TimeZone zone = prague();
  std::vector<std::string> reference;
  {
    ScopedTz tz("UTC");
    for (const Row& row : zone_rows()) {
      const ParsedTime parsed = parse_row(row, zone);
      reference.push_back(parsed.ok() ? format_utc(parsed.utc_micros) : "rejected");
    }
  }
  for (const char* process_zone : {"Europe/Prague", "America/New_York", "Asia/Kolkata"}) {
    ScopedTz tz(process_zone);
    for (std::size_t index = 0; index < zone_rows().size(); ++index) {
      const ParsedTime parsed = parse_row(zone_rows()[index], zone);
      EXPECT_EQ(parsed.ok() ? format_utc(parsed.utc_micros) : "rejected", reference[index])
          << "TZ=" << process_zone << " record " << zone_rows()[index].record;
    }
  }
}

// A double converted by truncation would give .123456; the digits as written give .123457.
TEST(TimestampTest, EpochKeepsDecimalDigitsAsWritten) {
  EXPECT_EQ(format_utc(parse_epoch_seconds("1712656800.123457").utc_micros), "2024-04-09T10:00:00.123457Z");
  EXPECT_EQ(format_utc(epoch_seconds_from_double(1712656800.123457).utc_micros), "2024-04-09T10:00:00.123457Z");
  EXPECT_EQ(format_utc(parse_epoch_seconds("1712656800.1234579999").utc_micros), "2024-04-09T10:00:00.123457Z");
  EXPECT_EQ(format_utc(parse_epoch_seconds("1712656800").utc_micros), "2024-04-09T10:00:00.000000Z");
  EXPECT_EQ(format_utc(parse_epoch_seconds("1.7126568001234570e9").utc_micros), "2024-04-09T10:00:00.123457Z");
  EXPECT_EQ(format_utc(parse_epoch_seconds("0.000001").utc_micros), "1970-01-01T00:00:00.000001Z");
  EXPECT_EQ(format_utc(parse_epoch_seconds("1e-06").utc_micros), "1970-01-01T00:00:00.000001Z");
  EXPECT_EQ(format_utc(parse_epoch_seconds("13.676697").utc_micros), "1970-01-01T00:00:13.676697Z");
}

// Epoch seconds before 1970 format with the right date and a positive fraction.
TEST(TimestampTest, FormatsTimesBeforeEpoch) {
  EXPECT_EQ(format_utc(parse_epoch_seconds("-1.5").utc_micros), "1969-12-31T23:59:58.500000Z");
  EXPECT_EQ(utc_text("1969-12-31T23:59:59.999999Z"), "1969-12-31T23:59:59.999999Z");
}

// Milliseconds or other non-second epochs land after the year 9999 and are rejected, not misread.
TEST(TimestampTest, RejectsEpochBeyondYear9999) {
  EXPECT_EQ(parse_epoch_seconds("1712656800123").error, TimeError::OutOfRange);
  EXPECT_EQ(parse_epoch_seconds("1e20").error, TimeError::OutOfRange);
  EXPECT_EQ(parse("0000-01-01T00:00:00+01:00", TimeZone::utc()).error, TimeError::OutOfRange);
}

// Each offset spelling and the Slips form with an offset give the same instant.
TEST(TimestampTest, AcceptsOffsetSpellings) {
  const std::string expected = "2024-04-09T10:00:00.000000Z";
  EXPECT_EQ(utc_text("2024-04-09T12:00:00+02:00"), expected);
  EXPECT_EQ(utc_text("2024-04-09T12:00:00+0200"), expected);
  EXPECT_EQ(utc_text("2024-04-09T12:00:00+02"), expected);
  EXPECT_EQ(utc_text("2024-04-09t10:00:00z"), expected);
  EXPECT_EQ(utc_text("2024-04-09 10:00:00Z"), expected);
  EXPECT_EQ(utc_text("2024/04/09 12:00:00.000000+0200"), expected);
  EXPECT_EQ(utc_text("2024-04-09T10:00:00,0Z"), expected);
}

// Calendar and clock values that do not exist are rejected with the reason.
TEST(TimestampTest, RejectsInvalidDatesAndTimes) {
  EXPECT_EQ(parse("2024-13-01T10:00:00Z", TimeZone::utc()).error, TimeError::InvalidDate);
  EXPECT_EQ(parse("2023-02-29T10:00:00Z", TimeZone::utc()).error, TimeError::InvalidDate);
  EXPECT_EQ(parse("2024-02-30T10:00:00Z", TimeZone::utc()).error, TimeError::InvalidDate);
  EXPECT_EQ(parse("2024-04-00T10:00:00Z", TimeZone::utc()).error, TimeError::InvalidDate);
  EXPECT_EQ(parse("2024-04-09T99:00:00Z", TimeZone::utc()).error, TimeError::InvalidTime);
  EXPECT_EQ(parse("2024-04-09T10:60:00Z", TimeZone::utc()).error, TimeError::InvalidTime);
  EXPECT_EQ(parse("2024-04-09T10:00:00+24:00", TimeZone::utc()).error, TimeError::InvalidOffset);
}

// Text that is not one of the accepted forms is rejected, never partly read.
TEST(TimestampTest, RejectsMalformedText) {
  for (const char* text : {"2024-04-09", "2024-04-09T10:00", "2024-04-09T10:00:00Zjunk", "2024-04-09T10:00:00.Z",
                           "2024-04-09T10:00:00+02:", "2024-04/09 10:00:00", "yesterday", "12:00", "1.2.3", "--1",
                           "1e", "."}) {
    EXPECT_EQ(parse(text, TimeZone::utc()).error, TimeError::Malformed) << text;
  }
  EXPECT_EQ(parse("", TimeZone::utc()).error, TimeError::Empty);
}

// A leap second counts as the first second of the next minute.
TEST(TimestampTest, RollsLeapSecondForward) {
  EXPECT_EQ(utc_text("2016-12-31T23:59:60Z"), "2017-01-01T00:00:00.000000Z");
}

// Around a daylight-saving change a repeated hour takes its first occurrence and a skipped one the old offset.
TEST(TimestampTest, ResolvesDaylightSavingEdges) {
  const TimeZone zone = prague();
  // 2024-10-27 02:30 occurs twice in Prague: first at 00:30Z (CEST), then at 01:30Z (CET).
  EXPECT_EQ(utc_text("2024/10/27 02:30:00", zone), "2024-10-27T00:30:00.000000Z");
  // 2024-03-31 02:30 does not exist in Prague; read with CET (+01:00) as before the change.
  EXPECT_EQ(utc_text("2024/03/31 02:30:00", zone), "2024-03-31T01:30:00.000000Z");
  EXPECT_EQ(utc_text("2024/01/15 12:00:00", zone), "2024-01-15T11:00:00.000000Z");
}

// Zone names are looked up in the IANA database; an unknown one is reported as missing.
TEST(TimestampTest, FindsOnlyKnownZones) {
  EXPECT_TRUE(TimeZone::find("UTC").has_value());
  EXPECT_TRUE(TimeZone::find("UTC")->is_utc());
  EXPECT_TRUE(TimeZone::find("Europe/Prague").has_value());
  EXPECT_FALSE(TimeZone::find("Europe/Atlantis").has_value());
  EXPECT_FALSE(TimeZone::find("").has_value());
}

}  // namespace
}  // namespace slipway::timestamp
