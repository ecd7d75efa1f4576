#include "engine/json_line.hpp"

#include <gtest/gtest.h>

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "engine/json.hpp"
#include "tests/support/temp_dir.hpp"

namespace slipway::json {
namespace {

using namespace std::string_literals;

const std::string kReplacement = "\xEF\xBF\xBD";  // U+FFFD in UTF-8

// Splits a JSON-lines file on LF; the empty piece after the last LF is no line.
std::vector<std::string> read_lines(const std::filesystem::path& path) {
  const std::string content = slipway::testing::read_file(path);
  std::vector<std::string> lines;
  std::size_t start = 0;
  while (start < content.size()) {
    std::size_t end = content.find('\n', start);
    if (end == std::string::npos) {
      end = content.size();
    }
    lines.push_back(content.substr(start, end - start));
    start = end + 1;
  }
  return lines;
}

// The text an input would pass on for an accepted line.
std::string_view output_text(const DecodedLine& decoded, std::string_view line) {
  return decoded.rewritten ? std::string_view(decoded.json) : line;
}

// Parses the output of an accepted line; the output must need no repair.
std::optional<Value> output_value(const DecodedLine& decoded, std::string_view line) {
  ParseResult parsed = parse(output_text(decoded, line));
  EXPECT_EQ(parsed.repairs, kRepairNone) << "decoder output still needs repairs";
  return std::move(parsed.value);
}

bool contains_encoded_surrogate(std::string_view text) {
  for (std::size_t index = 0; index + 1 < text.size(); ++index) {
    const auto byte = static_cast<unsigned char>(text[index]);
    const auto next = static_cast<unsigned char>(text[index + 1]);
    if (byte == 0xED && next >= 0xA0 && next <= 0xBF) {
      return true;
    }
  }
  return false;
}

std::vector<std::string> read_case_lines(std::string_view relative) {
  const std::filesystem::path path = slipway::testing::shared_path(relative);
  if (path.empty()) {
    return {};
  }
  return read_lines(path);
}

// A clean object is accepted as it is, without a copy.
TEST(JsonLineDecoderTest, AcceptsCleanObjectWithoutCopy) {
  LineDecoder decoder;
  const std::string line = R"(  {"a": [1, {"b": "\u00e9\ud83d\ude00"}], "c": {"a": 1}} )";

  const DecodedLine decoded = decoder.decode(line);

  EXPECT_EQ(decoded.kind, LineKind::Object);
  EXPECT_FALSE(decoded.rewritten);
  EXPECT_TRUE(decoded.json.empty());
  EXPECT_EQ(decoded.repairs, kRepairNone);
  EXPECT_TRUE(decoded.reason.empty());
}

// Empty lines and lines of spaces and tabs are blank.
TEST(JsonLineDecoderTest, ReportsBlankLines) {
  LineDecoder decoder;

  for (const std::string line : {"", " ", "\t", "  \t  "}) {
    const DecodedLine decoded = decoder.decode(line);
    EXPECT_EQ(decoded.kind, LineKind::Blank) << '"' << line << '"';
    EXPECT_TRUE(decoded.reason.empty());
  }
}

// A line containing a valid JSON value other than an object is rejected by type.
TEST(JsonLineDecoderTest, RejectsTopLevelArray) {
  LineDecoder decoder;

  const DecodedLine decoded = decoder.decode(R"([{"a": 1}, {"b": 2}])");

  EXPECT_EQ(decoded.kind, LineKind::Rejected);
  EXPECT_EQ(decoded.reason, "top-level value is an array; expected one JSON object per line");
}

// Each kind of top-level value is named in the reason.
TEST(JsonLineDecoderTest, RejectsEveryNonObjectValue) {
  LineDecoder decoder;
  const struct {
    std::string line;
    std::string type_name;
  } cases[] = {
      {"0", "a number"},      {"-3.5e2", "a number"}, {"true", "a boolean"},
      {"false", "a boolean"}, {"null", "null"},       {R"("text")", "a string"},
      {"[]", "an array"},     {"1e400", "a number"},  {"[\"\xE9\"]", "an array"},
  };
  for (const auto& test_case : cases) {
    const DecodedLine decoded = decoder.decode(test_case.line);
    EXPECT_EQ(decoded.kind, LineKind::Rejected) << test_case.line;
    EXPECT_EQ(decoded.reason,
              "top-level value is " + test_case.type_name + "; expected one JSON object per line");
  }
}

// Bytes after a complete object reject the whole line.
TEST(JsonLineDecoderTest, RejectsTrailingCharactersAfterObject) {
  LineDecoder decoder;

  const DecodedLine garbage = decoder.decode(R"({"a": 1} x)");
  const DecodedLine second = decoder.decode(R"({"a": 1}{"a": 1})");

  EXPECT_EQ(garbage.kind, LineKind::Rejected);
  EXPECT_EQ(garbage.reason, "trailing characters after the JSON object at byte 9");
  EXPECT_EQ(second.kind, LineKind::Rejected);
  EXPECT_EQ(second.reason, "trailing characters after the JSON object at byte 8");
}

// A line that merely starts with a number is not read as that number.
TEST(JsonLineDecoderTest, RejectsTextStartingWithNumber) {
  LineDecoder decoder;

  const DecodedLine decoded = decoder.decode("1434701105.727    86 192.0.2.7 TCP_MISS/204");

  EXPECT_EQ(decoded.kind, LineKind::Rejected);
  EXPECT_EQ(decoded.reason,
            "trailing characters after the top-level value at byte 18: the line starts with a number; "
            "expected one JSON object per line");
}

// Broken JSON is rejected with the parser's message and its byte offset.
TEST(JsonLineDecoderTest, RejectsInvalidJsonWithOffset) {
  LineDecoder decoder;

  const DecodedLine decoded = decoder.decode(R"({"a": "open)");

  EXPECT_EQ(decoded.kind, LineKind::Rejected);
  EXPECT_EQ(decoded.reason, "invalid JSON at byte 6: missing closing quote");
}

// A line with invalid UTF-8 and a syntax error is rejected, not repaired.
TEST(JsonLineDecoderTest, RejectsBrokenLineEvenIfRepairable) {
  LineDecoder decoder;

  const DecodedLine decoded = decoder.decode("{\"a\": \"caf\xE9\",}");

  EXPECT_EQ(decoded.kind, LineKind::Rejected);
  EXPECT_EQ(decoded.reason, "invalid JSON at byte 13: unexpected character '}'; expected '\"' to start a member name");
}

// Nesting beyond the decoder's limit is rejected with the limit in the reason.
TEST(JsonLineDecoderTest, RejectsNestingBeyondLimit) {
  LineDecoder decoder(3);

  EXPECT_EQ(decoder.decode(R"({"a":{"b":{}}})").kind, LineKind::Object);
  const DecodedLine deeper = decoder.decode(R"({"a":{"b":{"c":[]}}})");
  EXPECT_EQ(deeper.kind, LineKind::Rejected);
  EXPECT_EQ(deeper.reason, "nesting deeper than 3 levels at byte 15");
}

// A repaired line is rewritten and ends with the list of repairs made.
TEST(JsonLineDecoderTest, MarksRepairedLine) {
  LineDecoder decoder;

  const DecodedLine decoded = decoder.decode("{\"a\": \"caf\xE9\", \"n\": 1.50}");

  EXPECT_EQ(decoded.kind, LineKind::Object);
  EXPECT_TRUE(decoded.rewritten);
  EXPECT_EQ(decoded.repairs, kRepairInvalidUtf8);
  EXPECT_EQ(decoded.json, "{\"a\":\"caf" + kReplacement + "\",\"n\":1.50,\"slipway_repairs\":[\"invalid_utf8\"]}");
}

// All three repairs are listed in a fixed order, whatever order they occur in.
TEST(JsonLineDecoderTest, ListsRepairsInFixedOrder) {
  LineDecoder decoder;

  const DecodedLine decoded = decoder.decode("{\"a\": 1, \"a\": \"\\udc00\", \"b\": \"\xFF\"}");

  EXPECT_EQ(decoded.kind, LineKind::Object);
  EXPECT_EQ(decoded.repairs, kRepairInvalidUtf8 | kRepairLoneSurrogate | kRepairDuplicateKey);
  EXPECT_EQ(decoded.json, "{\"a\":\"" + kReplacement + "\",\"b\":\"" + kReplacement +
                              R"(","slipway_repairs":["invalid_utf8","lone_surrogate","duplicate_key"]})");
}

// A repeated name deep inside arrays is still found.
TEST(JsonLineDecoderTest, FindsDuplicateNameInNestedArray) {
  LineDecoder decoder;

  const DecodedLine decoded = decoder.decode(R"({"a": [[{"x": 1}], [{"y": 1, "y": 2}]]})");

  EXPECT_TRUE(decoded.rewritten);
  EXPECT_EQ(decoded.json, R"({"a":[[{"x":1}],[{"y":2}]],"slipway_repairs":["duplicate_key"]})");
}

// A repeated name in an object too large for the pairwise check is found.
TEST(JsonLineDecoderTest, FindsDuplicateNameInLargeObject) {
  LineDecoder decoder;
  std::string line = "{";
  for (int index = 0; index < 60; ++index) {
    line += "\"k" + std::to_string(index) + "\":" + std::to_string(index) + ",";
  }
  line += R"("k59":"last"})";

  const DecodedLine decoded = decoder.decode(line);

  EXPECT_TRUE(decoded.rewritten);
  EXPECT_EQ(decoded.repairs, kRepairDuplicateKey);
}

// A marker already in the line is replaced, so the output has one, at the end.
TEST(JsonLineDecoderTest, ReplacesExistingRepairsMember) {
  LineDecoder decoder;

  const DecodedLine decoded = decoder.decode(R"({"slipway_repairs": ["old"], "a": "\ud800"})");

  EXPECT_EQ(decoded.json, "{\"a\":\"" + kReplacement + R"(","slipway_repairs":["lone_surrogate"]})");
}

// Numbers outside the double range are valid JSON and pass through as written.
TEST(JsonLineDecoderTest, AcceptsOutOfRangeNumbersAsIs) {
  LineDecoder decoder;

  const DecodedLine decoded = decoder.decode(R"({"big": 123456789012345678901234567890, "huge": 1e400})");

  EXPECT_EQ(decoded.kind, LineKind::Object);
  EXPECT_FALSE(decoded.rewritten);
}

// One decoder handles a long run of mixed lines, including a 200 000-byte one.
TEST(JsonLineDecoderTest, DecodesMixedLinesInSequence) {
  LineDecoder decoder;
  const std::string long_line = R"({"pad": ")" + std::string(200'000, 'x') + R"("})";

  for (int round = 0; round < 3; ++round) {
    EXPECT_EQ(decoder.decode(R"({"a":1})").kind, LineKind::Object);
    EXPECT_EQ(decoder.decode("[1]").kind, LineKind::Rejected);
    EXPECT_EQ(decoder.decode(long_line).kind, LineKind::Object);
    EXPECT_TRUE(decoder.decode("{\"a\":\"\xE9\"}").rewritten);
    EXPECT_EQ(decoder.decode("").kind, LineKind::Blank);
  }
}

// Invalid UTF-8 in alert lines is replaced per maximal subpart and marked;
// clean lines, including valid multi-byte text, pass untouched.
TEST(JsonLineDecoderTest, RepairsInvalidUtf8Case) {
  const std::vector<std::string> lines = read_case_lines("cases/010-invalid-utf8/alerts.json");
  if (lines.empty()) {
    GTEST_SKIP() << "shared case 010-invalid-utf8 is not available";
  }
  ASSERT_EQ(lines.size(), 7u);
  const std::string expected[] = {
      "case 010 record 1 plain ascii",
      "case 010 record 2 caf" + kReplacement + " latin1 byte",
      "case 010 record 3 cut " + kReplacement + "end",
      "case 010 record 4 overlong " + kReplacement + kReplacement + " slash",
      "case 010 record 5 surrogate " + kReplacement + kReplacement + kReplacement + " cesu",
      "case 010 record 6 bad byte in key",
      "case 010 record 7 Brno \xE2\x80\x93 \xC4\x8C" "esko \xE2\x9C\x93 \xF0\x9F\x99\x82",
  };

  LineDecoder decoder;
  for (std::size_t record = 0; record < lines.size(); ++record) {
    SCOPED_TRACE("record " + std::to_string(record + 1));
    const DecodedLine decoded = decoder.decode(lines[record]);
    ASSERT_EQ(decoded.kind, LineKind::Object) << decoded.reason;
    EXPECT_TRUE(is_valid_utf8(output_text(decoded, lines[record])));

    const bool repaired = record >= 1 && record <= 5;
    EXPECT_EQ(decoded.rewritten, repaired);
    EXPECT_EQ(decoded.repairs, repaired ? kRepairInvalidUtf8 : kRepairNone);

    const std::optional<Value> value = output_value(decoded, lines[record]);
    ASSERT_TRUE(value.has_value());
    const std::string field = record == 5 ? "Comment" + kReplacement : "Description";
    ASSERT_NE(value->find(field), nullptr) << field;
    EXPECT_EQ(value->find(field)->as_string(), expected[record]);
    const Value* marker = value->find(kRepairsMember);
    if (repaired) {
      ASSERT_NE(marker, nullptr);
      EXPECT_EQ(to_string(*marker), R"(["invalid_utf8"])");
      EXPECT_EQ(value->members().back().first, kRepairsMember);
    } else {
      EXPECT_EQ(marker, nullptr);
    }
  }
}

// Escaped surrogate pairs decode to one code point; lone or reversed halves
// become U+FFFD and are marked, and no output contains an encoded surrogate.
TEST(JsonLineDecoderTest, DecodesEscapedSurrogatesCase) {
  const std::vector<std::string> lines = read_case_lines("cases/012-json-escaped-surrogates/alerts.json");
  if (lines.empty()) {
    GTEST_SKIP() << "shared case 012-json-escaped-surrogates is not available";
  }
  ASSERT_EQ(lines.size(), 8u);
  const std::string expected[] = {
      "case 012 record 1 pair:\xF0\x9F\xA4\x97:end",
      "case 012 record 2 upper hex pair:\xF0\x9F\x98\x80:end",
      "case 012 record 3 two pairs:\xF0\x9F\x87\xB8\xF0\x9F\x87\xBF:end",
      "case 012 record 4 lone high:" + kReplacement + "x:end",
      "case 012 record 5 lone low:" + kReplacement + ":end",
      "case 012 record 6 reversed:" + kReplacement + kReplacement + ":end",
      "case 012 record 7 high at end:" + kReplacement,
      "case 012 record 8 bmp escapes:\xC3\xA9\xE2\x80\x93\0:end"s,
  };

  LineDecoder decoder;
  for (std::size_t record = 0; record < lines.size(); ++record) {
    SCOPED_TRACE("record " + std::to_string(record + 1));
    const DecodedLine decoded = decoder.decode(lines[record]);
    ASSERT_EQ(decoded.kind, LineKind::Object) << decoded.reason;
    const std::string_view output = output_text(decoded, lines[record]);
    EXPECT_TRUE(is_valid_utf8(output));
    EXPECT_FALSE(contains_encoded_surrogate(output));

    const bool repaired = record >= 3 && record <= 6;
    EXPECT_EQ(decoded.rewritten, repaired);
    EXPECT_EQ(decoded.repairs, repaired ? kRepairLoneSurrogate : kRepairNone);

    const std::optional<Value> value = output_value(decoded, lines[record]);
    ASSERT_TRUE(value.has_value());
    ASSERT_NE(value->find("Description"), nullptr);
    const std::string& description = value->find("Description")->as_string();
    EXPECT_EQ(description, expected[record]);
    EXPECT_FALSE(contains_encoded_surrogate(description));
    const Value* marker = value->find(kRepairsMember);
    if (repaired) {
      ASSERT_NE(marker, nullptr);
      EXPECT_EQ(to_string(*marker), R"(["lone_surrogate"])");
    } else {
      EXPECT_EQ(marker, nullptr);
    }
  }
}

// For repeated member names the last value wins at every level, and the
// output has unique names.
TEST(JsonLineDecoderTest, CollapsesDuplicateKeysCase) {
  const std::vector<std::string> lines = read_case_lines("cases/013-json-duplicate-keys/alerts.json");
  if (lines.empty()) {
    GTEST_SKIP() << "shared case 013-json-duplicate-keys is not available";
  }
  ASSERT_EQ(lines.size(), 4u);

  LineDecoder decoder;
  std::vector<Value> values;
  for (std::size_t record = 0; record < lines.size(); ++record) {
    SCOPED_TRACE("record " + std::to_string(record + 1));
    const DecodedLine decoded = decoder.decode(lines[record]);
    ASSERT_EQ(decoded.kind, LineKind::Object) << decoded.reason;
    EXPECT_TRUE(decoded.rewritten);
    EXPECT_EQ(decoded.repairs, kRepairDuplicateKey);

    // Parsing the output again finds nothing to collapse.
    const ParseResult reparsed = parse(decoded.json);
    ASSERT_TRUE(reparsed.value.has_value()) << reparsed.error;
    EXPECT_EQ(reparsed.repairs, kRepairNone);
    EXPECT_EQ(to_string(*reparsed.value->find(kRepairsMember)), R"(["duplicate_key"])");
    values.push_back(*reparsed.value);
  }

  EXPECT_EQ(to_string(*values[0].find("Category")), R"(["Attempt.Login"])");
  EXPECT_EQ(to_string(*values[1].at_path("Source[0].IP4")), R"(["192.0.2.2"])");
  EXPECT_EQ(values[1].at_path("Source[0].IP4[0]")->as_string(), "192.0.2.2");
  EXPECT_EQ(to_string(*values[2].find("Note")), R"({"threat_level":"high","dup":true})");
  EXPECT_EQ(values[3].find("Description")->as_string(), "case 013 record 4");
  std::size_t descriptions = 0;
  for (const auto& member : values[3].members()) {
    descriptions += member.first == "Description" ? 1 : 0;
  }
  EXPECT_EQ(descriptions, 1u);
}

// Of a file mixing alerts with non-objects, broken JSON and hostile lines,
// only the two alerts are accepted. Blank lines are skipped, and every other
// line is rejected whole with a reason.
TEST(JsonLineDecoderTest, SortsHostileLinesCase) {
  const std::vector<std::string> lines =
      read_case_lines("cases/015-json-non-object-and-hostile-lines/alerts.json");
  if (lines.empty()) {
    GTEST_SKIP() << "shared case 015-json-non-object-and-hostile-lines is not available";
  }
  ASSERT_EQ(lines.size(), 15u);
  const std::string kNotObject = "; expected one JSON object per line";
  const struct {
    LineKind kind;
    std::string reason;
  } expected[] = {
      {LineKind::Object, ""},
      {LineKind::Rejected, "top-level value is an array" + kNotObject},
      {LineKind::Rejected, "top-level value is a number" + kNotObject},
      {LineKind::Rejected,
       "trailing characters after the top-level value at byte 18: the line starts with a number" + kNotObject},
      {LineKind::Rejected, "top-level value is a boolean" + kNotObject},
      {LineKind::Rejected, "top-level value is null" + kNotObject},
      {LineKind::Rejected, "top-level value is a string" + kNotObject},
      {LineKind::Blank, ""},
      {LineKind::Blank, ""},
      {LineKind::Rejected, "invalid JSON at byte 116: missing closing quote"},
      {LineKind::Rejected, "top-level value is an array" + kNotObject},
      {LineKind::Rejected, "nesting deeper than 128 levels at byte 128"},
      {LineKind::Rejected, "trailing characters after the JSON object at byte 403"},
      {LineKind::Rejected, "trailing characters after the JSON object at byte 402"},
      {LineKind::Object, ""},
  };

  LineDecoder decoder;
  for (std::size_t line_idx = 0; line_idx < lines.size(); ++line_idx) {
    SCOPED_TRACE("line " + std::to_string(line_idx + 1));
    const DecodedLine decoded = decoder.decode(lines[line_idx]);
    EXPECT_EQ(decoded.kind, expected[line_idx].kind);
    EXPECT_EQ(decoded.reason, expected[line_idx].reason);
    EXPECT_FALSE(decoded.rewritten);
  }
  EXPECT_EQ(parse(lines[14]).value->find("Description")->as_string(), "case 015 record 2");
}

}  // namespace
}  // namespace slipway::json
