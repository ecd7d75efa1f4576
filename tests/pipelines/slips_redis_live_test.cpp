// pipelines/slips-redis-live.yaml run by the slipway program against a real
// redis-server in place of Slips' Redis: every evidence published on
// export_evidence arrives once as IDEA0, even though Slips publishes each
// one twice. An output outage loses nothing while slipway runs, and a
// restart loses exactly what was published while slipway was down,
// because Redis pub/sub keeps nothing.
#include <signal.h>

#include <fstream>
#include <set>
#include <thread>

#include <fmt/format.h>
#include <gtest/gtest.h>
#include <hiredis/hiredis.h>

#include "engine/json.hpp"
#include "tests/support/alert_files.hpp"
#include "tests/support/process.hpp"
#include "tests/support/redis_server.hpp"
#include "tests/support/temp_dir.hpp"

namespace slipway::testing {
namespace {

constexpr std::size_t kEvidence = 10'000;
constexpr std::size_t kPublishChunk = 500;

std::filesystem::path pipeline_path() {
  return std::filesystem::path(SLIPWAY_SOURCE_DIR) / "pipelines/slips-redis-live.yaml";
}

std::string evidence_id(std::size_t number) { return fmt::format("00000000-0000-4000-8000-{:012}", number); }

// Evidence as Slips publishes it on export_evidence.
std::string evidence(std::size_t number) {
  return fmt::format(
      R"({{"evidence_type": "PASSWORD_GUESSING", "description": "SSH password guessing to IP 147.32.80.208. Detected by Slips Threat level: high.", )"
      R"("attacker": {{"direction": "SRC", "ioc_type": "IP", "value": "192.168.1.113", "profile": {{"ip": "192.168.1.113"}}, "TI": null, "AS": null, "rDNS": null, "SNI": null, "DNS_resolution": null, "queries": null, "CNAME": null}}, )"
      R"("threat_level": "HIGH", "profile": {{"ip": "192.168.1.113"}}, "timewindow": {{"number": 1, "start_time": "", "end_time": ""}}, )"
      R"("uid": ["C0zVZomHFwUbbYrEqm"], "timestamp": 1680808325.5098865, "interface": "default", )"
      R"("victim": {{"direction": "DST", "ioc_type": "IP", "value": "147.32.80.208", "TI": null, "AS": null, "rDNS": null, "SNI": null, "DNS_resolution": null, "queries": null, "CNAME": null}}, )"
      R"("proto": "TCP", "dst_port": 22, "src_port": 40612, "method": "HEURISTIC", "id": "{}", "confidence": 1, "rel_id": null, "version": "1.1.21"}})",
      evidence_id(number));
}

// Publishes evidence number `first` to `last` - 1, each twice as Slips does.
void publish(const RedisServer& server, std::size_t first, std::size_t last) {
  auto client = server.client();
  for (std::size_t chunk = first; chunk < last; chunk += kPublishChunk) {
    const std::size_t end = std::min(last, chunk + kPublishChunk);
    for (std::size_t number = chunk; number < end; ++number) {
      const std::string payload = evidence(number);
      client->append({"PUBLISH", "export_evidence", payload});
      client->append({"PUBLISH", "export_evidence", payload});
    }
    for (std::size_t reply_idx = 0; reply_idx < 2 * (end - chunk); ++reply_idx) {
      client->read_reply();
    }
  }
}

bool subscribed(const RedisServer& server) {
  return wait_until(
      [&] {
        const redis::Reply reply = server.command({"PUBSUB", "NUMSUB", "export_evidence"});
        return reply.is_array() && reply.get()->elements == 2 && reply.get()->element[1]->integer == 1;
      },
      std::chrono::seconds(20));
}

std::vector<std::string> idea_ids(const std::filesystem::path& path) {
  std::vector<std::string> ids;
  std::ifstream stream(path);
  for (std::string line; std::getline(stream, line);) {
    json::ParseResult parsed = json::parse(line);
    const json::Value* format = parsed.value ? parsed.value->find("Format") : nullptr;
    const json::Value* id = parsed.value ? parsed.value->find("ID") : nullptr;
    ids.push_back(
        format != nullptr && id != nullptr && id->is_string() && format->as_string() == "IDEA0" ? id->as_string() : "");
  }
  return ids;
}

class SlipsRedisLiveTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (RedisServer::binary().empty()) {
      GTEST_SKIP() << RedisServer::missing_message();
    }
    server_ = std::make_unique<RedisServer>();
  }

  std::map<std::string, std::string> environment() const {
    return {{"SLIPS_REDIS_URL", server_->url()},
            {"SLIPWAY_DATA_DIR", (dir_ / "var").string()},
            {"SLIPWAY_ARCHIVE", archive().string()}};
  }
  std::filesystem::path archive() const { return dir_ / "alerts.idea.json"; }

  std::unique_ptr<ChildProcess> start_slipway() {
    return std::make_unique<ChildProcess>(std::vector<std::string>{slipway_binary(), "run", pipeline_path().string()},
                                          dir_ / "stdout", dir_ / "stderr", environment());
  }

  TempDir dir_;
  std::unique_ptr<RedisServer> server_;
};

TEST_F(SlipsRedisLiveTest, PipelineValidates) {
  EXPECT_EQ(run_slipway({"validate", pipeline_path().string()}, dir_ / "stdout", dir_ / "stderr", environment()), 0)
      << read_file(dir_ / "stderr");
}

// 10k evidence published twice each arrive once each, as valid IDEA0 with
// Slips' evidence ID, while the outputs are up.
TEST_F(SlipsRedisLiveTest, DeliversEveryEvidenceOnce) {
  auto slipway = start_slipway();
  ASSERT_TRUE(subscribed(*server_)) << read_file(dir_ / "stderr");

  publish(*server_, 0, kEvidence);
  ASSERT_TRUE(wait_until([&] { return count_lines(archive()) >= kEvidence; }, std::chrono::seconds(120)))
      << "lines=" << count_lines(archive()) << "\n"
      << read_file(dir_ / "stderr");
  slipway->send_signal(SIGTERM);
  ASSERT_EQ(slipway->wait(std::chrono::seconds(30)), 0) << read_file(dir_ / "stderr");

  const std::vector<std::string> ids = idea_ids(archive());
  std::vector<std::string> expected;
  for (std::size_t number = 0; number < kEvidence; ++number) {
    expected.push_back(evidence_id(number));
  }
  EXPECT_EQ(ids, expected);
}

// What Slips publishes while slipway is killed is lost, because pub/sub
// keeps nothing; what it published before and after arrives.
TEST_F(SlipsRedisLiveTest, RestartLosesOnlyMessagesPublishedWhileDown) {
  constexpr std::size_t kBatch = 100;
  auto slipway = start_slipway();
  ASSERT_TRUE(subscribed(*server_)) << read_file(dir_ / "stderr");
  publish(*server_, 0, kBatch);
  ASSERT_TRUE(wait_until([&] { return count_lines(archive()) >= kBatch; }, std::chrono::seconds(60)));
  slipway->send_signal(SIGKILL);
  slipway->wait(std::chrono::seconds(10));

  publish(*server_, kBatch, 2 * kBatch);
  slipway = start_slipway();
  ASSERT_TRUE(subscribed(*server_)) << read_file(dir_ / "stderr");
  publish(*server_, 2 * kBatch, 3 * kBatch);
  ASSERT_TRUE(wait_until([&] { return count_lines(archive()) >= 2 * kBatch; }, std::chrono::seconds(60)));
  slipway->send_signal(SIGTERM);
  ASSERT_EQ(slipway->wait(std::chrono::seconds(30)), 0) << read_file(dir_ / "stderr");

  const std::vector<std::string> ids = idea_ids(archive());
  std::vector<std::string> expected;
  for (std::size_t number = 0; number < 3 * kBatch; ++number) {
    if (number < kBatch || number >= 2 * kBatch) {
      expected.push_back(evidence_id(number));
    }
  }
  EXPECT_EQ(ids, expected);
}

// 10k evidence published while the output's server is down for 30 s wait
// in the pipeline's memory buffer and all arrive once it is back.
TEST_F(SlipsRedisLiveTest, DeliversEverythingAfterOutputOutage) {
  constexpr auto kOutage = std::chrono::seconds(30);
  RedisServer destination;
  write_file(dir_ / "outage.yaml", fmt::format(R"(
data_dir: {}
inputs:
  slips_redis: {{type: redis, mode: pubsub, url: "{}", channels: [export_evidence]}}
filters:
  once_per_id: {{type: dedupe, from: [slips_redis], key: [id]}}
  idea: {{type: idea_normalize, from: [once_per_id]}}
outputs:
  share:
    type: redis
    from: [idea]
    mode: list
    url: "{}"
    key: idea
    timeout_ms: 500
    buffer: {{max_events: 20000}}
    retry: {{initial_backoff_ms: 100, max_backoff_ms: 1000}}
)",
                                               (dir_ / "var").string(), server_->url(), destination.url()));
  destination.stop();
  auto slipway =
      std::make_unique<ChildProcess>(std::vector<std::string>{slipway_binary(), "run", (dir_ / "outage.yaml").string()},
                                     dir_ / "stdout", dir_ / "stderr");
  ASSERT_TRUE(subscribed(*server_)) << read_file(dir_ / "stderr");

  const auto outage_end = std::chrono::steady_clock::now() + kOutage;
  publish(*server_, 0, kEvidence);
  // The outage has a fixed length by design; nothing waits on it.
  std::this_thread::sleep_until(outage_end);
  destination.start();

  const auto delivered = [&] { return destination.command({"LLEN", "idea"}).integer(); };
  EXPECT_TRUE(wait_until([&] { return delivered() >= static_cast<long long>(kEvidence); }, std::chrono::seconds(60)))
      << "delivered=" << delivered() << "\n"
      << read_file(dir_ / "stderr");
  slipway->send_signal(SIGTERM);
  ASSERT_EQ(slipway->wait(std::chrono::seconds(30)), 0) << read_file(dir_ / "stderr");

  std::set<std::string> ids;
  const redis::Reply items = destination.command({"LRANGE", "idea", "0", "-1"});
  for (std::size_t item_idx = 0; items.is_array() && item_idx < items.get()->elements; ++item_idx) {
    json::ParseResult parsed = json::parse(redis::element_text(items.get()->element[item_idx]));
    const json::Value* id = parsed.value ? parsed.value->find("ID") : nullptr;
    ids.insert(id != nullptr && id->is_string() ? id->as_string() : "");
  }
  EXPECT_EQ(ids.size(), kEvidence);
  EXPECT_EQ(ids.count(evidence_id(0)), 1u);
  EXPECT_EQ(ids.count(evidence_id(kEvidence - 1)), 1u);
  EXPECT_EQ(delivered(), static_cast<long long>(kEvidence));
}

// With a disk buffer, evidence taken from pub/sub during an outage survives
// a SIGKILL: it counts as accepted once on disk, and the restarted pipeline
// delivers it when the destination is back, although pub/sub keeps nothing.
TEST_F(SlipsRedisLiveTest, DiskBufferKeepsEvidenceThroughKillDuringOutage) {
  constexpr auto kStepTimeout = std::chrono::seconds(120);
  RedisServer destination;
  write_file(dir_ / "outage.yaml", fmt::format(R"(
data_dir: {}
api: {{address: "127.0.0.1:0"}}
inputs:
  slips_redis: {{type: redis, mode: pubsub, url: "{}", channels: [export_evidence]}}
filters:
  once_per_id: {{type: dedupe, from: [slips_redis], key: [id]}}
  idea: {{type: idea_normalize, from: [once_per_id]}}
outputs:
  share:
    type: redis
    from: [idea]
    mode: list
    url: "{}"
    key: idea
    timeout_ms: 500
    buffer: {{type: disk, max_bytes: 268435456}}
    retry: {{initial_backoff_ms: 100, max_backoff_ms: 1000}}
)",
                                               (dir_ / "var").string(), server_->url(), destination.url()));
  destination.stop();
  const std::vector<std::string> command = {slipway_binary(), "run", (dir_ / "outage.yaml").string()};
  auto first = std::make_unique<ChildProcess>(command, dir_ / "stdout1", dir_ / "stderr1");
  ASSERT_TRUE(subscribed(*server_)) << read_file(dir_ / "stderr1");
  std::optional<int> port;
  ASSERT_TRUE(wait_until([&] { return (port = api_port_from_log(dir_ / "stderr1")).has_value(); }, kStepTimeout))
      << read_file(dir_ / "stderr1");

  publish(*server_, 0, kEvidence);
  ASSERT_TRUE(wait_until(
      [&] { return scrape_metric(*port, "slipway_component_buffer_events", "share") == double(kEvidence); },
      kStepTimeout))
      << read_file(dir_ / "stderr1");
  first->send_signal(SIGKILL);
  ASSERT_EQ(first->wait(kStepTimeout), 128 + SIGKILL);

  destination.start();
  auto second = std::make_unique<ChildProcess>(command, dir_ / "stdout2", dir_ / "stderr2");
  const auto delivered = [&] { return destination.command({"LLEN", "idea"}).integer(); };
  EXPECT_TRUE(wait_until([&] { return delivered() >= static_cast<long long>(kEvidence); }, kStepTimeout))
      << "delivered=" << delivered() << "\n"
      << read_file(dir_ / "stderr2");
  second->send_signal(SIGTERM);
  ASSERT_EQ(second->wait(kStepTimeout), 0) << read_file(dir_ / "stderr2");

  std::set<std::string> ids;
  const redis::Reply items = destination.command({"LRANGE", "idea", "0", "-1"});
  for (std::size_t item_idx = 0; items.is_array() && item_idx < items.get()->elements; ++item_idx) {
    json::ParseResult parsed = json::parse(redis::element_text(items.get()->element[item_idx]));
    const json::Value* id = parsed.value ? parsed.value->find("ID") : nullptr;
    ids.insert(id != nullptr && id->is_string() ? id->as_string() : "");
  }
  EXPECT_EQ(ids.size(), kEvidence);
  EXPECT_EQ(delivered(), static_cast<long long>(kEvidence));
}

}  // namespace
}  // namespace slipway::testing
