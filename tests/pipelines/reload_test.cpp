// SIGHUP reloads the pipeline file of a running slipway. The errors of an
// invalid file are logged and the running pipeline goes on. A valid file
// replaces the pipeline after it drained, so no event in flight is lost or
// repeated.
#include <signal.h>

#include <fmt/format.h>
#include <gtest/gtest.h>

#include "tests/support/alert_files.hpp"
#include "tests/support/process.hpp"
#include "tests/support/temp_dir.hpp"

namespace slipway::testing {
namespace {

constexpr auto kStepTimeout = std::chrono::seconds(60);

class ReloadTest : public ::testing::Test {
 protected:
  void write_pipeline(const std::filesystem::path& output, std::string_view extra_output_key = "") {
    write_file(pipeline(), fmt::format(R"(
data_dir: {}
inputs:
  alerts: {{type: file, paths: [{}]}}
outputs:
  archive:
    type: file
    from: [alerts]
    path: {}
    {}
)",
                                       (dir_ / "var").string(), input().string(), output.string(),
                                       extra_output_key));
  }

  bool log_contains(std::string_view text) const { return read_file(stderr_path()).find(text) != std::string::npos; }

  std::filesystem::path pipeline() const { return dir_ / "pipeline.yaml"; }
  std::filesystem::path input() const { return dir_ / "alerts.json"; }
  std::filesystem::path first_output() const { return dir_ / "first.json"; }
  std::filesystem::path second_output() const { return dir_ / "second.json"; }
  std::filesystem::path stderr_path() const { return dir_ / "stderr.txt"; }

  TempDir dir_;
};

// An invalid file keeps the old pipeline; a valid one takes over with every
// alert delivered exactly once across both, including those in flight.
TEST_F(ReloadTest, SighupSwitchesOnlyToValidFile) {
  constexpr std::uint64_t kFirst = 100;
  constexpr std::uint64_t kInFlight = 50'000;
  constexpr std::uint64_t kBeforeReload = kFirst + kInFlight + 100;
  constexpr std::uint64_t kLast = kBeforeReload + 100;
  append_numbered_alerts(input(), 1, kFirst);
  write_pipeline(first_output());
  ChildProcess child({slipway_binary(), "run", pipeline().string()}, dir_ / "stdout.txt", stderr_path());
  ASSERT_TRUE(wait_until([&] { return count_lines(first_output()) == kFirst; }, kStepTimeout))
      << read_file(stderr_path());

  write_pipeline(second_output(), "formt: json");
  child.send_signal(SIGHUP);
  ASSERT_TRUE(wait_until([&] { return log_contains("unknown key \"formt\"; did you mean \"format\"?"); },
                         kStepTimeout))
      << read_file(stderr_path());
  EXPECT_TRUE(log_contains("Reload rejected: the pipeline file has errors; the running pipeline continues."));
  append_numbered_alerts(input(), kFirst + 1, kFirst + 100);
  ASSERT_TRUE(wait_until([&] { return count_lines(first_output()) == kFirst + 100; }, kStepTimeout))
      << read_file(stderr_path());

  // A burst is appended and the reload requested while it is being read.
  append_numbered_alerts(input(), kFirst + 101, kBeforeReload);
  write_pipeline(second_output());
  child.send_signal(SIGHUP);
  ASSERT_TRUE(wait_until([&] { return log_contains("Reloaded the pipeline file."); }, kStepTimeout))
      << read_file(stderr_path());
  append_numbered_alerts(input(), kBeforeReload + 1, kLast);
  ASSERT_TRUE(wait_until(
      [&] {
        return count_lines(first_output()) + count_lines(second_output()) >= kLast;
      },
      kStepTimeout))
      << read_file(stderr_path());
  child.send_signal(SIGTERM);
  ASSERT_EQ(child.wait(kStepTimeout), 0) << read_file(stderr_path());

  AlertCounts counts = count_alerts_in_file(first_output());
  count_alerts(read_file(second_output()), counts);
  EXPECT_EQ(missing_alerts(counts, kLast), 0u);
  EXPECT_EQ(duplicate_alerts(counts), 0u);
  EXPECT_EQ(count_lines(first_output()) + count_lines(second_output()), kLast);
  // Alerts appended after the reload went to the new pipeline's output.
  EXPECT_GE(count_lines(second_output()), 100u);
}

}  // namespace
}  // namespace slipway::testing
