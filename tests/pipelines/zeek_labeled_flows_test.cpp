// The example pipeline pipelines/zeek-labeled-flows.yaml, run by the slipway
// program over a real hand-labeled Zeek conn log: every row arrives with
// its labels and an AID equal to the one an independent Python
// implementation (tests/pipelines/zeek_aid_reference.py) computes.
#include <cstdlib>
#include <map>

#include <fmt/format.h>
#include <gtest/gtest.h>

#include "tests/support/process.hpp"
#include "tests/support/temp_dir.hpp"

namespace slipway::testing {
namespace {

constexpr std::size_t kFixtureRows = 766;
constexpr std::size_t kColumns = 25;
constexpr std::size_t kUidColumn = 1;
constexpr std::size_t kLabelColumn = 21;
constexpr std::size_t kDetailedLabelColumn = 22;
constexpr std::size_t kAidColumn = 23;

std::vector<std::string> split(const std::string& text, char separator) {
  std::vector<std::string> parts;
  std::size_t start = 0;
  for (std::size_t end; (end = text.find(separator, start)) != std::string::npos; start = end + 1) {
    parts.push_back(text.substr(start, end - start));
  }
  parts.push_back(text.substr(start));
  return parts;
}

std::vector<std::string> lines_of(const std::string& text) {
  std::vector<std::string> lines = split(text, '\n');
  EXPECT_EQ(lines.back(), "") << "the last line has no line ending";
  lines.pop_back();
  return lines;
}

class ZeekLabeledFlowsPipelineTest : public ::testing::Test {
 protected:
  void SetUp() override {
    fixture_ = shared_path("fixtures/zeek/conn-ctu-sme-11.log.labeled");
    if (fixture_.empty()) {
      GTEST_SKIP() << "the Zeek conn log fixture (fixtures/zeek/conn-ctu-sme-11.log.labeled) is absent";
    }
  }

  std::map<std::string, std::string> environment(const std::filesystem::path& conn_log) const {
    return {{"ZEEK_CONN_LOG", conn_log.string()},
            {"SLIPWAY_EXPORT_DIR", (dir_ / "export").string()},
            {"SLIPWAY_DATA_DIR", (dir_ / "data").string()}};
  }

  int run_pipeline(const std::string& command, const std::filesystem::path& conn_log) {
    return run_slipway({command, pipeline_.string()}, dir_ / "stdout.txt", dir_ / "stderr.txt",
                       environment(conn_log));
  }

  // Runs the Python reference over the fixture: AIDs by uid, and a Zeek
  // JSON copy of the log at `json_log`. Empty when python3 cannot run it.
  std::map<std::string, std::string> reference_aids(const std::filesystem::path& json_log) {
    const std::filesystem::path script = std::filesystem::path(SLIPWAY_SOURCE_DIR) / "tests/pipelines/zeek_aid_reference.py";
    const std::filesystem::path output = dir_ / "reference.tsv";
    const std::string command = fmt::format("python3 '{}' '{}' --json-log '{}' > '{}' 2> '{}'", script.string(),
                                            fixture_.string(), json_log.string(), output.string(),
                                            (dir_ / "reference.err").string());
    std::map<std::string, std::string> aids;
    if (std::system(command.c_str()) != 0) {
      return aids;
    }
    for (const std::string& line : lines_of(read_file(output))) {
      const std::vector<std::string> parts = split(line, '\t');
      aids[parts.at(0)] = parts.at(1);
    }
    return aids;
  }

  std::string tsv() const { return read_file(dir_ / "export" / "labeled_flows.tsv"); }
  std::string messages() const { return read_file(dir_ / "stderr.txt"); }

  TempDir dir_;
  std::filesystem::path fixture_;
  const std::filesystem::path pipeline_ = std::filesystem::path(SLIPWAY_SOURCE_DIR) / "pipelines/zeek-labeled-flows.yaml";
};

TEST_F(ZeekLabeledFlowsPipelineTest, ExamplePipelineValidates) {
  EXPECT_EQ(run_pipeline("validate", fixture_), 0) << messages();
}

// All 766 records become rows with their label and detailed label, and
// each AID equals the reference's; the first one also equals the value
// published for that record.
TEST_F(ZeekLabeledFlowsPipelineTest, KeepsLabelsAndMatchesReferenceAids) {
  const std::map<std::string, std::string> expected_aids = reference_aids(dir_ / "conn.json");
  if (expected_aids.empty()) {
    GTEST_SKIP() << "python3 could not run the AID reference: " << read_file(dir_ / "reference.err");
  }
  ASSERT_EQ(expected_aids.size(), kFixtureRows);
  std::filesystem::copy_file(fixture_, dir_ / "conn.log.labeled");
  ASSERT_EQ(run_pipeline("run", dir_ / "conn.log.labeled"), 0) << messages();

  const std::vector<std::string> rows = lines_of(tsv());
  ASSERT_EQ(rows.size(), kFixtureRows + 1);
  EXPECT_EQ(split(rows[0], '\t').size(), kColumns);
  std::map<std::string, std::size_t> labels;
  std::size_t matching_aids = 0;
  for (std::size_t row_idx = 1; row_idx < rows.size(); ++row_idx) {
    const std::vector<std::string> fields = split(rows[row_idx], '\t');
    ASSERT_EQ(fields.size(), kColumns) << rows[row_idx];
    ++labels[fields[kLabelColumn]];
    EXPECT_FALSE(fields[kDetailedLabelColumn].empty() && fields[kLabelColumn] != "Unknown") << rows[row_idx];
    const auto expected = expected_aids.find(fields[kUidColumn]);
    ASSERT_NE(expected, expected_aids.end()) << rows[row_idx];
    EXPECT_EQ(fields[kAidColumn], expected->second) << rows[row_idx];
    matching_aids += fields[kAidColumn] == expected->second ? 1 : 0;
  }
  EXPECT_EQ(matching_aids, kFixtureRows);
  EXPECT_EQ(labels, (std::map<std::string, std::size_t>{{"Benign", 44}, {"Malicious", 719}, {"Unknown", 3}}));
  EXPECT_EQ(split(rows[1], '\t')[kAidColumn], "2:e8dvyLklKok9UtBWeD13nz4KFaA=");
  EXPECT_EQ(split(rows[1], '\t')[kDetailedLabelColumn],
            "From_malicious-To_malicious-Malware_data_exfiltration-RemcosRAT");
}

// The same log written by Zeek's JSON writer gives the same rows.
TEST_F(ZeekLabeledFlowsPipelineTest, JsonLogGivesSameRowsAsTsvLog) {
  const std::filesystem::path json_log = dir_ / "conn.json";
  if (reference_aids(json_log).empty()) {
    GTEST_SKIP() << "python3 could not run the AID reference: " << read_file(dir_ / "reference.err");
  }
  std::filesystem::copy_file(fixture_, dir_ / "conn.log.labeled");
  ASSERT_EQ(run_pipeline("run", dir_ / "conn.log.labeled"), 0) << messages();
  const std::string from_tsv = tsv();

  std::filesystem::remove_all(dir_ / "export");
  std::filesystem::remove_all(dir_ / "data");
  ASSERT_EQ(run_pipeline("run", json_log), 0) << messages();
  EXPECT_EQ(lines_of(tsv()).size(), kFixtureRows + 1);
  EXPECT_EQ(tsv(), from_tsv);
}

}  // namespace
}  // namespace slipway::testing
