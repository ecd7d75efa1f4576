// The `redis` input in pub/sub mode against a real redis-server: channels
// and patterns, Slips payloads kept as they are, invalid payloads
// dead-lettered, and subscribing again after the server restarts.
#include "tests/inputs/redis/redis_input_fixture.hpp"

namespace slipway::inputs {
namespace {

using slipway::testing::read_file;
using slipway::testing::wait_until;

constexpr auto kDeadline = std::chrono::seconds(10);

// Evidence as Slips publishes it on export_evidence (with its version member).
constexpr std::string_view kEvidence =
    R"({"evidence_type": "PASSWORD_GUESSING", "description": "SSH password guessing to IP 147.32.80.208. Detected by Slips", )"
    R"("attacker": {"direction": "SRC", "ioc_type": "IP", "value": "192.168.1.113", "profile": {"ip": "192.168.1.113"}, "TI": null, "AS": null, "rDNS": null, "SNI": null, "DNS_resolution": null, "queries": null, "CNAME": null}, )"
    R"("threat_level": "HIGH", "profile": {"ip": "192.168.1.113"}, "timewindow": {"number": 1, "start_time": "", "end_time": ""}, )"
    R"("uid": ["C0zVZomHFwUbbYrEqm"], "timestamp": 1680808325.5098865, "interface": "default", )"
    R"("victim": {"direction": "DST", "ioc_type": "IP", "value": "147.32.80.208", "TI": null, "AS": null, "rDNS": null, "SNI": null, "DNS_resolution": null, "queries": null, "CNAME": null}, )"
    R"("proto": "TCP", "dst_port": 22, "src_port": 40612, "method": "HEURISTIC", "id": "5822cb77-f4de-4c08-9aea-6429b1491e24", "confidence": 1, "rel_id": null, "version": "1.1.21"})";

class RedisPubsubInputTest : public RedisInputTest {
 protected:
  // True once the server counts `channels` channel and `patterns` pattern subscriptions.
  bool subscribed(long long channels, long long patterns) {
    return wait_until(
        [&] {
          const redis::Reply numsub = server_->command({"PUBSUB", "NUMSUB", "export_evidence"});
          const long long subscribers =
              numsub.is_array() && numsub.get()->elements == 2 ? numsub.get()->element[1]->integer : 0;
          return subscribers == channels && integer({"PUBSUB", "NUMPAT"}) == patterns;
        },
        kDeadline);
  }
};

// Messages on a subscribed channel and on a channel matching a pattern
// both arrive, unchanged apart from the channel member; others do not.
TEST_F(RedisPubsubInputTest, ReceivesChannelAndPatternMessages) {
  auto context = this->context();
  context->start(input("mode: pubsub\nchannels: [export_evidence]\npatterns: ['alert_*']\nchannel_field: channel\n"));
  ASSERT_TRUE(subscribed(1, 1));

  server_->command({"PUBLISH", "export_evidence", kEvidence});
  server_->command({"PUBLISH", "new_alert", R"({"skipped": true})"});
  server_->command({"PUBLISH", "alert_feed", R"({"n": 2})"});

  ASSERT_TRUE(context->wait_for_events(2));
  const std::vector<std::string> texts = context->event_texts();
  EXPECT_EQ(texts[0], std::string(kEvidence.substr(0, kEvidence.size() - 1)) + R"(,"channel":"export_evidence"})");
  EXPECT_EQ(texts[1], R"({"n": 2,"channel":"alert_feed"})");
  EXPECT_TRUE(context->log_contains("Messages come from Slips version 1.1.21."));
}

// Slips sends "stop_slips" as a bare string on its control channel; a
// payload that is not a JSON object is dead-lettered with its channel.
TEST_F(RedisPubsubInputTest, DeadLettersPayloadThatIsNotObject) {
  auto context = this->context();
  context->start(input("mode: pubsub\nchannels: [export_evidence]\n"));
  ASSERT_TRUE(subscribed(1, 0));

  server_->command({"PUBLISH", "export_evidence", "stop_slips"});
  server_->command({"PUBLISH", "export_evidence", R"({"after": true})"});

  ASSERT_TRUE(context->wait_for_events(1));
  const std::string dead_letters = read_file(context->dead_letter_path());
  EXPECT_NE(dead_letters.find("stop_slips"), std::string::npos);
  EXPECT_NE(dead_letters.find("channel export_evidence"), std::string::npos);
}

// After the server restarts the input subscribes again and warns that
// messages published in between are lost.
TEST_F(RedisPubsubInputTest, SubscribesAgainAfterServerRestart) {
  auto context = this->context();
  context->start(input("mode: pubsub\nchannels: [export_evidence]\n"));
  ASSERT_TRUE(subscribed(1, 0));

  server_->stop();
  server_->start();
  ASSERT_TRUE(subscribed(1, 0));
  server_->command({"PUBLISH", "export_evidence", R"({"after": "restart"})"});

  ASSERT_TRUE(context->wait_for_events(1));
  EXPECT_EQ(context->event_texts()[0], R"({"after": "restart"})");
  EXPECT_TRUE(context->log_contains("messages published in between are lost"));
}

}  // namespace
}  // namespace slipway::inputs
