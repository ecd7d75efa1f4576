// TSV rows and column-selected JSON lines of the `file` output: escaping,
// the header row, line endings and how field paths are read.
#include <gtest/gtest.h>
#include <spdlog/sinks/null_sink.h>

#include "outputs/file_output.hpp"
#include "tests/support/temp_dir.hpp"

namespace slipway::outputs {
namespace {

using slipway::testing::read_file;
using slipway::testing::TempDir;

class TsvFormatTest : public ::testing::Test {
 protected:
  std::unique_ptr<Output> make(const std::string& yaml, config::Errors& errors) {
    const YAML::Node node = YAML::Load("path: " + path_.string() + "\n" + yaml);
    config::check_against_schema(node, FileOutputConfig::kSchema, "output \"flows\" (file)", "test.yaml", "", errors);
    return FileOutput::create(
        config::Section(node, &FileOutputConfig::kSchema, "output \"flows\" (file)", "test.yaml"), errors);
  }

  std::unique_ptr<Output> make(const std::string& yaml) {
    config::Errors errors;
    auto output = make(yaml, errors);
    EXPECT_FALSE(errors.has_errors()) << errors.format();
    return output;
  }

  // Runs one output over the events from start to stop and returns the file.
  std::string write(const std::string& yaml, std::vector<std::string> events) {
    auto output = make(yaml);
    output->start(context_);
    auto batch = std::make_shared<Batch>();
    for (std::string& event : events) {
      batch->events.push_back(Event{std::move(event), {}});
    }
    output->write(batch, context_);
    output->stop(context_);
    return read_file(path_);
  }

  TempDir dir_;
  std::filesystem::path path_ = dir_ / "labeled_flows.tsv";
  OutputContext context_{ComponentKind::Output, "flows", "file",
                         std::make_shared<spdlog::logger>("test", std::make_shared<spdlog::sinks::null_sink_mt>()),
                         dir_.path(), nullptr};
};

// TAB, CR, LF, backslash and NUL in a value are escaped, so a value never
// splits a row or a field.
TEST_F(TsvFormatTest, EscapesSeparatorsAndLineBreaks) {
  EXPECT_EQ(write("format: tsv\ncolumns: [a, b]\nheader: false",
                  {R"({"a":"tab\there\r\nnext\\back\u0000nul","b":"plain"})"}),
            "tab\\there\\r\\nnext\\\\back\\0nul\tplain\n");
}

// The csv escape quotes what Python's csv module quotes and nothing else.
TEST_F(TsvFormatTest, QuotesLikePythonCsvWhenAsked) {
  EXPECT_EQ(write("format: tsv\ncolumns: [a, b, c, d, e]\nheader: false\nescape: csv",
                  {R"({"a":"a\tb","b":"c\"d","c":"e\nf","d":"back\\slash","e":" lead"})"}),
            "\"a\tb\"\t\"c\"\"d\"\t\"e\nf\"\tback\\slash\t lead\n");
}

// The header row is written into a new file and not again when a second
// run appends to it.
TEST_F(TsvFormatTest, WritesHeaderOncePerFile) {
  const std::string yaml = "format: tsv\ncolumns: [uid, label]";
  write(yaml, {R"({"uid":"C1","label":"benign"})"});
  EXPECT_EQ(write(yaml, {R"({"uid":"C2","label":"malicious"})"}), "uid\tlabel\nC1\tbenign\nC2\tmalicious\n");
}

// A file that already has rows gets no header, even on the first run.
TEST_F(TsvFormatTest, AddsNoHeaderToFileWithRows) {
  slipway::testing::write_file(path_, "C0\tbenign\n");
  EXPECT_EQ(write("format: tsv\ncolumns: [uid, label]", {R"({"uid":"C1","label":"benign"})"}),
            "C0\tbenign\nC1\tbenign\n");
}

// Missing fields and null are empty; numbers keep their text; objects and
// arrays are JSON text; booleans are true and false.
TEST_F(TsvFormatTest, WritesEveryValueKind) {
  EXPECT_EQ(write("format: tsv\ncolumns: [missing, none, number, object, list, flag]\nheader: false",
                  {R"({"none":null,"number":1.50,"object":{"k":"v"},"list":[1, "x"],"flag":true})"}),
            "\t\t1.50\t{\"k\":\"v\"}\t[1, \"x\"]\ttrue\n");
}

// A column is a member name first, even with dots as in Zeek's id.orig_h,
// and a nested path only when no member has that name.
TEST_F(TsvFormatTest, ReadsDottedNamesBeforeNestedPaths) {
  EXPECT_EQ(write("format: tsv\ncolumns: [id.orig_h, flow.saddr, 'answers[1]']\nheader: false",
                  {R"({"id.orig_h":"10.0.0.1","flow":{"saddr":"10.0.0.2"},"answers":["a","b\tc"]})"}),
            "10.0.0.1\t10.0.0.2\tb\\tc\n");
}

// crlf ends the header and every row with CR LF, as Slips' export does.
TEST_F(TsvFormatTest, EndsRowsWithCrLfWhenAsked) {
  EXPECT_EQ(write("format: tsv\ncolumns: [uid]\nline_ending: crlf", {R"({"uid":"C1"})", R"({"uid":"C2"})"}),
            "uid\r\nC1\r\nC2\r\n");
}

// With columns, the json format writes objects with just those members in
// column order, null for a missing one, values as the event has them.
TEST_F(TsvFormatTest, ProjectsJsonLinesOntoColumns) {
  EXPECT_EQ(write("format: json\ncolumns: [uid, flow, aid]",
                  {R"({"aid":"2:x=","uid":"C1","flow":"{\"a\": 1}","extra":[1]})", R"({"uid":"C2"})"}),
            "{\"uid\":\"C1\",\"flow\":\"{\\\"a\\\": 1}\",\"aid\":\"2:x=\"}\n{\"uid\":\"C2\",\"flow\":null,\"aid\":null}\n");
}

// tsv without columns has nothing to write, so the configuration is rejected.
TEST_F(TsvFormatTest, RequiresColumnsForTsv) {
  config::Errors errors;
  make("format: tsv", errors);
  ASSERT_EQ(errors.problems().size(), 1u);
  EXPECT_EQ(errors.problems()[0].message,
            "output \"flows\" (file): key \"columns\": required for format tsv; list the field paths to write, e.g. "
            "[uid, label]");
}

// TSV keys with another format are reported as having no effect.
TEST_F(TsvFormatTest, WarnsAboutTsvKeysWithOtherFormats) {
  config::Errors errors;
  make("format: json\nescape: csv", errors);
  EXPECT_FALSE(errors.has_errors());
  ASSERT_EQ(errors.problems().size(), 1u);
  EXPECT_EQ(errors.problems()[0].message,
            "output \"flows\" (file): key \"escape\" applies to format tsv only and is ignored");
}

}  // namespace
}  // namespace slipway::outputs
