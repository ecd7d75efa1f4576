// `slipway test`: the example pipelines' own test files pass, and a changed
// expectation fails with a diff that names the field.
#include "engine/pipeline_tests.hpp"

#include <gtest/gtest.h>

#include "tests/support/process.hpp"
#include "tests/support/temp_dir.hpp"

namespace slipway::testing {
namespace {

const std::filesystem::path kPipelines = std::filesystem::path(SLIPWAY_SOURCE_DIR) / "pipelines";

std::map<std::string, std::string> example_environment(const TempDir& dir) {
  return {{"SLIPS_OUTPUT", dir.path().string()}, {"SLIPWAY_DATA_DIR", (dir / "var").string()}};
}

TEST(PipelineTestsTest, ExampleTestFilesPass) {
  TempDir dir;
  std::size_t test_files = 0;
  for (const auto& entry : std::filesystem::directory_iterator(kPipelines / "tests")) {
    const std::string name = entry.path().filename().string();
    if (!name.ends_with(".test.yaml")) {
      continue;
    }
    ++test_files;
    const std::filesystem::path pipeline = kPipelines / (name.substr(0, name.size() - 10) + ".yaml");
    const int exit_code = run_slipway({"test", "-c", pipeline.string(), entry.path().string()}, dir / "stdout",
                                      dir / "stderr", example_environment(dir));
    EXPECT_EQ(exit_code, 0) << name << "\n" << read_file(dir / "stdout") << read_file(dir / "stderr");
  }
  EXPECT_GE(test_files, 2u);
}

TEST(PipelineTestsTest, ChangedExpectationFailsWithDiff) {
  TempDir dir;
  write_file(dir / "case.yaml", R"(tests:
  - name: double publishing
    component: once_per_id
    input:
      - {ID: a, Status: Incident}
      - {ID: a, Status: Incident}
    expected:
      - {ID: a, Status: Event}
)");

  const int exit_code =
      run_slipway({"test", "-c", (kPipelines / "dedupe-slips-double-publishing.yaml").string(),
                   (dir / "case.yaml").string()},
                  dir / "stdout", dir / "stderr", example_environment(dir));

  EXPECT_EQ(exit_code, 1);
  const std::string report = read_file(dir / "stdout");
  EXPECT_NE(report.find("FAIL"), std::string::npos) << report;
  EXPECT_NE(report.find("default port, event 1: Status: expected \"Event\", got \"Incident\""), std::string::npos)
      << report;
  EXPECT_NE(report.find("0 passed, 1 failed"), std::string::npos) << report;
}

TEST(PipelineTestsTest, UnknownCaseKeyIsAConfigError) {
  TempDir dir;
  write_file(dir / "case.yaml", "tests:\n  - name: typo\n    componnet: once_per_id\n    input: []\n");

  const int exit_code =
      run_slipway({"test", "-c", (kPipelines / "dedupe-slips-double-publishing.yaml").string(),
                   (dir / "case.yaml").string()},
                  dir / "stdout", dir / "stderr", example_environment(dir));

  EXPECT_EQ(exit_code, 78);
  EXPECT_NE(read_file(dir / "stderr").find("case.yaml:3:5: unknown key \"componnet\" in a test case; did you mean "
                                           "\"component\"?"),
            std::string::npos)
      << read_file(dir / "stderr");
}

TEST(PipelineTestsTest, DifferenceNamesNestedPaths) {
  const std::string difference = pipeline_tests::describe_difference(
      R"({"Source":[{"IP4":["1.2.3.4"]}],"Note":"x"})", R"({"Source":[{"IP4":["1.2.3.5"]}],"Extra":1})");

  EXPECT_EQ(difference,
            "Source[0].IP4[0]: expected \"1.2.3.4\", got \"1.2.3.5\"\n"
            "Note: missing, expected \"x\"\n"
            "Extra: not expected, got 1");
}

}  // namespace
}  // namespace slipway::testing
