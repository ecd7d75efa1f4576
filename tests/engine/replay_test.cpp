// `slipway replay` over generated rotated, plain and gzip alert files: file
// order, time selection, pacing, resuming, and its errors.
#include "engine/replay.hpp"

#include <signal.h>
#include <zlib.h>

#include <chrono>
#include <fstream>
#include <vector>

#include <fmt/format.h>
#include <gtest/gtest.h>

#include "tests/support/process.hpp"
#include "tests/support/temp_dir.hpp"

namespace slipway::testing {
namespace {

constexpr auto kRunTimeout = std::chrono::seconds(60);

// One alert per second from 2024-03-01T00:00:00Z, with IDs id-00000 upwards.
std::string alert_lines(int first, int count) {
  std::string text;
  for (int number = first; number < first + count; ++number) {
    text += fmt::format(R"({{"Format": "IDEA0", "ID": "id-{:05}", "DetectTime": "2024-03-01T{:02}:{:02}:{:02}Z"}})"
                        "\n",
                        number, number / 3600, number / 60 % 60, number % 60);
  }
  return text;
}

void write_gzip(const std::filesystem::path& path, std::string_view content) {
  gzFile file = gzopen(path.c_str(), "wb");
  ASSERT_NE(file, nullptr);
  ASSERT_EQ(gzwrite(file, content.data(), static_cast<unsigned>(content.size())), static_cast<int>(content.size()));
  ASSERT_EQ(gzclose(file), Z_OK);
}

std::vector<std::string> ids_in(const std::filesystem::path& path) {
  std::vector<std::string> ids;
  std::ifstream stream(path);
  std::string line;
  while (std::getline(stream, line)) {
    const std::size_t start = line.find("\"id-");
    ids.push_back(start == std::string::npos ? line : line.substr(start + 1, 8));
  }
  return ids;
}

std::vector<std::string> expected_ids(int first, int end) {
  std::vector<std::string> ids;
  for (int number = first; number < end; ++number) {
    ids.push_back(fmt::format("id-{:05}", number));
  }
  return ids;
}

class ReplayTest : public ::testing::Test {
 protected:
  void SetUp() override {
    // Oldest first: the .2.gz archive, then .1, then the current file.
    write_gzip(dir_ / "alerts.json.2.gz", alert_lines(0, 100));
    write_file(dir_ / "alerts.json.1", alert_lines(100, 100));
    write_file(dir_ / "alerts.json", alert_lines(200, 100));
    write_file(pipeline_, fmt::format(R"(data_dir: {0}/var
inputs:
  alerts:
    type: file
    paths: [{0}/live/alerts.json]
outputs:
  archive:
    type: file
    from: [alerts]
    path: {0}/out.json
)",
                                      dir_.path().string()));
  }

  int replay(std::vector<std::string> arguments) {
    arguments.insert(arguments.begin(), {"replay", "-c", pipeline_.string()});
    arguments.push_back((dir_ / "alerts.json*").string());
    return run_slipway(arguments, dir_ / "stdout", dir_ / "stderr", {}, kRunTimeout);
  }

  std::filesystem::path output() const { return dir_ / "out.json"; }

  TempDir dir_;
  std::filesystem::path pipeline_ = dir_ / "pipeline.yaml";
};

TEST_F(ReplayTest, SendsRotatedAndGzipFilesOnceInOrder) {
  ASSERT_EQ(replay({}), 0) << read_file(dir_ / "stderr");

  EXPECT_EQ(ids_in(output()), expected_ids(0, 300));
  EXPECT_NE(read_file(dir_ / "stdout").find("Replay finished: 3 files, 300 events read"), std::string::npos)
      << read_file(dir_ / "stdout");
}

TEST_F(ReplayTest, RunAgainSendsNothingUnlessRestarted) {
  ASSERT_EQ(replay({}), 0) << read_file(dir_ / "stderr");
  ASSERT_EQ(replay({}), 0) << read_file(dir_ / "stderr");
  EXPECT_EQ(count_lines(output()), 300u);

  ASSERT_EQ(replay({"--restart"}), 0) << read_file(dir_ / "stderr");
  EXPECT_EQ(count_lines(output()), 600u);
}

TEST_F(ReplayTest, LeavesLiveCheckpointsAlone) {
  ASSERT_EQ(replay({}), 0) << read_file(dir_ / "stderr");

  EXPECT_FALSE(std::filesystem::exists(dir_ / "var" / "checkpoints.db"));
  EXPECT_TRUE(std::filesystem::exists(dir_ / "var" / "replays"));
}

TEST_F(ReplayTest, SinceAndUntilSelectExactly) {
  ASSERT_EQ(replay({"--since", "2024-03-01T00:01:00Z", "--until", "2024-03-01T00:03:00Z"}), 0)
      << read_file(dir_ / "stderr");

  EXPECT_EQ(ids_in(output()), expected_ids(60, 180));
}

TEST_F(ReplayTest, SpeedPacesByOriginalTime) {
  // 300 alerts span 299 s; at 150 times real speed that takes about 2 s.
  const auto started = std::chrono::steady_clock::now();
  ASSERT_EQ(replay({"--speed", "150"}), 0) << read_file(dir_ / "stderr");
  const auto elapsed = std::chrono::steady_clock::now() - started;

  EXPECT_GE(elapsed, std::chrono::milliseconds(1900));
  EXPECT_EQ(ids_in(output()), expected_ids(0, 300));
}

TEST_F(ReplayTest, InterruptedReplayContinuesWhereItStopped) {
  {
    // At 20 times real speed the 299 s of alerts take 15 s, long enough to interrupt.
    ChildProcess engine({slipway_binary(), "replay", "-c", pipeline_.string(), "--speed", "20",
                         (dir_ / "alerts.json*").string()},
                        dir_ / "stdout", dir_ / "stderr");
    ASSERT_TRUE(wait_until([&] { return count_lines(output()) >= 30; }, kRunTimeout)) << read_file(dir_ / "stderr");
    engine.send_signal(SIGINT);
    EXPECT_EQ(engine.wait(kRunTimeout), std::optional<int>(1)) << read_file(dir_ / "stderr");
  }
  EXPECT_NE(read_file(dir_ / "stdout").find("run the same command again to continue"), std::string::npos)
      << read_file(dir_ / "stdout");
  ASSERT_LT(count_lines(output()), 300u);

  ASSERT_EQ(replay({}), 0) << read_file(dir_ / "stderr");
  EXPECT_EQ(ids_in(output()), expected_ids(0, 300));
}

TEST_F(ReplayTest, InvalidTimeIsAUsageError) {
  EXPECT_EQ(replay({"--since", "yesterday"}), 64);
  EXPECT_NE(read_file(dir_ / "stderr").find("invalid time \"yesterday\" for --since"), std::string::npos)
      << read_file(dir_ / "stderr");
}

TEST_F(ReplayTest, UnmatchedPatternIsAUsageError) {
  const int exit_code = run_slipway({"replay", "-c", pipeline_.string(), (dir_ / "nothing*.json").string()},
                                    dir_ / "stdout", dir_ / "stderr");

  EXPECT_EQ(exit_code, 64);
  EXPECT_NE(read_file(dir_ / "stderr").find("no file matches"), std::string::npos) << read_file(dir_ / "stderr");
}

TEST(ReplayFileOrderTest, OldestRotationFirst) {
  TempDir dir;
  for (const char* name : {"a.json", "a.json.1", "a.json.2.gz", "a.json.10.gz", "b.json"}) {
    write_file(dir / name, "");
  }

  const std::vector<std::filesystem::path> files = replay::order_files({(dir / "*").string()});

  std::vector<std::string> names;
  for (const std::filesystem::path& file : files) {
    names.push_back(file.filename().string());
  }
  EXPECT_EQ(names, (std::vector<std::string>{"a.json.10.gz", "a.json.2.gz", "a.json.1", "a.json", "b.json"}));
}

TEST(ReplayGunzipTest, TruncatedArchiveIsRejected) {
  TempDir dir;
  write_gzip(dir / "whole.gz", alert_lines(0, 1000));
  const std::string whole = read_file(dir / "whole.gz");
  write_file(dir / "cut.gz", std::string_view(whole).substr(0, whole.size() / 2));

  EXPECT_THROW(replay::gunzip_file(dir / "cut.gz", dir / "cut"), std::runtime_error);
  EXPECT_FALSE(std::filesystem::exists(dir / "cut"));
  replay::gunzip_file(dir / "whole.gz", dir / "whole");
  EXPECT_EQ(read_file(dir / "whole"), alert_lines(0, 1000));
}

}  // namespace
}  // namespace slipway::testing
