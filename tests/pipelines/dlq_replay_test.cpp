// `slipway dlq replay OUTPUT_ID -c PIPELINE` against a loopback HTTP
// server: delivered events leave the dead-letter file, events rejected again
// stay in it, and the output's retry policy applies.
#include <mutex>
#include <set>

#include <fmt/format.h>
#include <gtest/gtest.h>

#include "tests/support/alert_files.hpp"
#include "tests/support/http_test_server.hpp"
#include "tests/support/process.hpp"
#include "tests/support/temp_dir.hpp"

namespace slipway::testing {
namespace {

constexpr std::uint64_t kAlerts = 50;

class DlqReplayTest : public ::testing::Test {
 protected:
  DlqReplayTest() {
    server_.set_responder([this](const ReceivedRequest& request) {
      std::lock_guard lock(mutex_);
      const std::optional<std::uint64_t> number = alert_number(request.body);
      if (!number || rejected_(*number)) {
        return HttpReply{.status = 400, .body = R"({"error":"rejected by the test"})"};
      }
      accepted_.insert(*number);
      return HttpReply{};
    });
    append_numbered_alerts(dir_ / "alerts.json", 1, kAlerts);
    write_file(pipeline(), fmt::format(R"(
data_dir: {}
inputs:
  alerts: {{type: file, paths: [{}], exit_at_eof: true}}
outputs:
  share:
    type: http
    from: [alerts]
    url: {}
    batch_max_events: 1
    retry: {{max_retries: 2, initial_backoff_ms: 1, max_backoff_ms: 10}}
)",
                                       (dir_ / "var").string(), (dir_ / "alerts.json").string(),
                                       server_.url("/ingest")));
  }

  void reject_when(std::function<bool(std::uint64_t)> rejected) {
    std::lock_guard lock(mutex_);
    rejected_ = std::move(rejected);
  }

  std::set<std::uint64_t> accepted() {
    std::lock_guard lock(mutex_);
    return accepted_;
  }

  int replay(const std::string& output_id) {
    return run_slipway({"dlq", "replay", output_id, "-c", pipeline().string()}, stdout_path(), stderr_path());
  }

  std::filesystem::path pipeline() const { return dir_ / "pipeline.yaml"; }
  std::filesystem::path dead_letters() const { return dir_ / "var" / "dead_letter" / "share.json"; }
  std::filesystem::path stdout_path() const { return dir_ / "stdout.txt"; }
  std::filesystem::path stderr_path() const { return dir_ / "stderr.txt"; }

  TempDir dir_;
  HttpTestServer server_;
  std::mutex mutex_;
  std::function<bool(std::uint64_t)> rejected_ = [](std::uint64_t) { return true; };
  std::set<std::uint64_t> accepted_;
};

// A replay removes what was delivered and keeps, as new dead letters, what
// the destination rejected again; a second replay after the fix empties it.
TEST_F(DlqReplayTest, KeepsOnlyEventsThatFailAgain) {
  ASSERT_EQ(run_slipway({"run", pipeline().string()}, stdout_path(), stderr_path()), 0) << read_file(stderr_path());
  ASSERT_EQ(count_lines(dead_letters()), kAlerts);

  reject_when([](std::uint64_t number) { return number % 10 == 0; });
  EXPECT_EQ(replay("share"), 1) << read_file(stderr_path());
  EXPECT_NE(read_file(stdout_path()).find("50 events replayed: 45 delivered, 5 dead-lettered again"),
            std::string::npos)
      << read_file(stdout_path());
  EXPECT_EQ(accepted().size(), 45u);
  const AlertCounts left = count_alerts_in_file(dead_letters());
  EXPECT_EQ(left, (AlertCounts{{10, 1}, {20, 1}, {30, 1}, {40, 1}, {50, 1}}));
  EXPECT_NE(read_file(dead_letters()).find("\"attempts\":1"), std::string::npos);
  EXPECT_FALSE(std::filesystem::exists(dead_letters().string() + ".replaying"));

  // The destination is fixed but replies 503 once, which the retry policy covers.
  reject_when([](std::uint64_t) { return false; });
  server_.enqueue(HttpReply{.status = 503});
  EXPECT_EQ(replay("share"), 0) << read_file(stderr_path());
  EXPECT_EQ(accepted().size(), kAlerts);
  EXPECT_EQ(count_lines(dead_letters()), 0u);

  EXPECT_EQ(replay("share"), 0);
  EXPECT_NE(read_file(stdout_path()).find("no dead letters to replay"), std::string::npos);
}

// An id that is not an output is a usage error that lists the outputs.
TEST_F(DlqReplayTest, RejectsUnknownOutputId) {
  EXPECT_EQ(replay("shares"), 64);
  EXPECT_NE(read_file(stderr_path()).find("no output with id \"shares\"; the outputs are: share"), std::string::npos)
      << read_file(stderr_path());
}

}  // namespace
}  // namespace slipway::testing
