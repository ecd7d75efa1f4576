// The example pipeline pipelines/slips-labeled-flows.yaml, run by the
// slipway program: the labeled-flow export Slips intends, from a Slips
// flows database, and what a second run over the same database adds.
#include <cstdlib>
#include <sstream>

#include <fmt/format.h>
#include <gtest/gtest.h>

#include "engine/json.hpp"
#include "tests/support/process.hpp"
#include "tests/support/temp_dir.hpp"

namespace slipway::testing {
namespace {

constexpr std::size_t kFixtureRows = 374 + 89;  // flows and altflows of flows-test7.sqlite

// Splits at every separator, keeping empty parts.
std::vector<std::string> split(const std::string& text, const std::string& separator) {
  std::vector<std::string> parts;
  std::size_t start = 0;
  for (std::size_t end; (end = text.find(separator, start)) != std::string::npos; start = end + separator.size()) {
    parts.push_back(text.substr(start, end - start));
  }
  parts.push_back(text.substr(start));
  return parts;
}

// The lines of a file whose every line ends with `line_ending`.
std::vector<std::string> lines_of(const std::string& text, const std::string& line_ending = "\n") {
  std::vector<std::string> lines = split(text, line_ending);
  EXPECT_EQ(lines.back(), "") << "the last line has no line ending";
  lines.pop_back();
  return lines;
}

class SlipsLabeledFlowsPipelineTest : public ::testing::Test {
 protected:
  // Runs the pipeline over `database`; returns the exit code.
  int export_flows(const std::filesystem::path& database, const std::string& line_ending = "lf") {
    const std::filesystem::path pipeline = std::filesystem::path(SLIPWAY_SOURCE_DIR) / "pipelines/slips-labeled-flows.yaml";
    return run_slipway({"run", pipeline.string()}, dir_ / "stdout.txt", dir_ / "stderr.txt",
                       {{"SLIPS_FLOWS_DB", database.string()},
                        {"SLIPWAY_EXPORT_DIR", (dir_ / "export").string()},
                        {"SLIPWAY_DATA_DIR", (dir_ / "data").string()},
                        {"SLIPWAY_TSV_LINE_ENDING", line_ending}});
  }

  std::string tsv() const { return read_file(dir_ / "export" / "labeled_flows.tsv"); }
  std::string json_lines() const { return read_file(dir_ / "export" / "labeled_flows.json"); }
  std::string messages() const { return read_file(dir_ / "stderr.txt"); }

  TempDir dir_;
};

// The project's independent generator builds a flows database from a real
// Zeek conn log, with its own labeled_flows files. The exported TSV equals
// the generator's byte for byte once the extra community_id column is cut,
// and each JSON line has the generator's members and values.
TEST_F(SlipsLabeledFlowsPipelineTest, MatchesIntendedExportOfGenerator) {
  const auto conn_log = shared_path("fixtures/zeek/conn-ctu-sme-11.log.labeled");
  const auto generator = shared_path("tools/gen_slips_alerts.py");
  if (conn_log.empty() || generator.empty()) {
    GTEST_SKIP() << "the Zeek conn log fixture or tools/gen_slips_alerts.py is absent";
  }
  const std::filesystem::path generated = dir_ / "generated";
  const std::string command = fmt::format("python3 '{}' --zeek-conn '{}' --out '{}' > '{}' 2>&1", generator.string(),
                                          conn_log.string(), generated.string(), (dir_ / "generator.log").string());
  if (std::system(command.c_str()) != 0) {
    GTEST_SKIP() << "python3 could not run the generator: " << read_file(dir_ / "generator.log");
  }

  ASSERT_EQ(export_flows(generated / "flows.sqlite", "crlf"), 0) << messages();

  std::string without_community_id;
  for (const std::string& row : lines_of(tsv(), "\r\n")) {
    without_community_id += row.substr(0, row.rfind('\t')) + "\r\n";
  }
  EXPECT_EQ(without_community_id, read_file(generated / "labeled_flows.tsv"));

  const std::vector<std::string> ours = lines_of(json_lines());
  const std::vector<std::string> theirs = lines_of(read_file(generated / "labeled_flows.json"));
  ASSERT_EQ(ours.size(), 766u);
  ASSERT_EQ(theirs.size(), ours.size());
  for (std::size_t line_idx = 0; line_idx < ours.size(); ++line_idx) {
    json::ParseResult our_line = json::parse(ours[line_idx]);
    json::ParseResult their_line = json::parse(theirs[line_idx]);
    ASSERT_TRUE(our_line.value.has_value()) << ours[line_idx];
    ASSERT_TRUE(their_line.value.has_value()) << theirs[line_idx];
    EXPECT_TRUE(our_line.value->erase("community_id")) << ours[line_idx];
    EXPECT_EQ(*our_line.value, *their_line.value) << ours[line_idx] << "\n" << theirs[line_idx];
  }
}

// A database of a Slips development build, with a community_id column and
// no AIDs: every flows and altflows row is exported, the flows with an AID
// and a Community ID, the altflows rows with both empty.
TEST_F(SlipsLabeledFlowsPipelineTest, ExportsFlowsAndAltflowsOfSlipsDatabase) {
  const auto fixture = shared_path("fixtures/slips/flows-test7.sqlite");
  if (fixture.empty()) {
    GTEST_SKIP() << "the Slips flows database fixture (fixtures/slips/flows-test7.sqlite) is absent";
  }
  std::filesystem::copy_file(fixture, dir_ / "flows.sqlite");
  ASSERT_EQ(export_flows(dir_ / "flows.sqlite"), 0) << messages();

  const std::vector<std::string> rows = lines_of(tsv());
  ASSERT_EQ(rows.size(), kFixtureRows + 1);
  EXPECT_EQ(rows[0], "uid\tflow\tlabel\tprofileid\ttwid\taid\tcommunity_id");
  std::size_t hashed = 0;
  std::size_t empty = 0;
  for (std::size_t row_idx = 1; row_idx < rows.size(); ++row_idx) {
    const std::vector<std::string> fields = split(rows[row_idx], "\t");
    ASSERT_EQ(fields.size(), 7u) << rows[row_idx];
    if (fields[5].rfind("2:", 0) == 0 && fields[6].rfind("1:", 0) == 0) {
      ++hashed;
    } else if (fields[5].empty() && fields[6].empty()) {
      ++empty;
    }
  }
  EXPECT_EQ(hashed, 374u);
  EXPECT_EQ(empty, 89u);
  EXPECT_EQ(lines_of(json_lines()).size(), kFixtureRows);
}

// A second run over an unchanged database resumes after the exported rows:
// it appends no rows and no second header.
TEST_F(SlipsLabeledFlowsPipelineTest, SecondRunAppendsNothingNew) {
  const auto fixture = shared_path("fixtures/slips/flows-test7.sqlite");
  if (fixture.empty()) {
    GTEST_SKIP() << "the Slips flows database fixture (fixtures/slips/flows-test7.sqlite) is absent";
  }
  std::filesystem::copy_file(fixture, dir_ / "flows.sqlite");
  ASSERT_EQ(export_flows(dir_ / "flows.sqlite"), 0) << messages();
  const std::string first_tsv = tsv();
  const std::string first_json = json_lines();

  ASSERT_EQ(export_flows(dir_ / "flows.sqlite"), 0) << messages();
  EXPECT_EQ(tsv(), first_tsv);
  EXPECT_EQ(json_lines(), first_json);
}

}  // namespace
}  // namespace slipway::testing
