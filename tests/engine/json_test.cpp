#include "engine/json.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <initializer_list>
#include <iterator>
#include <limits>
#include <random>
#include <string>

namespace slipway::json {
namespace {

using namespace std::string_literals;

const std::string kReplacement = "\xEF\xBF\xBD";  // U+FFFD in UTF-8

Value parse_ok(std::string_view text) {
  ParseResult result = parse(text);
  EXPECT_TRUE(result.value.has_value()) << "parse failed at byte " << result.error_offset << ": "
                                        << result.error << "\ninput: " << text;
  return result.value ? std::move(*result.value) : Value();
}

std::string parsed_string(std::string_view text) {
  const Value value = parse_ok(text);
  EXPECT_TRUE(value.is_string()) << text;
  return value.as_string();
}

// A document's members keep source order and every kind of value is read.
TEST(JsonParseTest, ReadsNestedDocumentInOrder) {
  const Value value = parse_ok(R"( {"b": [true, false, null], "a": {"x": "y"}, "n": -12.5e3} )");

  ASSERT_TRUE(value.is_object());
  ASSERT_EQ(value.members().size(), 3u);
  EXPECT_EQ(value.members()[0].first, "b");
  EXPECT_EQ(value.members()[1].first, "a");
  EXPECT_EQ(value.members()[2].first, "n");
  const Value& items = value.members()[0].second;
  ASSERT_TRUE(items.is_array());
  ASSERT_EQ(items.items().size(), 3u);
  EXPECT_TRUE(items.items()[0].as_bool());
  EXPECT_TRUE(items.items()[1].is_bool());
  EXPECT_FALSE(items.items()[1].as_bool());
  EXPECT_TRUE(items.items()[2].is_null());
  EXPECT_EQ(value.find("a")->find("x")->as_string(), "y");
  EXPECT_EQ(value.find("n")->number_text(), "-12.5e3");
}

// Numbers keep their source text digit for digit, including values that no
// double or 64-bit integer can hold.
TEST(JsonParseTest, KeepsNumberTextAsWritten) {
  for (const std::string text :
       {"1.0", "1712656800.123457", "-0", "1E5", "2e-7", "0.10", "123456789012345678901234567890", "1e400"}) {
    const Value value = parse_ok(text);
    ASSERT_TRUE(value.is_number()) << text;
    EXPECT_EQ(value.number_text(), text);
    EXPECT_EQ(to_string(value), text);
  }
}

// Only the JSON number grammar is accepted.
TEST(JsonParseTest, RejectsInvalidNumbers) {
  for (const std::string text : {"01", "-", "1.", "1e", "1e+", ".5", "+1", "-a", "0x10"}) {
    const ParseResult result = parse(text);
    EXPECT_FALSE(result.value.has_value()) << text;
    EXPECT_FALSE(result.error.empty()) << text;
  }
}

// Anything but white space after the value is an error, reported where it starts.
TEST(JsonParseTest, RejectsTrailingCharacters) {
  const ParseResult result = parse(R"({"a":1} x)");

  EXPECT_FALSE(result.value.has_value());
  EXPECT_EQ(result.error, "trailing characters after the JSON value");
  EXPECT_EQ(result.error_offset, 8u);
}

// Two values back to back are not one value.
TEST(JsonParseTest, RejectsSecondValue) {
  const ParseResult result = parse(R"({"a":1}{"a":1})");

  EXPECT_FALSE(result.value.has_value());
  EXPECT_EQ(result.error, "trailing characters after the JSON value");
  EXPECT_EQ(result.error_offset, 7u);
}

// White space around the value is allowed.
TEST(JsonParseTest, AcceptsSurroundingWhitespace) {
  EXPECT_EQ(parse_ok(" \t\r\n[1] \r\n\t"), parse_ok("[1]"));
}

// An unterminated string is reported at its opening quote.
TEST(JsonParseTest, ReportsMissingClosingQuote) {
  const ParseResult result = parse(R"({"a": "bc)");

  EXPECT_FALSE(result.value.has_value());
  EXPECT_EQ(result.error, "missing closing quote");
  EXPECT_EQ(result.error_offset, 6u);
}

// A character that cannot start a value is named in the message.
TEST(JsonParseTest, ReportsUnexpectedCharacter) {
  const ParseResult result = parse(R"({"a": x})");

  EXPECT_FALSE(result.value.has_value());
  EXPECT_EQ(result.error, "unexpected character 'x'; expected a JSON value");
  EXPECT_EQ(result.error_offset, 6u);
}

// A byte that is not printable ASCII is shown in hex.
TEST(JsonParseTest, ReportsUnexpectedByteInHex) {
  const ParseResult result = parse("[\xE9]");

  EXPECT_FALSE(result.value.has_value());
  EXPECT_EQ(result.error, "unexpected byte 0xe9; expected a JSON value");
  EXPECT_EQ(result.error_offset, 1u);
}

// Input that stops inside a container is reported as cut short.
TEST(JsonParseTest, ReportsUnexpectedEnd) {
  const ParseResult result = parse(R"({"a": [1, 2)");

  EXPECT_FALSE(result.value.has_value());
  EXPECT_EQ(result.error, "unexpected end of input; expected ',' or ']' after an array element");
  EXPECT_EQ(result.error_offset, 11u);
}

// Empty input contains no value.
TEST(JsonParseTest, RejectsEmptyInput) {
  for (const std::string text : {"", "  \t"}) {
    const ParseResult result = parse(text);
    EXPECT_FALSE(result.value.has_value());
    EXPECT_EQ(result.error, "unexpected end of input; expected a value");
  }
}

// Separators must sit between elements, never before the end.
TEST(JsonParseTest, RejectsMisplacedSeparators) {
  for (const std::string text : {"[1,]", "[,1]", R"({"a":1,})", R"({,"a":1})", "[1 2]", R"({"a" 1})",
                                 R"({"a":1 "b":2})", "{1:2}", "[", "{"}) {
    EXPECT_FALSE(parse(text).value.has_value()) << text;
  }
}

// true, false and null must be spelled out in full.
TEST(JsonParseTest, RejectsInvalidLiteral) {
  const ParseResult result = parse("[tru]");

  EXPECT_FALSE(result.value.has_value());
  EXPECT_EQ(result.error, "invalid literal; expected true");
  EXPECT_EQ(result.error_offset, 1u);
}

// Raw control characters are not allowed inside strings.
TEST(JsonParseTest, RejectsUnescapedControlCharacter) {
  const ParseResult result = parse("\"a\tb\"");

  EXPECT_FALSE(result.value.has_value());
  EXPECT_EQ(result.error, "unescaped control character in a string");
  EXPECT_EQ(result.error_offset, 2u);
}

// Only the escapes JSON defines are accepted.
TEST(JsonParseTest, RejectsUnknownEscape) {
  const ParseResult result = parse(R"("a\qb")");

  EXPECT_FALSE(result.value.has_value());
  EXPECT_EQ(result.error, "invalid escape sequence '\\q'");
  EXPECT_EQ(result.error_offset, 2u);

  EXPECT_FALSE(parse(R"("\u12G4")").value.has_value());
  EXPECT_FALSE(parse(R"("\u12)").value.has_value());
}

// Every simple escape decodes to its character.
TEST(JsonParseTest, DecodesSimpleEscapes) {
  EXPECT_EQ(parsed_string(R"("\"\\\/\b\f\n\r\t")"), "\"\\/\b\f\n\r\t");
}

// An escaped surrogate pair becomes one code point in four UTF-8 bytes.
TEST(JsonParseTest, DecodesSurrogatePair) {
  const ParseResult result = parse(R"("a\ud83e\udd17b\uD83D\uDE00")");

  ASSERT_TRUE(result.value.has_value());
  EXPECT_EQ(result.value->as_string(), "a\xF0\x9F\xA4\x97" "b\xF0\x9F\x98\x80");
  EXPECT_EQ(result.repairs, kRepairNone);
}

// A surrogate escape without its partner becomes U+FFFD and never an
// encoded surrogate; a following escape is decoded on its own.
TEST(JsonParseTest, ReplacesLoneSurrogates) {
  const struct {
    std::string input;
    std::string expected;
  } cases[] = {
      {R"("\ud83dx")", kReplacement + "x"},
      {R"("\ude00")", kReplacement},
      {R"("\ude00\ud83d")", kReplacement + kReplacement},
      {R"("\ud83d")", kReplacement},
      {R"("\ud83d\ud83d\ude00")", kReplacement + "\xF0\x9F\x98\x80"},
      {R"("\ud83d\u0041")", kReplacement + "A"},
      {R"("\ud83d\n")", kReplacement + "\n"},
  };
  for (const auto& test_case : cases) {
    const ParseResult result = parse(test_case.input);
    ASSERT_TRUE(result.value.has_value()) << test_case.input;
    EXPECT_EQ(result.value->as_string(), test_case.expected) << test_case.input;
    EXPECT_EQ(result.repairs, kRepairLoneSurrogate) << test_case.input;
  }
}

// \u0000 stays in the value as a NUL byte instead of ending it.
TEST(JsonParseTest, KeepsEscapedNul) {
  const std::string value = parsed_string(R"("a\u0000b\u00e9\u2013")");

  EXPECT_EQ(value, "a\0b\xC3\xA9\xE2\x80\x93"s);
  EXPECT_EQ(to_string(Value::string(value)), R"("a\u0000bé–")");
}

// Raw bytes that are not UTF-8 become one U+FFFD per maximal subpart, in
// values and in member names, with or without escapes nearby.
TEST(JsonParseTest, ReplacesInvalidUtf8) {
  const struct {
    std::string input;
    std::string expected;
  } cases[] = {
      {"\"caf\xE9 x\"", "caf" + kReplacement + " x"},
      {"\"cut \xE4\xB8" "end\"", "cut " + kReplacement + "end"},
      {"\"\xC0\xAF\"", kReplacement + kReplacement},
      {"\"\xED\xA0\x80\"", kReplacement + kReplacement + kReplacement},
      {"\"\\n\xE9\\t\"", "\n" + kReplacement + "\t"},
      {"\"\xF0\x9F\x99\\n\"", kReplacement + "\n"},
  };
  for (const auto& test_case : cases) {
    const ParseResult result = parse(test_case.input);
    ASSERT_TRUE(result.value.has_value()) << test_case.input;
    EXPECT_EQ(result.value->as_string(), test_case.expected) << test_case.input;
    EXPECT_EQ(result.repairs, kRepairInvalidUtf8) << test_case.input;
  }

  const ParseResult name = parse("{\"Comment\xFF\": 1}");
  ASSERT_TRUE(name.value.has_value());
  EXPECT_EQ(name.value->members()[0].first, "Comment" + kReplacement);
  EXPECT_EQ(name.repairs, kRepairInvalidUtf8);
}

// Valid multi-byte UTF-8 passes through untouched.
TEST(JsonParseTest, KeepsValidUtf8) {
  const std::string text = "Brno \xE2\x80\x93 \xC4\x8C" "esko \xE2\x9C\x93 \xF0\x9F\x99\x82";
  const ParseResult result = parse("\"" + text + "\"");

  ASSERT_TRUE(result.value.has_value());
  EXPECT_EQ(result.value->as_string(), text);
  EXPECT_EQ(result.repairs, kRepairNone);
}

// For a repeated name the last value wins and sits where the name first appeared.
TEST(JsonParseTest, CollapsesDuplicateNames) {
  const ParseResult result = parse(R"({"a": 1, "b": {"x": 1, "x": [2]}, "a": "last", "c": 3})");

  ASSERT_TRUE(result.value.has_value());
  EXPECT_EQ(to_string(*result.value), R"({"a":"last","b":{"x":[2]},"c":3})");
  EXPECT_EQ(result.repairs, kRepairDuplicateKey);
}

// Objects too large for the pairwise check collapse repeats the same way.
TEST(JsonParseTest, CollapsesDuplicateNamesInLargeObject) {
  std::string text = "{";
  for (int index = 0; index < 100; ++index) {
    text += "\"k" + std::to_string(index) + "\":" + std::to_string(index) + ",";
  }
  text += R"("k7":"last"})";

  const ParseResult result = parse(text);

  ASSERT_TRUE(result.value.has_value());
  EXPECT_EQ(result.repairs, kRepairDuplicateKey);
  ASSERT_EQ(result.value->members().size(), 100u);
  EXPECT_EQ(result.value->members()[7].first, "k7");
  EXPECT_EQ(result.value->members()[7].second.as_string(), "last");
}

// Nesting up to the limit parses and one more level fails.
TEST(JsonParseTest, EnforcesDepthLimit) {
  ParseOptions options;
  options.max_depth = 4;

  EXPECT_TRUE(parse("[[[{}]]]", options).value.has_value());
  const ParseResult deeper = parse(R"([[[{"a":[]}]]])", options);
  EXPECT_FALSE(deeper.value.has_value());
  EXPECT_EQ(deeper.error, "nesting deeper than 4 levels");
  EXPECT_EQ(deeper.error_offset, 8u);
}

// A hostile line of 100 000 open brackets is rejected at the default limit
// without exhausting the stack.
TEST(JsonParseTest, RejectsHostileNesting) {
  const std::string text = std::string(100'000, '[') + std::string(100'000, ']');

  const ParseResult result = parse(text);

  EXPECT_FALSE(result.value.has_value());
  EXPECT_EQ(result.error, "nesting deeper than 128 levels");
  EXPECT_EQ(result.error_offset, 128u);
}

// Checks that validate() reports for `text` exactly what parse() reports.
void expect_validate_agrees(std::string_view text, const ParseOptions& options = {}) {
  const ParseResult parsed = parse(text, options);
  const ValidateResult checked = validate(text, options);

  ASSERT_EQ(checked.valid, parsed.value.has_value()) << text;
  EXPECT_EQ(checked.error, parsed.error) << text;
  EXPECT_EQ(checked.error_offset, parsed.error_offset) << text;
  EXPECT_EQ(checked.repairs, parsed.repairs) << text;
  if (parsed.value) {
    EXPECT_EQ(checked.type, parsed.value->type()) << text;
  }
}

// validate() gives the type, the repairs parse() would make, or its error.
TEST(JsonValidateTest, ReportsWhatParseReports) {
  const ValidateResult clean = validate(R"({"a": [1, "x\n"], "b": {"c": null}})");
  EXPECT_TRUE(clean.valid);
  EXPECT_EQ(clean.type, Type::Object);
  EXPECT_EQ(clean.repairs, kRepairNone);

  const ValidateResult repaired = validate("{\"a\": 1, \"a\": \"\\ud800\xE9\"}");
  EXPECT_TRUE(repaired.valid);
  EXPECT_EQ(repaired.repairs, kRepairInvalidUtf8 | kRepairLoneSurrogate | kRepairDuplicateKey);

  const ValidateResult broken = validate(R"({"a": 1} x)");
  EXPECT_FALSE(broken.valid);
  EXPECT_EQ(broken.error, "trailing characters after the JSON value");
  EXPECT_EQ(broken.error_offset, 9u);

  EXPECT_EQ(validate("[]").type, Type::Array);
  EXPECT_EQ(validate(" 1.5").type, Type::Number);
  EXPECT_EQ(validate(R"("s")").type, Type::String);
  EXPECT_EQ(validate("false").type, Type::Bool);
  EXPECT_EQ(validate("null").type, Type::Null);
}

// Repeated names are found at any depth, including names written with
// escapes that decode to the same text.
TEST(JsonValidateTest, FindsRepeatedNames) {
  EXPECT_EQ(validate(R"({"a": [{"x": 1, "y": {"x": 2}}]})").repairs, kRepairNone);
  EXPECT_EQ(validate(R"({"a": [{"x": 1, "y": 2, "x": 3}]})").repairs, kRepairDuplicateKey);
  EXPECT_EQ(validate(R"({"a": 1, "b": {"a": 2}, "c": 3, "a": 4})").repairs, kRepairDuplicateKey);
  EXPECT_EQ(validate(R"({"\u0061": 1, "a": 2})").repairs, kRepairDuplicateKey);
  EXPECT_EQ(validate(R"({"\u00e9": 1, "\u00e8": 2})").repairs, kRepairNone);
}

// validate() and parse() agree on the edge cases of the grammar.
TEST(JsonValidateTest, AgreesWithParseOnEdgeCases) {
  ParseOptions shallow;
  shallow.max_depth = 3;
  for (const std::string& text :
       std::initializer_list<std::string>{"", " ", "{}", "[]", "[[[]]]", "[[[[]]]]", R"({"a":1} x)", R"({"a":1}{"a":1})", "01", "-", "1.", "1e", "tru",
        "nul", R"("a\qb")", R"("\u12G4")", "\"a\tb\"", "\"caf\xE9\"", "\"\xED\xA0\x80\"", R"("\ud83dx")",
        R"("\ude00\ud83d")", R"({"a": 1, "a": 2})", R"({"a": "open)", "[1,]", R"({"a" 1})", "{1:2}", "[", "{",
        R"({"a":[1,{"b":[2,{"c":3}]}]})", std::string(300, '[')}) {
    expect_validate_agrees(text);
    expect_validate_agrees(text, shallow);
  }
}

// validate() and parse() agree on thousands of corrupted copies of an alert
// line, so a line validate() finds clean is one parse() reads unchanged.
TEST(JsonValidateTest, AgreesWithParseOnCorruptedLines) {
  const std::string line =
      R"({"Format": "IDEA0", "ID": "dc98d2c1", "Category": ["Recon.Scanning"], "Confidence": 0.03, )"
      R"("Source": [{"IP4": ["10.7.114.37"], "Port": [40477]}], "Note": "{\"uids\":[\"Cc\"]}", )"
      R"("Description": "caf\u00e9 \ud83d\ude00 Česko", "Flag": true, "None": null, "N": -1.5e-3})";
  const std::string replacements[] = {"\"", "\\", "{", "}", "[", "]", ",", ":", "\xE9", "\xED\xA0", "\x80",
                                      "u",  "\\ud83d", "\\udc00", "0", "-", " ", "\t", "\x01", "e", ""};
  std::mt19937 random(42);
  for (int round = 0; round < 5000; ++round) {
    std::string corrupted = line;
    const int edits = 1 + static_cast<int>(random() % 3);
    for (int edit = 0; edit < edits; ++edit) {
      const std::size_t at = random() % corrupted.size();
      const std::size_t length = random() % 3;
      const std::string& replacement = replacements[random() % std::size(replacements)];
      corrupted.replace(at, std::min(length, corrupted.size() - at), replacement);
    }
    expect_validate_agrees(corrupted);
    if (::testing::Test::HasFailure()) {
      FAIL() << "first disagreement at round " << round;
    }
  }
}

// write() produces compact JSON in member order.
TEST(JsonWriteTest, WritesCompactJson) {
  Value value = Value::object();
  value.set("a", Value::number(std::int64_t{1}));
  Value list = Value::array();
  list.push_back(Value::boolean(true));
  list.push_back(Value());
  value.set("b", std::move(list));
  value.set("c", Value::object());

  EXPECT_EQ(to_string(value), R"({"a":1,"b":[true,null],"c":{}})");
}

// write() appends to what the buffer already holds.
TEST(JsonWriteTest, AppendsToBuffer) {
  std::string out = "prefix ";
  write(Value::string("x"), out);

  EXPECT_EQ(out, R"(prefix "x")");
}

// Parsing written output gives the same document and the same text again.
TEST(JsonWriteTest, RoundTripsThroughParse) {
  const std::string text =
      R"({"Format":"IDEA0","Confidence":0.50,"Source":[{"IP4":["192.0.2.1"],"Port":[22,443]}],)"
      R"("Note":"{\"threat_level\": \"medium\"}\n","Empty":[],"Nested":{"a":{"b":[[],{}]}},)"
      R"("Text":"Brno – Česko 🙂","Flag":false,"Nothing":null,"Big":1712656800.123457})";

  const Value value = parse_ok(text);
  const std::string written = to_string(value);

  EXPECT_EQ(written, text);
  EXPECT_EQ(parse_ok(written), value);
}

// Control characters and DEL are escaped and characters outside the BMP written raw.
TEST(JsonWriteTest, EscapesControlCharactersAndWritesNonBmpRaw) {
  const Value value = Value::string("\x01\x1F\x7F\"\\\n"s + "\xF0\x9F\xA4\x97");

  EXPECT_EQ(to_string(value), "\"\\u0001\\u001f\\u007f\\\"\\\\\\n\xF0\x9F\xA4\x97\"");
  EXPECT_EQ(to_string(Value::string("plain\x7F")), R"("plain\u007f")");
  EXPECT_EQ(to_string(Value::string("a long plain ASCII string with DEL at the end\x7F")),
            R"("a long plain ASCII string with DEL at the end\u007f")");
}

// A string built with invalid UTF-8 is still written as valid UTF-8.
TEST(JsonWriteTest, WritesInvalidUtf8AsReplacement) {
  const std::string written = to_string(Value::string("caf\xE9"));

  EXPECT_EQ(written, "\"caf" + kReplacement + "\"");
  EXPECT_TRUE(is_valid_utf8(written));
}

// A double is written as the shortest text that reads back to the same value.
TEST(JsonValueTest, NumberFromDoubleIsShortestRoundTrip) {
  EXPECT_EQ(Value::number(0.1).number_text(), "0.1");
  EXPECT_EQ(Value::number(1.0).number_text(), "1");
  EXPECT_EQ(Value::number(-2.5).number_text(), "-2.5");
  EXPECT_EQ(Value::number(1e300).number_text(), "1e+300");
  EXPECT_EQ(Value::number(1712656800.123457).number_text(), "1712656800.123457");
  for (const double number : {0.1, 1.0 / 3.0, 1e-320, 6.02214076e23}) {
    const Value value = Value::number(number);
    EXPECT_TRUE(parse(value.number_text()).value.has_value()) << value.number_text();
    EXPECT_EQ(value.as_double(), number);
  }
}

// NaN and infinities have no JSON form and become null.
TEST(JsonValueTest, NumberFromNonFiniteDoubleIsNull) {
  EXPECT_TRUE(Value::number(std::numeric_limits<double>::quiet_NaN()).is_null());
  EXPECT_TRUE(Value::number(std::numeric_limits<double>::infinity()).is_null());
  EXPECT_TRUE(Value::number(-std::numeric_limits<double>::infinity()).is_null());
}

// Integers keep every digit, including the int64 extremes.
TEST(JsonValueTest, NumberFromIntegerKeepsDigits) {
  EXPECT_EQ(Value::number(std::int64_t{-42}).number_text(), "-42");
  EXPECT_EQ(Value::number(std::numeric_limits<std::int64_t>::min()).number_text(), "-9223372036854775808");
  EXPECT_EQ(Value::number(std::numeric_limits<std::int64_t>::max()).as_int(),
            std::numeric_limits<std::int64_t>::max());
}

// as_int() accepts any text naming an integer in range; as_double() any number.
TEST(JsonValueTest, ConvertsNumberText) {
  EXPECT_EQ(Value::number_text("22").as_int(), 22);
  EXPECT_EQ(Value::number_text("-7").as_int(), -7);
  EXPECT_EQ(Value::number_text("1.0").as_int(), 1);
  EXPECT_EQ(Value::number_text("2e3").as_int(), 2000);
  EXPECT_EQ(Value::number_text("1.5").as_int(), std::nullopt);
  EXPECT_EQ(Value::number_text("9223372036854775808").as_int(), std::nullopt);
  EXPECT_EQ(Value::number_text("1e30").as_int(), std::nullopt);
  EXPECT_EQ(Value::number_text("0.5").as_double(), 0.5);
  EXPECT_EQ(Value::number_text("-1E-2").as_double(), -0.01);
  EXPECT_EQ(Value::string("1").as_int(), std::nullopt);
  EXPECT_EQ(Value::string("1").as_double(), std::nullopt);
}

// Paths step through member names and array indexes.
TEST(JsonValueTest, AtPathResolvesNestedFields) {
  const Value value = parse_ok(R"({"Source":[{"IP4":["192.0.2.1","192.0.2.9"]}],"Note":"n","a":{"b":{"c":3}}})");

  ASSERT_NE(value.at_path("Source[0].IP4[1]"), nullptr);
  EXPECT_EQ(value.at_path("Source[0].IP4[1]")->as_string(), "192.0.2.9");
  EXPECT_EQ(value.at_path("Source[0].IP4[0]")->as_string(), "192.0.2.1");
  EXPECT_EQ(value.at_path("Note")->as_string(), "n");
  EXPECT_EQ(value.at_path("a.b.c")->number_text(), "3");
  EXPECT_EQ(value.at_path(""), &value);
  EXPECT_TRUE(value.at_path("Source")->is_array());
}

// A missing step, a wrong type or a malformed path gives nullptr.
TEST(JsonValueTest, AtPathReturnsNullForMissingSteps) {
  const Value value = parse_ok(R"({"Source":[{"IP4":["192.0.2.1"]}],"Note":"n"})");

  for (const std::string path : {"Target", "Source[1]", "Source[0].IP6", "Note[0]", "Note.x", "Source.IP4",
                                 "Source[x]", "Source[]", "Source[0", "Source[0]IP4", "Source..IP4", "Note.",
                                 ".Note", "Source[-1]"}) {
    EXPECT_EQ(value.at_path(path), nullptr) << path;
  }
}

// A leading index applies to a top-level array.
TEST(JsonValueTest, AtPathIndexesTopLevelArray) {
  const Value value = parse_ok(R"([{"a":1},{"a":2}])");

  ASSERT_NE(value.at_path("[1].a"), nullptr);
  EXPECT_EQ(value.at_path("[1].a")->number_text(), "2");
}

// set() replaces an existing member in place and appends a new one.
TEST(JsonValueTest, SetReplacesInPlaceElseAppends) {
  Value value = parse_ok(R"({"a":1,"b":2})");

  value.set("a", Value::string("x"));
  Value& added = value.set("c", Value::boolean(true));

  EXPECT_TRUE(added.as_bool());
  EXPECT_EQ(to_string(value), R"({"a":"x","b":2,"c":true})");
}

// set() on a null value starts a new object.
TEST(JsonValueTest, SetOnNullStartsObject) {
  Value value;
  value.set("a", Value());

  EXPECT_EQ(to_string(value), R"({"a":null})");
}

// erase() removes a member and reports whether it was there.
TEST(JsonValueTest, EraseRemovesMember) {
  Value value = parse_ok(R"({"a":1,"b":2,"c":3})");

  EXPECT_TRUE(value.erase("b"));
  EXPECT_FALSE(value.erase("b"));
  EXPECT_FALSE(Value::string("s").erase("s"));
  EXPECT_EQ(to_string(value), R"({"a":1,"c":3})");
}

// find() sees only members of objects.
TEST(JsonValueTest, FindReturnsNullOutsideObjects) {
  Value value = parse_ok(R"({"a":[1]})");

  ASSERT_NE(value.find("a"), nullptr);
  value.find("a")->push_back(Value::number(std::int64_t{2}));
  EXPECT_EQ(value.find("b"), nullptr);
  EXPECT_EQ(value.find("a")->find("a"), nullptr);
  EXPECT_EQ(to_string(value), R"({"a":[1,2]})");
}

// Equality is by JSON meaning: member order does not matter, number text does not.
TEST(JsonValueTest, EqualityFollowsJsonMeaning) {
  EXPECT_EQ(parse_ok(R"({"a":1,"b":[1.0,"x"]})"), parse_ok(R"({"b":[1,"x"],"a":1e0})"));
  EXPECT_NE(parse_ok(R"({"a":1})"), parse_ok(R"({"a":1,"b":1})"));
  EXPECT_NE(parse_ok(R"({"a":1})"), parse_ok(R"({"b":1})"));
  EXPECT_NE(parse_ok("[1,2]"), parse_ok("[2,1]"));
  EXPECT_NE(parse_ok(R"("1")"), parse_ok("1"));
  EXPECT_NE(parse_ok("9007199254740993"), parse_ok("9007199254740992"));
  EXPECT_NE(parse_ok("true"), parse_ok("false"));
  EXPECT_EQ(parse_ok("null"), Value());
}

}  // namespace
}  // namespace slipway::json
