// The redis output and input used together by two slipway processes, as a
// site that ships alerts from sensors to a central stream would: what one
// pipeline writes with XADD or LPUSH, the other reads back unchanged and
// in order.
#include <signal.h>

#include <fmt/format.h>
#include <gtest/gtest.h>

#include "tests/support/process.hpp"
#include "tests/support/redis_server.hpp"
#include "tests/support/temp_dir.hpp"

namespace slipway::testing {
namespace {

constexpr int kAlerts = 1000;

class RedisRoundTripTest : public ::testing::TestWithParam<std::string> {
 protected:
  void SetUp() override {
    if (RedisServer::binary().empty()) {
      GTEST_SKIP() << RedisServer::missing_message();
    }
    server_ = std::make_unique<RedisServer>();
  }

  TempDir dir_;
  std::unique_ptr<RedisServer> server_;
};

// Every alert written by the sending pipeline arrives at the receiving one
// byte for byte, in the order it was written.
TEST_P(RedisRoundTripTest, ReceivesWhatWasSent) {
  const std::string mode = GetParam();
  std::string alerts;
  for (int number = 0; number < kAlerts; ++number) {
    alerts += fmt::format(R"({{"ID":"{:08}","Category":["Recon.Scanning"]}})", number) + "\n";
  }
  write_file(dir_ / "alerts.json", alerts);
  write_file(dir_ / "send.yaml",
             fmt::format(R"(
data_dir: {}
inputs:
  alerts: {{type: file, paths: [{}], exit_at_eof: true}}
outputs:
  central: {{type: redis, from: [alerts], mode: {}, url: "{}", key: slips-alerts}}
)",
                         (dir_ / "var-send").string(), (dir_ / "alerts.json").string(), mode, server_->url()));
  const std::string input_key = mode == "stream" ? "stream: slips-alerts" : "key: slips-alerts";
  write_file(dir_ / "receive.yaml", fmt::format(R"(
data_dir: {}
inputs:
  central: {{type: redis, mode: {}, url: "{}", {}, block_ms: 100}}
outputs:
  archive: {{type: file, from: [central], path: {}}}
)",
                                                (dir_ / "var-receive").string(), mode, server_->url(), input_key,
                                                (dir_ / "received.json").string()));

  ASSERT_EQ(run_slipway({"run", (dir_ / "send.yaml").string()}, dir_ / "send.out", dir_ / "send.err"), 0)
      << read_file(dir_ / "send.err");
  ChildProcess receiver({slipway_binary(), "run", (dir_ / "receive.yaml").string()}, dir_ / "receive.out",
                        dir_ / "receive.err");
  ASSERT_TRUE(wait_until([&] { return count_lines(dir_ / "received.json") >= kAlerts; }, std::chrono::seconds(60)))
      << read_file(dir_ / "receive.err");
  receiver.send_signal(SIGTERM);
  ASSERT_EQ(receiver.wait(std::chrono::seconds(30)), 0) << read_file(dir_ / "receive.err");

  EXPECT_EQ(read_file(dir_ / "received.json"), alerts);
}

INSTANTIATE_TEST_SUITE_P(Modes, RedisRoundTripTest, ::testing::Values("stream", "list"));

}  // namespace
}  // namespace slipway::testing
