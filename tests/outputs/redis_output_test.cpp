// The `redis` output against a real redis-server: XADD with approximate
// trimming, LPUSH, PUBLISH, keys templated from event fields, per-event
// failures, and retrying while the server is down.
#include "outputs/redis/redis_output.hpp"

#include <fmt/format.h>
#include <gtest/gtest.h>
#include <hiredis/hiredis.h>
#include <spdlog/sinks/null_sink.h>
#include <yaml-cpp/yaml.h>

#include "tests/support/redis_server.hpp"
#include "tests/support/temp_dir.hpp"

namespace slipway::outputs {
namespace {

using slipway::testing::RedisServer;
using slipway::testing::wait_until;

constexpr std::string_view kContext = "output \"share\" (redis)";

std::unique_ptr<Output> make_output(const std::string& yaml, config::Errors& errors) {
  const YAML::Node node = YAML::Load(yaml);
  config::check_against_schema(node, RedisOutputConfig::kSchema, std::string(kContext), "test.yaml", "", errors);
  if (errors.has_errors()) {
    return nullptr;
  }
  return RedisOutput::create(config::Section(node, &RedisOutputConfig::kSchema, std::string(kContext), "test.yaml"),
                             errors);
}

std::string config_errors(const std::string& yaml) {
  config::Errors errors;
  make_output(yaml, errors);
  return errors.format();
}

BatchPtr batch_of(const std::vector<std::string>& texts) {
  auto batch = std::make_shared<Batch>();
  for (const std::string& text : texts) {
    batch->events.push_back(Event{text, {}});
  }
  return batch;
}

class RedisOutputTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (RedisServer::binary().empty()) {
      GTEST_SKIP() << RedisServer::missing_message();
    }
    server_ = std::make_unique<RedisServer>();
  }

  std::unique_ptr<Output> output(const std::string& yaml) {
    config::Errors errors;
    auto built = make_output(fmt::format("url: {}\n{}", server_->url(), yaml), errors);
    EXPECT_FALSE(errors.has_errors()) << errors.format();
    built->start(context_);
    return built;
  }

  std::vector<std::string> stream_payloads(const std::string& key) {
    std::vector<std::string> payloads;
    const redis::Reply reply = server_->command({"XRANGE", key, "-", "+"});
    for (std::size_t entry_idx = 0; reply.is_array() && entry_idx < reply.get()->elements; ++entry_idx) {
      const redisReply* fields = reply.get()->element[entry_idx]->element[1];
      EXPECT_EQ(redis::element_text(fields->element[0]), "event");
      payloads.emplace_back(redis::element_text(fields->element[1]));
    }
    return payloads;
  }

  OutputContext context_{ComponentKind::Output,
                         "share",
                         "redis",
                         std::make_shared<spdlog::logger>("test", std::make_shared<spdlog::sinks::null_sink_mt>()),
                         {},
                         nullptr};
  std::unique_ptr<RedisServer> server_;
};

// Each event becomes one stream entry whose "event" field contains its JSON.
TEST_F(RedisOutputTest, AddsStreamEntries) {
  auto redis_output = output("mode: stream\nkey: alerts\n");
  const DeliveryResult result = redis_output->deliver(batch_of({R"({"n":1})", R"({"n":2})"}), context_);

  EXPECT_EQ(result.status, DeliveryStatus::Delivered);
  EXPECT_TRUE(result.failures.empty());
  EXPECT_EQ(stream_payloads("alerts"), (std::vector<std::string>{R"({"n":1})", R"({"n":2})"}));
}

// With max_len the stream is trimmed to about that many entries; Redis
// trims whole macro nodes, so the length stays near, not at, the limit.
TEST_F(RedisOutputTest, TrimsStreamToAboutMaxLen) {
  auto redis_output = output("mode: stream\nkey: alerts\nmax_len: 100\n");
  std::vector<std::string> texts;
  for (int number = 0; number < 1000; ++number) {
    texts.push_back(fmt::format(R"({{"n":{}}})", number));
  }
  ASSERT_EQ(redis_output->deliver(batch_of(texts), context_).status, DeliveryStatus::Delivered);

  const long long length = server_->command({"XLEN", "alerts"}).integer();
  EXPECT_GE(length, 100);
  EXPECT_LT(length, 1000);
}

// List mode pushes with LPUSH, so the oldest event is at the tail, where
// the redis input in list mode takes it from.
TEST_F(RedisOutputTest, PushesOntoList) {
  auto redis_output = output("mode: list\nkey: queue\n");
  ASSERT_EQ(redis_output->deliver(batch_of({R"({"n":1})", R"({"n":2})"}), context_).status, DeliveryStatus::Delivered);

  EXPECT_EQ(server_->command({"RPOP", "queue"}).text(), R"({"n":1})");
  EXPECT_EQ(server_->command({"RPOP", "queue"}).text(), R"({"n":2})");
}

// Pub/sub mode publishes each event on the channel.
TEST_F(RedisOutputTest, PublishesOnChannel) {
  auto subscriber = server_->client();
  ASSERT_EQ(subscriber->command({"SUBSCRIBE", "alerts"}).is_array(), true);
  auto redis_output = output("mode: pubsub\nkey: alerts\n");
  ASSERT_EQ(redis_output->deliver(batch_of({R"({"n":1})"}), context_).status, DeliveryStatus::Delivered);

  bool failed = false;
  const redis::Reply message = subscriber->wait_for_push(std::chrono::seconds(5), failed);
  ASSERT_TRUE(message.is_array());
  EXPECT_EQ(redis::element_text(message.get()->element[2]), R"({"n":1})");
}

// The key template picks a stream per event; an event that lacks the field
// fails alone and is not retried.
TEST_F(RedisOutputTest, RendersKeyPerEvent) {
  auto redis_output = output("mode: stream\nkey: \"alerts:{{ Category[0] }}\"\n");
  const DeliveryResult result = redis_output->deliver(
      batch_of({R"({"Category":["Recon.Scanning"]})", R"({"ID":"no category"})", R"({"Category":["Attempt.Login"]})"}),
      context_);

  ASSERT_EQ(result.status, DeliveryStatus::Delivered);
  ASSERT_EQ(result.failures.size(), 1u);
  EXPECT_EQ(result.failures[0].index, 1u);
  EXPECT_FALSE(result.failures[0].retryable);
  EXPECT_EQ(result.failures[0].reason, "the key template reads a field this event does not have");
  EXPECT_EQ(stream_payloads("alerts:Recon.Scanning").size(), 1u);
  EXPECT_EQ(stream_payloads("alerts:Attempt.Login").size(), 1u);
}

// A key of the wrong type fails that event with the server's error.
TEST_F(RedisOutputTest, ReportsErrorReplyPerEvent) {
  server_->command({"SET", "taken", "a string"});
  auto redis_output = output("mode: stream\nkey: \"{{ target }}\"\n");
  const DeliveryResult result =
      redis_output->deliver(batch_of({R"({"target":"taken"})", R"({"target":"free"})"}), context_);

  ASSERT_EQ(result.failures.size(), 1u);
  EXPECT_EQ(result.failures[0].index, 0u);
  EXPECT_EQ(result.failures[0].reason.rfind("WRONGTYPE", 0), 0u) << result.failures[0].reason;
  EXPECT_EQ(stream_payloads("free").size(), 1u);
}

// While the server is down a batch is reported for retry; once it is back
// the same batch is delivered.
TEST_F(RedisOutputTest, RetriesWhileServerIsDown) {
  auto redis_output = output("mode: list\nkey: queue\ntimeout_ms: 500\n");
  server_->stop();
  const DeliveryResult down = redis_output->deliver(batch_of({R"({"n":1})"}), context_);
  EXPECT_EQ(down.status, DeliveryStatus::Retry);
  EXPECT_NE(context_.health().degraded_reason(), "");

  server_->start();
  EXPECT_EQ(redis_output->deliver(batch_of({R"({"n":1})"}), context_).status, DeliveryStatus::Delivered);
  EXPECT_EQ(server_->command({"LLEN", "queue"}).integer(), 1);
}

TEST(RedisOutputConfigTest, RejectsMaxLenOutsideStreamMode) {
  EXPECT_EQ(config_errors("mode: list\nkey: q\nmax_len: 10\n"),
            "test.yaml:3:10: output \"share\" (redis): key \"max_len\" applies to mode stream only; remove it or set "
            "mode: stream\n");
}

TEST(RedisOutputConfigTest, RejectsUnclosedKeyTemplate) {
  EXPECT_EQ(config_errors("mode: stream\nkey: \"alerts:{{ Category\"\n"),
            "test.yaml:2:6: output \"share\" (redis): key \"key\": invalid template \"alerts:{{ Category\": "
            "placeholder \"{{ Category\" is not closed with \"}}\"\n");
}

}  // namespace
}  // namespace slipway::outputs
