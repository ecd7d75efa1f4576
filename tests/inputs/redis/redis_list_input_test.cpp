// The `redis` input in list mode against a real redis-server: items are
// read oldest first, wait on the processing list until delivered, and
// leftovers of an earlier run are delivered at start.
#include "tests/inputs/redis/redis_input_fixture.hpp"

namespace slipway::inputs {
namespace {

using slipway::testing::read_file;
using slipway::testing::wait_until;

constexpr auto kDeadline = std::chrono::seconds(10);

class RedisListInputTest : public RedisInputTest {};

// Items pushed with LPUSH arrive in push order and stay on the processing
// list until the outputs release them.
TEST_F(RedisListInputTest, KeepsItemsUntilDelivered) {
  for (int number = 1; number <= 3; ++number) {
    server_->command({"LPUSH", "queue", fmt::format(R"({{"n": {}}})", number)});
  }
  auto context = this->context();
  context->start(input("mode: list\nkey: queue\n"));

  ASSERT_TRUE(context->wait_for_events(3));
  EXPECT_EQ(context->event_texts(), (std::vector<std::string>{R"({"n": 1})", R"({"n": 2})", R"({"n": 3})"}));
  EXPECT_EQ(integer({"LLEN", "queue"}), 0);
  EXPECT_EQ(integer({"LLEN", "queue:processing"}), 3);

  context->acknowledge_all();
  EXPECT_TRUE(wait_until([&] { return integer({"LLEN", "queue:processing"}) == 0; }, kDeadline));
}

// Items an earlier run took but did not deliver are delivered first, in
// the order they were taken, and new items follow.
TEST_F(RedisListInputTest, RecoversLeftoversAtStart) {
  server_->command({"LPUSH", "queue:processing", R"({"left": 1})"});
  server_->command({"LPUSH", "queue:processing", R"({"left": 2})"});
  server_->command({"LPUSH", "queue", R"({"new": 3})"});
  auto context = this->context();
  context->set_auto_acknowledge(true);
  context->start(input("mode: list\nkey: queue\n"));

  ASSERT_TRUE(context->wait_for_events(3));
  EXPECT_EQ(context->event_texts(), (std::vector<std::string>{R"({"left": 1})", R"({"left": 2})", R"({"new": 3})"}));
  EXPECT_TRUE(wait_until([&] { return integer({"LLEN", "queue:processing"}) == 0; }, kDeadline));
}

// A batch the pipeline could not deliver stays on the processing list, so
// the next run delivers it.
TEST_F(RedisListInputTest, LeavesUndeliveredItemsForNextRun) {
  server_->command({"LPUSH", "queue", R"({"n": 1})"});
  {
    auto first = context();
    first->start(input("mode: list\nkey: queue\nprocessing_list: mine\n"));
    ASSERT_TRUE(first->wait_for_events(1));
    first->stop();
    first->drop_unacknowledged();
  }
  EXPECT_EQ(integer({"LLEN", "mine"}), 1);

  auto second = context();
  second->set_auto_acknowledge(true);
  second->start(input("mode: list\nkey: queue\nprocessing_list: mine\n"));
  ASSERT_TRUE(second->wait_for_events(1));
  EXPECT_EQ(second->event_texts()[0], R"({"n": 1})");
  EXPECT_TRUE(wait_until([&] { return integer({"LLEN", "mine"}) == 0; }, kDeadline));
}

// A large backlog is read in batches of at most batch_max_events.
TEST_F(RedisListInputTest, ReadsBacklogInBatches) {
  for (int number = 0; number < 50; ++number) {
    server_->command({"LPUSH", "queue", fmt::format(R"({{"n": {}}})", number)});
  }
  auto context = this->context();
  context->set_auto_acknowledge(true);
  context->start(input("mode: list\nkey: queue\nbatch_max_events: 20\n"));

  ASSERT_TRUE(context->wait_for_events(50));
  for (const auto& batch : context->batches()) {
    EXPECT_LE(batch.size(), 20u);
  }
  EXPECT_EQ(context->event_texts()[49], R"({"n": 49})");
}

// An item that is not a JSON object is dead-lettered and removed.
TEST_F(RedisListInputTest, DeadLettersInvalidItem) {
  server_->command({"LPUSH", "queue", "[1, 2]"});
  server_->command({"LPUSH", "queue", R"({"ok": 1})"});
  auto context = this->context();
  context->set_auto_acknowledge(true);
  context->start(input("mode: list\nkey: queue\n"));

  ASSERT_TRUE(context->wait_for_events(1));
  EXPECT_TRUE(wait_until([&] { return integer({"LLEN", "queue:processing"}) == 0; }, kDeadline));
  EXPECT_NE(read_file(context->dead_letter_path()).find("[1, 2]"), std::string::npos);
}

TEST(RedisListInputConfigTest, RejectsProcessingListEqualToKey) {
  EXPECT_EQ(RedisInputTest::config_errors("mode: list\nkey: q\nprocessing_list: q\n"),
            "test.yaml:3:18: input \"events\" (redis): key \"processing_list\" must differ from key \"q\"; items "
            "would move onto the list they came from\n");
}

}  // namespace
}  // namespace slipway::inputs
