// A disk-buffered http output across an outage and a SIGKILL. Events count
// as accepted once on disk, so the input's checkpoint moves on while the
// destination refuses connections. The restarted pipeline delivers them
// from the buffer once the destination is back.
#include <signal.h>

#include <mutex>

#include <fmt/format.h>
#include <gtest/gtest.h>

#include "tests/support/alert_files.hpp"
#include "tests/support/http_test_server.hpp"
#include "tests/support/process.hpp"
#include "tests/support/temp_dir.hpp"

namespace slipway::testing {
namespace {

constexpr auto kStepTimeout = std::chrono::seconds(60);

class DiskBufferRestartTest : public ::testing::Test {
 protected:
  DiskBufferRestartTest() {
    server_.set_recording(false);
    server_.set_responder([this](const ReceivedRequest& request) {
      std::lock_guard lock(mutex_);
      count_alerts(request.body, received_);
      return HttpReply{};
    });
  }

  std::filesystem::path write_pipeline(int shutdown_timeout_secs = 30) {
    const std::filesystem::path path = dir_ / "pipeline.yaml";
    write_file(path, fmt::format(R"(
data_dir: {}
shutdown_timeout_secs: {}
api: {{address: "127.0.0.1:0"}}
inputs:
  alerts: {{type: file, paths: [{}]}}
outputs:
  archive: {{type: file, from: [alerts], path: {}}}
  share:
    type: http
    from: [alerts]
    url: {}
    batch_max_events: 500
    buffer: {{type: disk, max_bytes: 67108864}}
    retry: {{initial_backoff_ms: 20, max_backoff_ms: 200}}
)",
                                 data_dir().string(), shutdown_timeout_secs, input().string(), archive().string(),
                                 server_.url("/ingest")));
    return path;
  }

  std::size_t received_alerts() {
    std::lock_guard lock(mutex_);
    return received_.size();
  }

  std::filesystem::path data_dir() const { return dir_ / "var"; }
  std::filesystem::path input() const { return dir_ / "alerts.json"; }
  std::filesystem::path archive() const { return dir_ / "archive.json"; }

  TempDir dir_;
  HttpTestServer server_;
  std::mutex mutex_;
  AlertCounts received_;
};

// Every alert reaches the http destination although the pipeline was killed
// while it refused connections, and the input does not read them again.
TEST_F(DiskBufferRestartTest, DeliversEveryAlertAfterKillDuringOutage) {
  constexpr std::uint64_t kAlerts = 5000;
  server_.stop();
  append_numbered_alerts(input(), 1, kAlerts);
  const std::filesystem::path pipeline = write_pipeline();

  ChildProcess first({slipway_binary(), "run", pipeline.string()}, dir_ / "stdout1.txt", dir_ / "stderr1.txt");
  std::optional<int> port;
  ASSERT_TRUE(wait_until([&] { return (port = api_port_from_log(dir_ / "stderr1.txt")).has_value(); }, kStepTimeout))
      << read_file(dir_ / "stderr1.txt");
  ASSERT_TRUE(wait_until(
      [&] { return scrape_metric(*port, "slipway_component_buffer_events", "share") == double(kAlerts); },
      kStepTimeout))
      << read_file(dir_ / "stderr1.txt");
  // The checkpoint reaching the end of the file proves the events count as
  // accepted while the destination is still down.
  const auto input_size = std::filesystem::file_size(input());
  ASSERT_TRUE(wait_until([&] { return committed_input_offset(data_dir(), "alerts") == input_size; }, kStepTimeout));
  EXPECT_GT(scrape_metric(*port, "slipway_component_buffer_bytes", "share").value_or(0), 0.0);
  EXPECT_EQ(received_alerts(), 0u);

  first.send_signal(SIGKILL);
  ASSERT_EQ(first.wait(kStepTimeout), 128 + SIGKILL);
  server_.restart();

  ChildProcess second({slipway_binary(), "run", pipeline.string()}, dir_ / "stdout2.txt", dir_ / "stderr2.txt");
  ASSERT_TRUE(wait_until([&] { return received_alerts() == kAlerts; }, kStepTimeout))
      << "received " << received_alerts() << "\n"
      << read_file(dir_ / "stderr2.txt");
  second.send_signal(SIGTERM);
  EXPECT_EQ(second.wait(kStepTimeout), 0) << read_file(dir_ / "stderr2.txt");

  {
    std::lock_guard lock(mutex_);
    EXPECT_EQ(missing_alerts(received_, kAlerts), 0u);
    EXPECT_EQ(duplicate_alerts(received_), 0u);
  }
  const AlertCounts archived = count_alerts_in_file(archive());
  EXPECT_EQ(missing_alerts(archived, kAlerts), 0u);
  EXPECT_EQ(duplicate_alerts(archived), 0u);
  EXPECT_NE(read_file(dir_ / "stderr2.txt").find("Disk buffer holds events from an earlier run"), std::string::npos);
}

// A stop during an outage ends at the shutdown timeout and leaves the
// backlog on disk, and the next run delivers it exactly once.
TEST_F(DiskBufferRestartTest, SigtermDuringOutageKeepsBacklog) {
  constexpr std::uint64_t kAlerts = 2000;
  server_.stop();
  append_numbered_alerts(input(), 1, kAlerts);
  const std::filesystem::path pipeline = write_pipeline(1);

  ChildProcess first({slipway_binary(), "run", pipeline.string()}, dir_ / "stdout1.txt", dir_ / "stderr1.txt");
  std::optional<int> port;
  ASSERT_TRUE(wait_until([&] { return (port = api_port_from_log(dir_ / "stderr1.txt")).has_value(); }, kStepTimeout))
      << read_file(dir_ / "stderr1.txt");
  ASSERT_TRUE(wait_until(
      [&] { return scrape_metric(*port, "slipway_component_buffer_events", "share") == double(kAlerts); },
      kStepTimeout));
  first.send_signal(SIGTERM);
  ASSERT_EQ(first.wait(kStepTimeout), 0) << read_file(dir_ / "stderr1.txt");
  EXPECT_NE(read_file(dir_ / "stderr1.txt").find("the events left in the disk buffer are delivered after the next "
                                                   "start. buffer_events=2000"),
            std::string::npos)
      << read_file(dir_ / "stderr1.txt");

  server_.restart();
  ChildProcess second({slipway_binary(), "run", pipeline.string()}, dir_ / "stdout2.txt", dir_ / "stderr2.txt");
  ASSERT_TRUE(wait_until([&] { return received_alerts() == kAlerts; }, kStepTimeout)) << read_file(dir_ / "stderr2.txt");
  second.send_signal(SIGTERM);
  EXPECT_EQ(second.wait(kStepTimeout), 0) << read_file(dir_ / "stderr2.txt");
  std::lock_guard lock(mutex_);
  EXPECT_EQ(missing_alerts(received_, kAlerts), 0u);
  EXPECT_EQ(duplicate_alerts(received_), 0u);
}

// A full disk buffer set to drop_newest discards arriving events and
// counts them, keeps what it holds, and delivers that after the outage.
TEST_F(DiskBufferRestartTest, DropsNewestWhenFull) {
  server_.stop();
  append_numbered_alerts(input(), 1, 1000);
  const std::filesystem::path pipeline = dir_ / "pipeline.yaml";
  write_file(pipeline, fmt::format(R"(
data_dir: {}
api: {{address: "127.0.0.1:0"}}
inputs:
  alerts: {{type: file, paths: [{}], batch_max_events: 10}}
outputs:
  share:
    type: http
    from: [alerts]
    url: {}
    buffer: {{type: disk, max_events: 100, when_full: drop_newest}}
    retry: {{initial_backoff_ms: 20, max_backoff_ms: 200}}
)",
                                   data_dir().string(), input().string(), server_.url("/ingest")));

  ChildProcess child({slipway_binary(), "run", pipeline.string()}, dir_ / "stdout.txt", dir_ / "stderr.txt");
  std::optional<int> port;
  ASSERT_TRUE(wait_until([&] { return (port = api_port_from_log(dir_ / "stderr.txt")).has_value(); }, kStepTimeout))
      << read_file(dir_ / "stderr.txt");
  ASSERT_TRUE(wait_until(
      [&] { return scrape_metric(*port, "slipway_component_dropped_events_total", "share") == 900.0; },
      kStepTimeout))
      << read_file(dir_ / "stderr.txt");
  EXPECT_EQ(scrape_metric(*port, "slipway_component_buffer_events", "share"), 100.0);

  server_.restart();
  ASSERT_TRUE(wait_until([&] { return received_alerts() == 100; }, kStepTimeout)) << read_file(dir_ / "stderr.txt");
  child.send_signal(SIGTERM);
  EXPECT_EQ(child.wait(kStepTimeout), 0) << read_file(dir_ / "stderr.txt");
  std::lock_guard lock(mutex_);
  EXPECT_EQ(missing_alerts(received_, 100), 0u);
}

// The example pipeline with a disk buffer passes validation.
TEST_F(DiskBufferRestartTest, ExamplePipelineIsValid) {
  const std::filesystem::path example =
      std::filesystem::path(SLIPWAY_SOURCE_DIR) / "pipelines/alerts-to-http-disk-buffer.yaml";
  EXPECT_EQ(run_slipway({"validate", example.string()}, dir_ / "stdout.txt", dir_ / "stderr.txt"), 0)
      << read_file(dir_ / "stderr.txt");
  EXPECT_NE(read_file(dir_ / "stdout.txt").find("valid (1 inputs, 1 filters, 2 outputs)"), std::string::npos);
}

}  // namespace
}  // namespace slipway::testing
