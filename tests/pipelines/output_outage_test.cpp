// One output down for a while, in a pipeline with two. The http output
// waits out the outage with its backlog in a disk buffer, while the file
// output of the same input keeps writing. Once the destination accepts
// connections again, it receives every alert. The memory of the process
// stays bounded throughout.
//
// The outage and the backlog are parameters, so the suite stays short:
// SLIPWAY_OUTAGE_SECS (default 3) and SLIPWAY_OUTAGE_ALERTS (default
// 1000000). bench/RESULTS.md records a run with a 60 s outage.
#include <signal.h>

#include <cstdlib>
#include <mutex>

#include <fmt/format.h>
#include <gtest/gtest.h>

#include "tests/support/alert_files.hpp"
#include "tests/support/http_test_server.hpp"
#include "tests/support/process.hpp"
#include "tests/support/temp_dir.hpp"

namespace slipway::testing {
namespace {

constexpr auto kStepTimeout = std::chrono::seconds(300);
constexpr std::uint64_t kMaxPeakRssKib = 128 * 1024;

std::uint64_t parameter(const char* name, std::uint64_t fallback) {
  const char* value = std::getenv(name);
  return value != nullptr && *value != '\0' ? std::stoull(value) : fallback;
}

class OutputOutageTest : public ::testing::Test {
 protected:
  OutputOutageTest() {
    server_.set_recording(false);
    server_.set_responder([this](const ReceivedRequest& request) {
      std::lock_guard lock(mutex_);
      count_alerts(request.body, received_);
      return HttpReply{};
    });
  }

  std::size_t received_alerts() {
    std::lock_guard lock(mutex_);
    return received_.size();
  }

  TempDir dir_;
  HttpTestServer server_;
  std::mutex mutex_;
  AlertCounts received_;
};

// While the http destination refuses connections, the file output receives
// every alert. After it recovers, so does the http output. Peak RSS stays
// under 128 MiB with the whole backlog waiting.
TEST_F(OutputOutageTest, BacklogArrivesAfterOutage) {
  const std::uint64_t alerts = parameter("SLIPWAY_OUTAGE_ALERTS", 1'000'000);
  const auto outage = std::chrono::seconds(parameter("SLIPWAY_OUTAGE_SECS", 3));
  const std::filesystem::path input = dir_ / "alerts.json";
  const std::filesystem::path archive = dir_ / "archive.json";
  append_numbered_alerts(input, 1, alerts);
  const std::filesystem::path pipeline = dir_ / "pipeline.yaml";
  write_file(pipeline, fmt::format(R"(
data_dir: {}
api: {{address: "127.0.0.1:0"}}
inputs:
  alerts: {{type: file, paths: [{}]}}
outputs:
  archive: {{type: file, from: [alerts], path: {}, fsync: never}}
  share:
    type: http
    from: [alerts]
    url: {}
    batch_max_events: 1000
    buffer: {{type: disk, max_bytes: 1073741824}}
    retry: {{initial_backoff_ms: 100, max_backoff_ms: 1000}}
)",
                                   (dir_ / "var").string(), input.string(), archive.string(),
                                   server_.url("/ingest")));

  server_.stop();
  const auto outage_start = std::chrono::steady_clock::now();
  ChildProcess child({slipway_binary(), "run", pipeline.string()}, dir_ / "stdout.txt", dir_ / "stderr.txt");

  // The file output writes each alert's text unchanged, so its size shows its progress.
  const auto input_bytes = std::filesystem::file_size(input);
  ASSERT_TRUE(wait_until(
      [&] {
        std::error_code error;
        const auto size = std::filesystem::file_size(archive, error);
        return !error && size >= input_bytes;
      },
      kStepTimeout))
      << read_file(dir_ / "stderr.txt");
  EXPECT_EQ(count_lines(archive), alerts);
  EXPECT_EQ(received_alerts(), 0u);
  std::optional<int> port = api_port_from_log(dir_ / "stderr.txt");
  ASSERT_TRUE(port.has_value());
  ASSERT_TRUE(wait_until(
      [&] { return scrape_metric(*port, "slipway_component_buffer_events", "share") == double(alerts); },
      kStepTimeout));
  const auto archive_done = std::chrono::steady_clock::now() - outage_start;

  // The outage lasts its configured time; the destination then comes back.
  wait_until([&] { return std::chrono::steady_clock::now() - outage_start >= outage; }, outage + outage);
  server_.restart();
  const auto recovery_start = std::chrono::steady_clock::now();
  ASSERT_TRUE(wait_until([&] { return received_alerts() == alerts; }, kStepTimeout))
      << "received " << received_alerts() << "\n"
      << read_file(dir_ / "stderr.txt");
  const auto drain_time = std::chrono::steady_clock::now() - recovery_start;
  const std::optional<std::uint64_t> peak_rss = peak_rss_kib(child.pid());

  child.send_signal(SIGTERM);
  EXPECT_EQ(child.wait(kStepTimeout), 0) << read_file(dir_ / "stderr.txt");
  ASSERT_TRUE(peak_rss.has_value());
#if !defined(__SANITIZE_ADDRESS__) && !defined(__SANITIZE_THREAD__)
  // Sanitizer builds keep freed memory in quarantine and shadow every byte, so the bound holds for
  // normal builds only.
  EXPECT_LT(*peak_rss, kMaxPeakRssKib);
#endif
  {
    std::lock_guard lock(mutex_);
    EXPECT_EQ(missing_alerts(received_, alerts), 0u);
  }
  std::printf("outage %llds, %llu alerts: archive complete after %lld ms, backlog delivered %lld ms after "
              "recovery, peak RSS %llu KiB\n",
              static_cast<long long>(outage.count()), static_cast<unsigned long long>(alerts),
              static_cast<long long>(std::chrono::duration_cast<std::chrono::milliseconds>(archive_done).count()),
              static_cast<long long>(std::chrono::duration_cast<std::chrono::milliseconds>(drain_time).count()),
              static_cast<unsigned long long>(*peak_rss));
}

}  // namespace
}  // namespace slipway::testing
