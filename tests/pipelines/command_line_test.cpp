// The slipway program as users run it: exit codes, messages, and what a
// run leaves behind, including after a restart.
#include <signal.h>

#include <fstream>
#include <set>

#include <fmt/format.h>
#include <gtest/gtest.h>

#include "tests/support/process.hpp"
#include "tests/support/temp_dir.hpp"

namespace slipway::testing {
namespace {

constexpr auto kRunTimeout = std::chrono::seconds(60);

std::set<std::string> ids_in(const std::filesystem::path& path) {
  std::set<std::string> ids;
  std::ifstream stream(path);
  std::string line;
  while (std::getline(stream, line)) {
    const std::size_t key = line.find("\"ID\"");
    if (key == std::string::npos) {
      continue;
    }
    const std::size_t open = line.find('"', line.find(':', key) + 1);
    const std::size_t close = line.find('"', open + 1);
    ids.insert(line.substr(open + 1, close - open - 1));
  }
  return ids;
}

std::string alert_line(int number) {
  return fmt::format(
      R"({{"Format": "IDEA0", "ID": "00000099-0000-4000-8000-{:012d}", "DetectTime": "2024-04-09T10:00:00Z", )"
      R"("Category": ["Recon.Scanning"], "Description": "record {}"}})"
      "\n",
      number, number);
}

class CommandLineTest : public ::testing::Test {
 protected:
  std::filesystem::path write_pipeline(const std::string& yaml) {
    const std::filesystem::path path = dir_ / "pipeline.yaml";
    write_file(path, yaml);
    return path;
  }

  // A file-to-file pipeline over `input`, reading to the end when `replay`.
  std::filesystem::path pass_through_pipeline(const std::filesystem::path& input, bool replay) {
    return write_pipeline(fmt::format(R"(
data_dir: {}
inputs:
  alerts:
    type: file
    paths: [{}]
    exit_at_eof: {}
outputs:
  archive:
    type: file
    from: [alerts]
    path: {}
)",
                                      (dir_ / "var").string(), input.string(), replay ? "true" : "false",
                                      output_path().string()));
  }

  std::filesystem::path output_path() const { return dir_ / "out" / "alerts.json"; }
  std::filesystem::path stdout_path() const { return dir_ / "stdout.txt"; }
  std::filesystem::path stderr_path() const { return dir_ / "stderr.txt"; }

  TempDir dir_;
};

// A valid file passes validation with exit code 0.
TEST_F(CommandLineTest, ValidateAcceptsValidFile) {
  const auto pipeline = pass_through_pipeline(dir_ / "alerts.json", true);
  EXPECT_EQ(run_slipway({"validate", pipeline.string()}, stdout_path(), stderr_path()), 0)
      << read_file(stderr_path());
  EXPECT_NE(read_file(stdout_path()).find("valid (1 inputs, 0 filters, 1 outputs)"), std::string::npos);
}

// An invalid file fails with exit code 78, every problem listed, and `run`
// refuses to start: no output file is created.
TEST_F(CommandLineTest, InvalidFileStopsStartup) {
  const auto pipeline = write_pipeline(fmt::format(R"(
data_dir: {}
inputs:
  alerts: {{type: file, paths: [{}], start_at: middle}}
outputs:
  archive: {{type: file, from: [alerts], path: {}, formt: json}}
)",
                                                   (dir_ / "var").string(), (dir_ / "alerts.json").string(),
                                                   output_path().string()));
  EXPECT_EQ(run_slipway({"validate", pipeline.string()}, stdout_path(), stderr_path()), 78);
  const std::string messages = read_file(stderr_path());
  EXPECT_NE(messages.find("pipeline.yaml:4:"), std::string::npos) << messages;
  EXPECT_NE(messages.find("input \"alerts\" (file): key \"start_at\": invalid value \"middle\"; expected one of: "
                          "beginning, end"),
            std::string::npos)
      << messages;
  EXPECT_NE(messages.find("unknown key \"formt\"; did you mean \"format\"?"), std::string::npos) << messages;

  EXPECT_EQ(run_slipway({"run", pipeline.string()}, stdout_path(), stderr_path()), 78);
  EXPECT_FALSE(std::filesystem::exists(output_path()));
}

// An unset variable stops startup and names the variable.
TEST_F(CommandLineTest, UnsetVariableStopsStartup) {
  const auto pipeline = write_pipeline(fmt::format(R"(
data_dir: {}
inputs:
  alerts: {{type: file, paths: ["${{SITE}}/alerts.json"]}}
outputs:
  archive: {{type: file, from: [alerts], path: {}}}
)",
                                                   (dir_ / "var").string(), output_path().string()));
  EXPECT_EQ(run_slipway({"run", pipeline.string()}, stdout_path(), stderr_path(), {{"SITE_OTHER", "x"}}), 78);
  const std::string messages = read_file(stderr_path());
  EXPECT_NE(messages.find("pipeline.yaml:4:32: key \"inputs.alerts.paths[0]\": environment variable \"SITE\" is not "
                          "set"),
            std::string::npos)
      << messages;
}

// A replay reads the file to its end, writes every record and exits 0.
TEST_F(CommandLineTest, ReplayWritesEveryRecord) {
  std::string content;
  for (int number = 1; number <= 2500; ++number) {
    content += alert_line(number);
  }
  write_file(dir_ / "alerts.json", content);
  const auto pipeline = pass_through_pipeline(dir_ / "alerts.json", true);

  ASSERT_EQ(run_slipway({"run", pipeline.string()}, stdout_path(), stderr_path(), {}, kRunTimeout), 0)
      << read_file(stderr_path());
  EXPECT_EQ(read_file(output_path()), content);
}

// After SIGTERM the pipeline drains and stores its checkpoint, so a restart
// sends only what was appended while it was stopped: each record once.
TEST_F(CommandLineTest, RestartAfterSigtermSendsEachRecordOnce) {
  const std::filesystem::path input = dir_ / "alerts.json";
  std::string first_part;
  for (int number = 1; number <= 100; ++number) {
    first_part += alert_line(number);
  }
  write_file(input, first_part);
  const auto pipeline = pass_through_pipeline(input, false);

  {
    ChildProcess engine({slipway_binary(), "run", pipeline.string()}, stdout_path(), stderr_path());
    ASSERT_TRUE(wait_until([&] { return count_lines(output_path()) == 100; }, kRunTimeout));
    engine.send_signal(SIGTERM);
    ASSERT_EQ(engine.wait(kRunTimeout), 0) << read_file(stderr_path());
  }

  std::string second_part;
  for (int number = 101; number <= 150; ++number) {
    second_part += alert_line(number);
  }
  append_file(input, second_part);

  {
    ChildProcess engine({slipway_binary(), "run", pipeline.string()}, stdout_path(), stderr_path());
    ASSERT_TRUE(wait_until([&] { return count_lines(output_path()) >= 150; }, kRunTimeout));
    engine.send_signal(SIGTERM);
    ASSERT_EQ(engine.wait(kRunTimeout), 0) << read_file(stderr_path());
  }

  EXPECT_EQ(read_file(output_path()), first_part + second_part);
}

// A SIGKILL loses nothing: after a restart every record is in the output.
TEST_F(CommandLineTest, RestartAfterSigkillLosesNothing) {
  const std::filesystem::path input = dir_ / "alerts.json";
  constexpr int kRecords = 200000;
  std::string content;
  for (int number = 1; number <= kRecords; ++number) {
    content += alert_line(number);
  }
  write_file(input, "");
  const auto pipeline = pass_through_pipeline(input, false);

  {
    ChildProcess engine({slipway_binary(), "run", pipeline.string()}, stdout_path(), stderr_path());
    append_file(input, content);
    ASSERT_TRUE(wait_until([&] { return count_lines(output_path()) > 1000; }, kRunTimeout));
    engine.send_signal(SIGKILL);
    engine.wait(kRunTimeout);
  }
  {
    ChildProcess engine({slipway_binary(), "run", pipeline.string()}, stdout_path(), stderr_path());
    const bool every_record_arrived = wait_until(
        [&] { return count_lines(output_path()) >= kRecords && ids_in(output_path()).size() == kRecords; },
        kRunTimeout);
    ASSERT_TRUE(every_record_arrived) << ids_in(output_path()).size() << " of " << kRecords << " records";
    engine.send_signal(SIGTERM);
    ASSERT_EQ(engine.wait(kRunTimeout), 0) << read_file(stderr_path());
  }
  EXPECT_GE(count_lines(output_path()), static_cast<std::size_t>(kRecords));
}

// --version prints the version and exits 0.
TEST_F(CommandLineTest, PrintsVersion) {
  EXPECT_EQ(run_slipway({"--version"}, stdout_path(), stderr_path()), 0);
  EXPECT_NE(read_file(stdout_path()).find("slipway "), std::string::npos);
}

}  // namespace
}  // namespace slipway::testing
