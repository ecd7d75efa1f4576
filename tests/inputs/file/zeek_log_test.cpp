// The Zeek log decoder of the file input on its own: header lines, typed
// values, unset and empty values, sets, escapes, header changes, the space-
// packed label columns of some CTU logs, and rows it must reject.
#include <fcntl.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include "engine/json.hpp"
#include "inputs/file/zeek_log.hpp"
#include "tests/support/temp_dir.hpp"

namespace slipway::inputs::file {
namespace {

constexpr std::string_view kConnHeader =
    "#separator \\x09\n"
    "#set_separator\t,\n"
    "#empty_field\t(empty)\n"
    "#unset_field\t-\n"
    "#path\tconn\n"
    "#open\t2024-08-16-09-45-01\n"
    "#fields\tts\tuid\tid.orig_h\tid.orig_p\tid.resp_h\tid.resp_p\tproto\tservice\tduration\tlocal_orig\t"
    "tunnel_parents\tlabel\n"
    "#types\ttime\tstring\taddr\tport\taddr\tport\tenum\tstring\tinterval\tbool\tset[string]\tstring\n";

// The results of decoding each line of `text` in order.
struct Decoded {
  std::vector<std::string> rows;     // JSON of each row
  std::vector<std::string> reasons;  // reason of each rejected row
  std::size_t json_lines = 0;
};

Decoded decode_all(ZeekLogDecoder& decoder, std::string_view text) {
  Decoded decoded;
  std::uint64_t offset = 0;
  while (offset < text.size()) {
    const std::size_t end = text.find('\n', offset);
    const std::string_view line = text.substr(offset, end - offset);
    std::string json;
    std::string reason;
    switch (decoder.decode(line, offset, json, reason)) {
      case ZeekLineKind::Row:
        decoded.rows.push_back(json);
        break;
      case ZeekLineKind::Rejected:
        EXPECT_TRUE(json.empty());
        decoded.reasons.push_back(reason);
        break;
      case ZeekLineKind::Json:
        ++decoded.json_lines;
        break;
      case ZeekLineKind::Header:
        break;
    }
    offset = end + 1;
  }
  return decoded;
}

Decoded decode_all(std::string_view text, ZeekUnsetFields unset = ZeekUnsetFields::Omit) {
  ZeekLogDecoder decoder(unset);
  return decode_all(decoder, text);
}

// Every row is one valid JSON object; returns its parsed form.
json::Value parsed(const std::string& row) {
  json::ParseResult result = json::parse(row);
  EXPECT_TRUE(result.value.has_value()) << row << ": " << result.error;
  return result.value ? *result.value : json::Value();
}

// A conn row is typed by #types: ports and times as numbers with their
// digits, bool as true/false, the set as an array, unset values omitted.
TEST(ZeekLogDecoderTest, TypesConnRow) {
  const std::string text = std::string(kConnHeader) +
                           "1677024003.714845\tC6SgKom3WB2KEL2ae\t192.168.1.107\t65164\t66.63.168.35\t5888\ttcp\t-\t"
                           "0.037629\tT\t(empty)\tMalicious\n";
  const Decoded decoded = decode_all(text);
  ASSERT_TRUE(decoded.reasons.empty()) << decoded.reasons[0];
  ASSERT_EQ(decoded.rows.size(), 1u);
  EXPECT_EQ(decoded.rows[0],
            R"({"ts":1677024003.714845,"uid":"C6SgKom3WB2KEL2ae","id.orig_h":"192.168.1.107","id.orig_p":65164,)"
            R"("id.resp_h":"66.63.168.35","id.resp_p":5888,"proto":"tcp","duration":0.037629,"local_orig":true,)"
            R"("tunnel_parents":[],"label":"Malicious"})");
  parsed(decoded.rows[0]);
}

// With ZeekUnsetFields::Null (zeek_unset_as_null: true), an unset value is a member with null.
TEST(ZeekLogDecoderTest, WritesUnsetAsNullWhenAsked) {
  const std::string text = std::string(kConnHeader) +
                           "1.5\tC1\t10.0.0.1\t1\t10.0.0.2\t2\tudp\t-\t-\tF\t-\t-\n";
  const Decoded decoded = decode_all(text, ZeekUnsetFields::Null);
  ASSERT_EQ(decoded.rows.size(), 1u);
  EXPECT_EQ(decoded.rows[0],
            R"({"ts":1.5,"uid":"C1","id.orig_h":"10.0.0.1","id.orig_p":1,"id.resp_h":"10.0.0.2","id.resp_p":2,)"
            R"("proto":"udp","service":null,"duration":null,"local_orig":false,"tunnel_parents":null,"label":null})");
}

// Sets split at the set separator and keep each element's type. "(empty)"
// is an empty string for a string column and an empty array for a set.
TEST(ZeekLogDecoderTest, SplitsSetsAndReadsEmptyValues) {
  const std::string text =
      "#separator \\x09\n#set_separator\t,\n#empty_field\t(empty)\n#unset_field\t-\n"
      "#fields\tnames\tports\tflags\tnote\tnone\n"
      "#types\tset[string]\tvector[count]\tvector[bool]\tstring\tset[addr]\n"
      "a,b\\x2cc,-\t53,80\tT,F\t(empty)\t(empty)\n";
  const Decoded decoded = decode_all(text);
  ASSERT_TRUE(decoded.reasons.empty()) << decoded.reasons[0];
  ASSERT_EQ(decoded.rows.size(), 1u);
  EXPECT_EQ(decoded.rows[0],
            R"({"names":["a","b,c",null],"ports":[53,80],"flags":[true,false],"note":"","none":[]})");
}

// \xNN escapes are decoded: separators, quotes, a literal "-" that Zeek
// escapes so it does not read as unset, and UTF-8 bytes.
TEST(ZeekLogDecoderTest, DecodesHexEscapes) {
  const std::string text =
      "#separator \\x09\n#fields\tquery\tdash\tname\tpath\n#types\tstring\tstring\tstring\tstring\n"
      "a\\x09b\\x22\t\\x2d\tcaf\\xc3\\xa9\tC:\\Windows\n";
  const Decoded decoded = decode_all(text);
  ASSERT_EQ(decoded.rows.size(), 1u);
  const json::Value row = parsed(decoded.rows[0]);
  EXPECT_EQ(row.find("query")->as_string(), "a\tb\"");
  EXPECT_EQ(row.find("dash")->as_string(), "-");
  EXPECT_EQ(row.find("name")->as_string(), "caf\xc3\xa9");
  EXPECT_EQ(row.find("path")->as_string(), "C:\\Windows");
}

// Rows whose JSON is many times longer than the row stay within the
// decoder's bound (checked by an assertion in debug builds): control bytes
// become \u00XX, T becomes true, and an empty #unset_field makes every
// empty set element null.
TEST(ZeekLogDecoderTest, WritesRowsThatGrowMost) {
  const std::string controls(50, '\x01');
  const std::string text = "#unset_field\t\n#fields\tc\tflags\tnone\n#types\tstring\tset[bool]\tset[count]\n" +
                           controls + "\tT,F,T,F,T,F\t,,,,\n\t\t\n";
  const Decoded decoded = decode_all(text);
  ASSERT_TRUE(decoded.reasons.empty()) << decoded.reasons[0];
  ASSERT_EQ(decoded.rows.size(), 2u);
  std::string escaped;
  for (std::size_t index = 0; index < controls.size(); ++index) {
    escaped += "\\u0001";
  }
  EXPECT_EQ(decoded.rows[0],
            R"({"c":")" + escaped + R"(","flags":[true,false,true,false,true,false],"none":[null,null,null,null,null]})");
  EXPECT_EQ(decoded.rows[1], "{}");
}

// Without #types every column is a string.
TEST(ZeekLogDecoderTest, ReadsColumnsWithoutTypesAsStrings) {
  const Decoded decoded = decode_all("#fields\tts\tcount\n1.5\t7\n");
  ASSERT_EQ(decoded.rows.size(), 1u);
  EXPECT_EQ(decoded.rows[0], R"({"ts":"1.5","count":"7"})");
}

// A separator other than tab, set by #separator, splits the header lines
// after it and the rows.
TEST(ZeekLogDecoderTest, FollowsSeparatorLine) {
  const Decoded decoded = decode_all("#separator \\x7c\n#set_separator|;\n#fields|a|b\n#types|count|set[count]\n"
                                     "1|2;3\n");
  ASSERT_EQ(decoded.rows.size(), 1u);
  EXPECT_EQ(decoded.rows[0], R"({"a":1,"b":[2,3]})");
}

// A new header block in the same file replaces the columns for the rows
// after it; #close changes nothing.
TEST(ZeekLogDecoderTest, SwitchesColumnsAtNewHeaderBlock) {
  const Decoded decoded = decode_all("#separator \\x09\n#fields\ta\n#types\tcount\n1\n#close\t2024-01-01-00-00-00\n"
                                     "#separator \\x09\n#fields\tb\tc\n#types\tstring\tbool\nx\tT\n");
  ASSERT_TRUE(decoded.reasons.empty()) << decoded.reasons[0];
  const std::vector<std::string> expected = {R"({"a":1})", R"({"b":"x","c":true})"};
  EXPECT_EQ(decoded.rows, expected);
}

// Some hand-labeled CTU logs put the label columns into the last tab field,
// separated by spaces, in #fields, #types and every row.
TEST(ZeekLogDecoderTest, SplitsSpacePackedLabelColumns) {
  const Decoded decoded = decode_all(
      "#separator \\x09\n#fields\tts\ttunnel_parents   label   detailed-label\n"
      "#types\ttime\tset[string]   string   string\n"
      "1.25\t(empty)   Malicious   PartOfAHorizontalPortScan\n"
      "1.5\t-   Benign   -\n");
  ASSERT_TRUE(decoded.reasons.empty()) << decoded.reasons[0];
  const std::vector<std::string> expected = {
      R"({"ts":1.25,"tunnel_parents":[],"label":"Malicious","detailed-label":"PartOfAHorizontalPortScan"})",
      R"({"ts":1.5,"label":"Benign"})"};
  EXPECT_EQ(decoded.rows, expected);
}

// Lines starting with '{' are Zeek JSON log lines for the JSON decoder.
TEST(ZeekLogDecoderTest, LeavesJsonLinesToJsonDecoder) {
  const Decoded decoded = decode_all("{\"ts\":1.5,\"uid\":\"C1\"}\n");
  EXPECT_EQ(decoded.json_lines, 1u);
  EXPECT_TRUE(decoded.rows.empty());
}

// A row with too few or too many values is rejected with both counts.
TEST(ZeekLogDecoderTest, RejectsWrongColumnCount) {
  const Decoded decoded = decode_all("#separator \\x09\n#fields\ta\tb\n#types\tcount\tcount\n1\n1\t2\t3\n4\t5\n");
  ASSERT_EQ(decoded.reasons.size(), 2u);
  EXPECT_EQ(decoded.reasons[0],
            "row has 1 values, but the #fields line at offset 16 names 2 columns; values are separated by \"\\t\"");
  EXPECT_EQ(decoded.reasons[1],
            "row has 3 values, but the #fields line at offset 16 names 2 columns; values are separated by \"\\t\"");
  EXPECT_EQ(decoded.rows, std::vector<std::string>{R"({"a":4,"b":5})"});
}

// Values that do not fit their type are rejected, naming the column.
TEST(ZeekLogDecoderTest, RejectsValuesNotOfColumnType) {
  const Decoded decoded = decode_all("#fields\tn\tflag\n#types\tcount\tbool\nabc\tT\n1\tyes\n01\tF\n");
  ASSERT_EQ(decoded.reasons.size(), 3u);
  EXPECT_EQ(decoded.reasons[0], "column \"n\" (count): \"abc\" is not a number");
  EXPECT_EQ(decoded.reasons[1], "column \"flag\" (bool): \"yes\" is not T or F");
  EXPECT_EQ(decoded.reasons[2], "column \"n\" (count): \"01\" is not a number");
}

// Rows before any #fields line, and rows under a header whose #types does
// not fit #fields or that names a field twice, are rejected.
TEST(ZeekLogDecoderTest, RejectsRowsWithoutUsableHeader) {
  EXPECT_EQ(decode_all("1\t2\n").reasons,
            std::vector<std::string>{
                "row before any #fields line; a Zeek TSV log names its columns in a #fields header line"});
  EXPECT_EQ(decode_all("#fields\ta\tb\n#types\tcount\n1\t2\n").reasons,
            std::vector<std::string>{"the #types line at offset 12 lists 1 types for 2 fields"});
  EXPECT_EQ(decode_all("#fields\ta\ta\n1\t2\n").reasons,
            std::vector<std::string>{"the #fields line at offset 0 names the field \"a\" twice"});
}

class ZeekHeaderRecoveryTest : public ::testing::Test {
 protected:
  // Writes `text` to a file and recovers the header in effect at `offset`.
  ZeekLogDecoder recover(const std::string& text, std::uint64_t offset) {
    const std::filesystem::path path = dir_ / "conn.log";
    testing::write_file(path, text);
    const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    EXPECT_GE(fd, 0);
    ZeekLogDecoder decoder(ZeekUnsetFields::Omit);
    EXPECT_EQ(decoder.recover_header(fd, offset, 1024 * 1024), 0);
    ::close(fd);
    return decoder;
  }

  testing::TempDir dir_;
};

// In the middle of a file, the header is rebuilt from the block at its start.
TEST_F(ZeekHeaderRecoveryTest, RecoversHeaderOfFirstBlock) {
  const std::string header = "#separator \\x7c\n#set_separator|;\n#fields|a|b\n#types|count|set[count]\n";
  const std::string first_row = "1|2;3\n";
  ZeekLogDecoder decoder = recover(header + first_row + "4|5\n", header.size() + first_row.size());
  const Decoded decoded = decode_all(decoder, "4|5\n");
  EXPECT_EQ(decoded.rows, std::vector<std::string>{R"({"a":4,"b":[5]})"});
  EXPECT_EQ(decoder.header().fields_offset, header.find("#fields"));
}

// With a second block before the offset, its header wins, and #types after
// the last #fields line is applied too.
TEST_F(ZeekHeaderRecoveryTest, RecoversLatestBlock) {
  const std::string text = "#separator \\x09\n#fields\ta\n#types\tcount\n1\n#close\tx\n"
                           "#separator \\x09\n#fields\tb\tc\n#types\tstring\tbool\nx\tT\n";
  ZeekLogDecoder decoder = recover(text, text.size());
  EXPECT_EQ(decode_all(decoder, "y\tF\n").rows, std::vector<std::string>{R"({"b":"y","c":false})"});
}

// More rows than one chunk of the backward scan lie between header and
// offset. A '#' inside a row does not count as a header line.
TEST_F(ZeekHeaderRecoveryTest, ScansBackOverManyRows) {
  std::string text = "#separator \\x09\n#fields\tname\n#types\tstring\n";
  for (int row = 0; row < 5000; ++row) {
    text += "row#" + std::to_string(row) + "#fields\n";
  }
  ZeekLogDecoder decoder = recover(text, text.size());
  EXPECT_EQ(decode_all(decoder, "z\n").rows, std::vector<std::string>{R"({"name":"z"})"});
}

// A file without any #fields line before the offset leaves no header.
TEST_F(ZeekHeaderRecoveryTest, LeavesHeaderEmptyWithoutFieldsLine) {
  ZeekLogDecoder decoder = recover("1\t2\n3\t4\n", 4);
  EXPECT_FALSE(decoder.header().fields_offset.has_value());
}

}  // namespace
}  // namespace slipway::inputs::file
