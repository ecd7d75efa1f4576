// The `redis` input in stream mode against a real redis-server: consumer
// group creation, XACK only after delivery, re-reading this consumer's
// pending entries after a restart, claiming a dead consumer's entries,
// reconnecting, authentication, and configuration errors.
#include <unistd.h>

#include <fstream>

#include "tests/inputs/redis/redis_input_fixture.hpp"

namespace slipway::inputs {
namespace {

using slipway::testing::FakeInputContext;
using slipway::testing::read_file;
using slipway::testing::wait_until;
using slipway::testing::write_file;

constexpr auto kDeadline = std::chrono::seconds(10);

class RedisStreamInputTest : public RedisInputTest {};

// Entries reach the pipeline at once but leave the pending list only when
// the outputs released them.
TEST_F(RedisStreamInputTest, AcknowledgesOnlyAfterDelivery) {
  for (int number = 1; number <= 3; ++number) {
    server_->command({"XADD", "alerts", "*", "event", fmt::format(R"({{"n": {}}})", number)});
  }
  auto context = this->context();
  context->start(input("mode: stream\nstream: alerts\ngroup: shippers\nconsumer: c1\n"));

  ASSERT_TRUE(context->wait_for_events(3));
  EXPECT_EQ(context->event_texts(), (std::vector<std::string>{R"({"n": 1})", R"({"n": 2})", R"({"n": 3})"}));
  EXPECT_EQ(pending("alerts", "shippers"), 3);

  context->acknowledge_all();
  EXPECT_TRUE(wait_until([&] { return pending("alerts", "shippers") == 0; }, kDeadline));
}

// The group is created at the start of the stream, so entries written
// before the first start are read too.
TEST_F(RedisStreamInputTest, CreatesMissingGroupAtStreamStart) {
  server_->command({"XADD", "alerts", "*", "event", R"({"early": true})"});
  auto context = this->context();
  context->start(input("mode: stream\nstream: alerts\n"));

  ASSERT_TRUE(context->wait_for_events(1));
  const redis::Reply groups = server_->command({"XINFO", "GROUPS", "alerts"});
  ASSERT_TRUE(groups.is_array());
  ASSERT_EQ(groups.get()->elements, 1u);
  EXPECT_EQ(redis::element_text(groups.get()->element[0]->element[1]), "slipway");
}

// Without a configured name the consumer is called after the host and
// the process, so two processes on one host never share a name.
TEST_F(RedisStreamInputTest, NamesConsumerAfterHostAndProcess) {
  server_->command({"XADD", "alerts", "*", "event", R"({"n": 1})"});
  auto context = this->context();
  context->start(input("mode: stream\nstream: alerts\n"));
  ASSERT_TRUE(context->wait_for_events(1));

  const redis::Reply consumers = server_->command({"XINFO", "CONSUMERS", "alerts", "slipway"});
  ASSERT_TRUE(consumers.is_array());
  ASSERT_EQ(consumers.get()->elements, 1u);
  EXPECT_EQ(redis::element_text(consumers.get()->element[0]->element[1]), redis::default_consumer_name());
  EXPECT_TRUE(redis::default_consumer_name().ends_with(fmt::format("-{}", ::getpid())));
}

// A restart under the same consumer name delivers what the last run read
// but never delivered.
TEST_F(RedisStreamInputTest, RereadsOwnPendingEntriesAfterRestart) {
  server_->command({"XADD", "alerts", "1-1", "event", R"({"n": 1})"});
  server_->command({"XADD", "alerts", "1-2", "event", R"({"n": 2})"});
  const std::string yaml = "mode: stream\nstream: alerts\nconsumer: fixed\n";
  {
    auto first = context();
    first->start(input(yaml));
    ASSERT_TRUE(first->wait_for_events(2));
    first->stop();
    first->drop_unacknowledged();
  }
  EXPECT_EQ(pending("alerts", "slipway"), 2);

  auto second = context();
  second->set_auto_acknowledge(true);
  second->start(input(yaml));
  ASSERT_TRUE(second->wait_for_events(2));
  EXPECT_EQ(second->event_texts(), (std::vector<std::string>{R"({"n": 1})", R"({"n": 2})"}));
  EXPECT_TRUE(wait_until([&] { return pending("alerts", "slipway") == 0; }, kDeadline));
}

// Entries another consumer read and never acknowledged are taken over once
// they are idle for claim_idle_ms.
TEST_F(RedisStreamInputTest, ClaimsEntriesOfDeadConsumer) {
  server_->command({"XGROUP", "CREATE", "alerts", "slipway", "0", "MKSTREAM"});
  server_->command({"XADD", "alerts", "*", "event", R"({"orphan": 1})"});
  server_->command({"XADD", "alerts", "*", "event", R"({"orphan": 2})"});
  server_->command({"XREADGROUP", "GROUP", "slipway", "dead", "COUNT", "10", "STREAMS", "alerts", ">"});
  ASSERT_EQ(pending("alerts", "slipway"), 2);

  auto context = this->context();
  context->set_auto_acknowledge(true);
  context->start(input("mode: stream\nstream: alerts\nconsumer: alive\nclaim_idle_ms: 200\n"));

  ASSERT_TRUE(context->wait_for_events(2));
  EXPECT_EQ(context->event_texts(), (std::vector<std::string>{R"({"orphan": 1})", R"({"orphan": 2})"}));
  EXPECT_TRUE(wait_until([&] { return pending("alerts", "slipway") == 0; }, kDeadline));
}

// A server without XAUTOCLAIM, as Redis before 6.2, still has its dead
// consumers' entries claimed, through XPENDING and XCLAIM.
TEST_F(RedisStreamInputTest, ClaimsWithXclaimWithoutXautoclaim) {
  server_ = std::make_unique<slipway::testing::RedisServer>(
      "", std::vector<std::string>{"--rename-command", "XAUTOCLAIM", ""});
  ASSERT_TRUE(server_->command({"XAUTOCLAIM", "alerts", "g", "c", "0", "0"}).is_error());
  server_->command({"XGROUP", "CREATE", "alerts", "slipway", "0", "MKSTREAM"});
  server_->command({"XADD", "alerts", "*", "event", R"({"orphan": 1})"});
  server_->command({"XREADGROUP", "GROUP", "slipway", "dead", "COUNT", "10", "STREAMS", "alerts", ">"});

  auto context = this->context();
  context->set_auto_acknowledge(true);
  context->start(input("mode: stream\nstream: alerts\nconsumer: alive\nclaim_idle_ms: 200\n"));

  ASSERT_TRUE(context->wait_for_events(1));
  EXPECT_EQ(context->event_texts()[0], R"({"orphan": 1})");
  EXPECT_TRUE(wait_until([&] { return pending("alerts", "slipway") == 0; }, kDeadline));
  EXPECT_TRUE(context->log_contains("claiming with XPENDING and XCLAIM"));
}

// Entries in flight at this consumer are not delivered a second time when
// they outlast claim_idle_ms before the outputs release them.
TEST_F(RedisStreamInputTest, DoesNotClaimOwnEntriesInFlight) {
  server_->command({"XADD", "alerts", "*", "event", R"({"slow": 1})"});
  auto context = this->context();
  context->start(input("mode: stream\nstream: alerts\nconsumer: c1\nclaim_idle_ms: 50\nblock_ms: 20\n"));

  ASSERT_TRUE(context->wait_for_events(1));
  // Several claim passes run while the batch is held.
  ASSERT_TRUE(wait_until(
      [&] {
        const redis::Reply reply = server_->command({"XPENDING", "alerts", "slipway", "-", "+", "10"});
        return reply.is_array() && reply.get()->elements == 1 && reply.get()->element[0]->element[3]->integer >= 3;
      },
      kDeadline));
  EXPECT_EQ(context->events().size(), 1u);
  context->acknowledge_all();
  EXPECT_TRUE(wait_until([&] { return pending("alerts", "slipway") == 0; }, kDeadline));
}

// An entry without the payload field becomes an object of its fields, and
// the entry ID is added on request.
TEST_F(RedisStreamInputTest, TurnsPlainEntryIntoObject) {
  server_->command({"XADD", "alerts", "5-1", "ip", "10.0.0.1", "level", "high"});
  auto context = this->context();
  context->start(input("mode: stream\nstream: alerts\nentry_id_field: redis_id\n"));

  ASSERT_TRUE(context->wait_for_events(1));
  EXPECT_EQ(context->event_texts()[0], R"({"ip":"10.0.0.1","level":"high","redis_id":"5-1"})");
}

// A payload that is not a JSON object goes to the dead-letter file and is
// acknowledged, so it does not come back.
TEST_F(RedisStreamInputTest, DeadLettersInvalidPayload) {
  server_->command({"XADD", "alerts", "*", "event", "not json"});
  server_->command({"XADD", "alerts", "*", "event", R"({"ok": true})"});
  auto context = this->context();
  context->set_auto_acknowledge(true);
  context->start(input("mode: stream\nstream: alerts\n"));

  ASSERT_TRUE(context->wait_for_events(1));
  EXPECT_EQ(context->event_texts(), (std::vector<std::string>{R"({"ok": true})"}));
  EXPECT_TRUE(wait_until([&] { return pending("alerts", "slipway") == 0; }, kDeadline));
  const std::string dead_letters = read_file(context->dead_letter_path());
  EXPECT_NE(dead_letters.find("not json"), std::string::npos) << dead_letters;
  EXPECT_NE(dead_letters.find("field \\\"event\\\""), std::string::npos) << dead_letters;
  EXPECT_EQ(context->metrics().dead_lettered_events.load(), 1u);
}

// After the server restarts (losing its data) the input reconnects,
// creates the group again and reads new entries.
TEST_F(RedisStreamInputTest, ReconnectsAfterServerRestart) {
  server_->command({"XADD", "alerts", "*", "event", R"({"before": true})"});
  auto context = this->context();
  context->set_auto_acknowledge(true);
  context->start(input("mode: stream\nstream: alerts\nblock_ms: 100\n"));
  ASSERT_TRUE(context->wait_for_events(1));

  server_->stop();
  server_->start();
  ASSERT_TRUE(wait_until(
      [&] {
        server_->command({"XADD", "alerts", "*", "event", R"({"after": true})"});
        return context->events().size() >= 2;
      },
      kDeadline));
  EXPECT_EQ(context->event_texts()[1], R"({"after": true})");
  EXPECT_GE(context->metrics().errors.load(), 1u);
}

// A key of another type marks the input degraded with the server's error
// until the key is fixed; then reading starts.
TEST_F(RedisStreamInputTest, DegradedWhileKeyHasWrongType) {
  server_->command({"SET", "alerts", "not a stream"});
  auto context = this->context();
  context->start(input("mode: stream\nstream: alerts\nblock_ms: 50\n"));

  ASSERT_TRUE(
      context->wait_until([&] { return context->health().degraded_reason().find("WRONGTYPE") != std::string::npos; }));
  EXPECT_GE(context->metrics().errors.load(), 1u);

  server_->command({"DEL", "alerts"});
  server_->command({"XADD", "alerts", "*", "event", R"({"fixed": true})"});
  ASSERT_TRUE(context->wait_for_events(1));
  EXPECT_TRUE(wait_until([&] { return context->health().degraded_reason().empty(); }, kDeadline));
}

// A Unix socket URL reaches the same server.
TEST_F(RedisStreamInputTest, ConnectsThroughUnixSocket) {
  server_->command({"XADD", "alerts", "*", "event", R"({"via": "socket"})"});
  config::Errors errors;
  auto socket_input = make_input(fmt::format("mode: stream\nurl: {}\nstream: alerts\n", server_->unix_url()), errors);
  ASSERT_FALSE(errors.has_errors()) << errors.format();
  auto context = this->context();
  context->start(std::move(socket_input));
  ASSERT_TRUE(context->wait_for_events(1));
}

class RedisPasswordInputTest : public RedisInputTest {
 protected:
  void SetUp() override {
    if (slipway::testing::RedisServer::binary().empty()) {
      GTEST_SKIP() << slipway::testing::RedisServer::missing_message();
    }
    server_ = std::make_unique<slipway::testing::RedisServer>("s3cret-pass");
  }
};

// The password comes from password_file; a wrong one keeps the input
// reconnecting without ever logging the password.
TEST_F(RedisPasswordInputTest, AuthenticatesWithPasswordFile) {
  server_->command({"XADD", "alerts", "*", "event", R"({"auth": "ok"})"});
  write_file(dir_ / "good", "s3cret-pass\n");
  write_file(dir_ / "bad", "wrong-pass\n");

  auto good = context();
  good->start(input(fmt::format("mode: stream\nstream: alerts\npassword_file: {}\n", (dir_ / "good").string())));
  ASSERT_TRUE(good->wait_for_events(1));

  auto bad = context();
  bad->start(input(
      fmt::format("mode: stream\nstream: alerts\nconsumer: other\npassword_file: {}\n", (dir_ / "bad").string())));
  ASSERT_TRUE(bad->wait_until([&] { return bad->log_contains("WRONGPASS"); }));
  EXPECT_NE(bad->health().degraded_reason(), "");
  EXPECT_GE(bad->metrics().errors.load(), 1u);
  for (const std::string& line : bad->log_lines()) {
    EXPECT_EQ(line.find("wrong-pass"), std::string::npos) << line;
  }
  EXPECT_EQ(bad->health().degraded_reason().find("wrong-pass"), std::string::npos);
}

// A password file that cannot be read stops the input with an error that
// names the file.
TEST_F(RedisPasswordInputTest, StopsWhenPasswordFileIsMissing) {
  auto context = this->context();
  context->start(input(fmt::format("mode: stream\nstream: alerts\npassword_file: {}\n", (dir_ / "absent").string())));

  ASSERT_TRUE(context->wait_for_finish());
  EXPECT_EQ(
      context->run_error(),
      fmt::format("password_file {} cannot be read: No such file or directory; check the path and its permissions",
                  (dir_ / "absent").string()));
}

TEST(RedisInputConfigTest, RejectsKeyOfAnotherMode) {
  EXPECT_EQ(RedisInputTest::config_errors("mode: stream\nstream: s\nkey: queue\n"),
            "test.yaml:3:6: input \"events\" (redis): key \"key\" applies to mode list only; remove it or set mode: "
            "list\n");
}

TEST(RedisInputConfigTest, RequiresStreamInStreamMode) {
  EXPECT_EQ(RedisInputTest::config_errors("mode: stream\n"),
            "test.yaml:1:1: input \"events\" (redis): mode stream needs key \"stream\", the key of the stream to "
            "read\n");
}

TEST(RedisInputConfigTest, RejectsPasswordInUrl) {
  const std::string errors =
      RedisInputTest::config_errors("mode: stream\nstream: s\nurl: redis://:hunter2@host:6379/0\n");
  EXPECT_EQ(errors,
            "test.yaml:3:6: input \"events\" (redis): key \"url\": invalid Redis URL: a password in the URL would be "
            "visible in logs and configuration dumps; put it in the file named by password_file and the user name "
            "in username\n");
  EXPECT_EQ(errors.find("hunter2"), std::string::npos);
}

TEST(RedisInputConfigTest, RejectsBadPort) {
  EXPECT_EQ(RedisInputTest::config_errors("mode: list\nkey: q\nurl: redis://localhost:99999\n"),
            "test.yaml:3:6: input \"events\" (redis): key \"url\": invalid Redis URL: port \"99999\" is not a "
            "number from 1 to 65535\n");
}

TEST(RedisInputConfigTest, RequiresChannelOrPatternInPubsubMode) {
  EXPECT_EQ(RedisInputTest::config_errors("mode: pubsub\n"),
            "test.yaml:1:1: input \"events\" (redis): mode pubsub needs key \"channels\", or \"patterns\", at least "
            "one channel or pattern to subscribe to\n");
}

TEST(RedisUrlTest, ParsesTcpAndUnixForms) {
  std::string error;
  const auto tcp = redis::parse_url("redis://10.1.2.3:6380/2", error);
  ASSERT_TRUE(tcp) << error;
  EXPECT_EQ(tcp->host, "10.1.2.3");
  EXPECT_EQ(tcp->port, 6380);
  EXPECT_EQ(tcp->database, 2);

  const auto ipv6 = redis::parse_url("redis://[::1]:7000", error);
  ASSERT_TRUE(ipv6) << error;
  EXPECT_EQ(ipv6->host, "::1");
  EXPECT_EQ(ipv6->port, 7000);
  EXPECT_EQ(ipv6->describe(), "redis://[::1]:7000/0");

  const auto socket = redis::parse_url("unix:///run/redis/redis.sock?db=3", error);
  ASSERT_TRUE(socket) << error;
  EXPECT_EQ(socket->socket_path, "/run/redis/redis.sock");
  EXPECT_EQ(socket->database, 3);

  EXPECT_FALSE(redis::parse_url("rediss://host:6380", error));
  EXPECT_EQ(error,
            "TLS (rediss://) is not supported; use redis://HOST:PORT/DB or unix:///PATH/TO.sock, through a "
            "TLS tunnel for a remote server");
  EXPECT_FALSE(redis::parse_url("http://host", error));
  EXPECT_EQ(error, "unknown scheme; use redis://HOST:PORT/DB or unix:///PATH/TO.sock");
}

}  // namespace
}  // namespace slipway::inputs
