#include "engine/output_runtime.hpp"

#include <deque>

#include <gtest/gtest.h>
#include <spdlog/spdlog.h>

#include "engine/dead_letter.hpp"
#include "tests/support/temp_dir.hpp"

namespace slipway {
namespace {

using testing::TempDir;

// An output that returns the next scripted result from each deliver() call.
class ScriptedOutput final : public Output {
 public:
  explicit ScriptedOutput(std::deque<DeliveryResult> script) : script_(std::move(script)) {}

  DeliveryResult deliver(const BatchPtr& batch, OutputContext& /*context*/) override {
    batch_sizes.push_back(batch->events.size());
    if (script_.empty()) {
      return DeliveryResult::delivered();
    }
    DeliveryResult next = std::move(script_.front());
    script_.pop_front();
    return next;
  }

  std::vector<std::size_t> batch_sizes;

 private:
  std::deque<DeliveryResult> script_;
};

// Delivered apart from the events at `retry_indices`, which may be retried.
DeliveryResult partly_delivered(const std::vector<std::size_t>& retry_indices) {
  DeliveryResult result = DeliveryResult::delivered();
  for (std::size_t index : retry_indices) {
    result.failures.push_back(EventFailure{index, true, "returned 503"});
  }
  return result;
}

BatchPtr batch_of(std::size_t events) {
  auto batch = std::make_shared<Batch>();
  for (std::size_t index = 0; index < events; ++index) {
    batch->events.push_back(Event{R"({"ID":")" + std::to_string(index) + R"("})", {}});
  }
  return batch;
}

class OutputRunnerTest : public ::testing::Test {
 protected:
  bool deliver(ScriptedOutput& output, const BatchPtr& batch) {
    RetryPolicy retry;
    retry.max_retries = 2;
    retry.initial_backoff = std::chrono::milliseconds(1);
    retry.max_backoff = std::chrono::milliseconds(1);
    OutputRunner runner(output, context_, retry, dead_letters_, deadline_);
    return runner.deliver(batch);
  }

  TempDir dir_;
  std::shared_ptr<DeadLetterQueue> dead_letters_ = std::make_shared<DeadLetterQueue>(dir_ / "dead_letter.json");
  ShutdownDeadline deadline_;
  ComponentContext context_{ComponentKind::Output, "receiver", "scripted",
                            std::make_shared<spdlog::logger>("output.scripted.receiver"), dir_.path(), nullptr};
};

// Failures before an attempt that delivered part of the batch do not count
// against max_retries: a batch that keeps making progress is not dead-lettered.
TEST_F(OutputRunnerTest, ResetsRetryCountAfterPartialProgress) {
  ScriptedOutput output({DeliveryResult::retry("returned 503"), partly_delivered({1, 2, 3}),
                         DeliveryResult::retry("returned 503"), partly_delivered({1, 2}),
                         DeliveryResult::retry("returned 503")});

  EXPECT_TRUE(deliver(output, batch_of(4)));
  EXPECT_EQ(output.batch_sizes, (std::vector<std::size_t>{4, 4, 3, 3, 2, 2}));
  EXPECT_EQ(context_.metrics().sent_events.load(), 4u);
  EXPECT_EQ(context_.metrics().dead_lettered_events.load(), 0u);
  EXPECT_EQ(context_.metrics().retries.load(), 5u);
}

// Failures in a row beyond max_retries dead-letter the batch, with the
// number of attempts made.
TEST_F(OutputRunnerTest, DeadLettersAfterMaxRetriesInARow) {
  ScriptedOutput output({DeliveryResult::retry("returned 503"), DeliveryResult::retry("returned 503"),
                         DeliveryResult::retry("returned 503")});

  EXPECT_TRUE(deliver(output, batch_of(2)));
  EXPECT_EQ(output.batch_sizes.size(), 3u);
  EXPECT_EQ(context_.metrics().dead_lettered_events.load(), 2u);
  const std::string letters = testing::read_file(dir_ / "dead_letter.json");
  EXPECT_NE(letters.find("retries exhausted after 3 attempts: returned 503"), std::string::npos) << letters;
  EXPECT_NE(letters.find("\"attempts\":3"), std::string::npos) << letters;
}

// At the shutdown deadline the runner gives up without dead-lettering and
// reports that the batch was not delivered.
TEST_F(OutputRunnerTest, ReturnsFalseAtShutdownDeadline) {
  ScriptedOutput output({DeliveryResult::retry("returned 503")});
  deadline_.set(std::chrono::steady_clock::now());

  EXPECT_FALSE(deliver(output, batch_of(2)));
  EXPECT_EQ(context_.metrics().dead_lettered_events.load(), 0u);
}

}  // namespace
}  // namespace slipway
