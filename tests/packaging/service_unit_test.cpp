// The systemd unit in packaging/ starts commands the binary has, validates
// the pipeline the package installs, and gives the drain enough time.
#include <map>
#include <sstream>

#include <gtest/gtest.h>

#include "config/pipeline_config.hpp"
#include "tests/support/process.hpp"
#include "tests/support/temp_dir.hpp"

namespace slipway::testing {
namespace {

const std::filesystem::path kPackagingDir = std::filesystem::path(SLIPWAY_SOURCE_DIR) / "packaging";
constexpr std::string_view kInstalledBinary = "/usr/bin/slipway";
constexpr std::string_view kInstalledPipeline = "/etc/slipway/pipeline.yaml";
// packaging.cmake installs this example as /etc/slipway/pipeline.yaml.
const std::filesystem::path kPackagedPipeline =
    std::filesystem::path(SLIPWAY_SOURCE_DIR) / "pipelines" / "slips-alerts-to-idea.yaml";

// The KEY=VALUE lines of a unit or environment file, comments left out.
std::multimap<std::string, std::string> read_assignments(const std::filesystem::path& path) {
  std::multimap<std::string, std::string> assignments;
  std::istringstream lines(read_file(path));
  for (std::string line; std::getline(lines, line);) {
    const std::size_t equals = line.find('=');
    if (line.empty() || line.front() == '#' || line.front() == '[' || equals == std::string::npos) {
      continue;
    }
    assignments.emplace(line.substr(0, equals), line.substr(equals + 1));
  }
  return assignments;
}

std::string single(const std::multimap<std::string, std::string>& assignments, const std::string& key) {
  EXPECT_EQ(assignments.count(key), 1u) << key;
  const auto found = assignments.find(key);
  return found == assignments.end() ? std::string() : found->second;
}

// The command line of an Exec* setting, with the installed paths replaced
// by the built binary and the source of the installed pipeline.
std::vector<std::string> command_of(const std::string& exec_line) {
  std::vector<std::string> words;
  std::istringstream stream(exec_line);
  for (std::string word; stream >> word;) {
    if (word == kInstalledBinary) {
      word = slipway_binary();
    } else if (word == kInstalledPipeline) {
      word = kPackagedPipeline.string();
    }
    words.push_back(word);
  }
  return words;
}

class ServiceUnitTest : public ::testing::Test {
 protected:
  // The service's environment: the package's /etc/default/slipway with
  // the directories moved into the temp dir.
  std::map<std::string, std::string> environment() const {
    std::map<std::string, std::string> variables;
    for (const auto& [key, value] : read_assignments(kPackagingDir / "slipway.default")) {
      variables[key] = value;
    }
    EXPECT_TRUE(variables.contains("SLIPS_OUTPUT"));
    variables["SLIPS_OUTPUT"] = (dir_ / "slips").string();
    variables["SLIPWAY_DATA_DIR"] = (dir_ / "state").string();
    return variables;
  }

  int run(std::vector<std::string> command) {
    command.erase(command.begin());  // run_slipway starts the binary itself
    return run_slipway(command, dir_ / "stdout", dir_ / "stderr", environment());
  }

  TempDir dir_;
  std::multimap<std::string, std::string> unit_ = read_assignments(kPackagingDir / "slipway.service");
};

TEST_F(ServiceUnitTest, StartPreValidatesInstalledPipeline) {
  const std::vector<std::string> command = command_of(single(unit_, "ExecStartPre"));
  ASSERT_GE(command.size(), 2u);
  EXPECT_EQ(command[0], slipway_binary());
  EXPECT_EQ(command[1], "validate");

  EXPECT_EQ(run(command), 0) << read_file(dir_ / "stderr");
  EXPECT_NE(read_file(dir_ / "stdout").find(": valid ("), std::string::npos) << read_file(dir_ / "stdout");
}

// `--help` after the arguments makes the binary check the subcommand and its arguments without running it.
TEST_F(ServiceUnitTest, StartRunsInstalledPipeline) {
  std::vector<std::string> command = command_of(single(unit_, "ExecStart"));
  ASSERT_EQ(command.size(), 3u);
  EXPECT_EQ(command[0], slipway_binary());
  EXPECT_EQ(command[1], "run");
  EXPECT_EQ(command[2], kPackagedPipeline.string());

  command.push_back("--help");
  EXPECT_EQ(run(command), 0) << read_file(dir_ / "stderr");
  EXPECT_NE(read_file(dir_ / "stdout").find("Run a pipeline"), std::string::npos) << read_file(dir_ / "stdout");
}

TEST_F(ServiceUnitTest, ReloadSendsHangup) {
  EXPECT_EQ(single(unit_, "ExecReload"), "/bin/kill -HUP $MAINPID");
}

// The stop timeout must outlast the drain, which takes up to shutdown_timeout_secs.
TEST_F(ServiceUnitTest, StopWaitsLongerThanDrain) {
  const config::Field* drain = config::pipeline_schema().find("shutdown_timeout_secs");
  ASSERT_NE(drain, nullptr);

  EXPECT_EQ(single(unit_, "KillSignal"), "SIGTERM");
  EXPECT_GT(std::stoi(single(unit_, "TimeoutStopSec")), std::stoi(drain->default_text));
}

TEST_F(ServiceUnitTest, RunsAsDedicatedUser) {
  EXPECT_EQ(single(unit_, "User"), "slipway");
  EXPECT_EQ(single(unit_, "StateDirectory"), "slipway");
  EXPECT_EQ(single(unit_, "Environment"), "SLIPWAY_DATA_DIR=/var/lib/slipway");
  EXPECT_NE(read_file(kPackagingDir / "postinst").find("adduser --system --group"), std::string::npos);
}

}  // namespace
}  // namespace slipway::testing
