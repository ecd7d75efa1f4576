// The main job end to end: the slipway program tails a real Slips
// alerts.json through idea_normalize into a file, and every record comes
// out as valid IDEA0 with its original ID.
#include <cstdio>
#include <fstream>
#include <set>

#include <fmt/format.h>
#include <gtest/gtest.h>

#include "engine/json.hpp"
#include "tests/support/process.hpp"
#include "tests/support/temp_dir.hpp"

namespace slipway::testing {
namespace {

std::vector<std::string> ids_of(const std::filesystem::path& path) {
  std::vector<std::string> ids;
  std::ifstream stream(path);
  for (std::string line; std::getline(stream, line);) {
    json::ParseResult parsed = json::parse(line);
    const json::Value* id = parsed.value ? parsed.value->find("ID") : nullptr;
    ids.push_back(id != nullptr && id->is_string() ? id->as_string() : "");
  }
  return ids;
}

// Runs Debian's python3 with python3-jsonschema over `records`; returns its output line.
std::string validate_with_schema(const std::filesystem::path& schema, const std::filesystem::path& records) {
  const std::string command = fmt::format(
      "/usr/bin/python3 -c 'import json,sys,jsonschema\n"
      "v=jsonschema.Draft4Validator(json.load(open(sys.argv[1])))\n"
      "bad=sum(1 for l in open(sys.argv[2]) if list(v.iter_errors(json.loads(l))))\n"
      "print(\"invalid=%d\" % bad)' {} {}",
      schema.string(), records.string());
  std::FILE* pipe = ::popen(command.c_str(), "r");
  if (pipe == nullptr) {
    return "popen failed";
  }
  char buffer[256] = {};
  const std::size_t length = std::fread(buffer, 1, sizeof(buffer) - 1, pipe);
  ::pclose(pipe);
  return std::string(buffer, length);
}

// 1731 real legacy alerts become 1731 valid IDEA0 records with the same IDs.
TEST(SlipsAlertsPipelineTest, NormalizesRealAlertsFile) {
  const std::filesystem::path alerts = shared_path("fixtures/slips/alerts-2023-02-20.json");
  const std::filesystem::path schema = shared_path("reference/idea.schema.json");
  if (alerts.empty() || schema.empty()) {
    GTEST_SKIP() << "the shared fixtures beside the repository are absent";
  }
  TempDir dir;
  const std::filesystem::path output = dir / "alerts.idea.json";
  write_file(dir / "pipeline.yaml", fmt::format(R"(
data_dir: {}
inputs:
  alerts: {{type: file, paths: [{}], exit_at_eof: true}}
filters:
  idea: {{type: idea_normalize, from: [alerts]}}
outputs:
  archive: {{type: file, from: [idea], path: {}}}
)",
                                                (dir / "var").string(), alerts.string(), output.string()));

  ASSERT_EQ(run_slipway({"run", (dir / "pipeline.yaml").string()}, dir / "stdout", dir / "stderr"), 0)
      << read_file(dir / "stderr");

  const std::vector<std::string> input_ids = ids_of(alerts);
  const std::vector<std::string> output_ids = ids_of(output);
  ASSERT_EQ(input_ids.size(), 1731u);
  EXPECT_EQ(output_ids, input_ids);
  EXPECT_FALSE(std::filesystem::exists(dir / "var" / "dead_letter.json"));
  EXPECT_EQ(validate_with_schema(schema, output), "invalid=0\n");
}

}  // namespace
}  // namespace slipway::testing
