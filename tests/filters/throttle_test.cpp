#include "filters/throttle.hpp"

#include <gtest/gtest.h>

#include "tests/filters/filter_test_support.hpp"

namespace slipway::filters {
namespace {

using testing::batch_of;
using testing::RecordingContext;
using std::chrono::seconds;

constexpr const char* kContext = "filter \"pace\" (throttle)";

std::string event_from(const std::string& address, int number) {
  return R"({"ID":")" + std::to_string(number) + R"(","Source":[{"IP4":[")" + address + R"("]}]})";
}

class ThrottleTest : public ::testing::Test {
 protected:
  std::unique_ptr<ThrottleFilter> make(const std::string& yaml) {
    config::Errors errors;
    const testing::TestSettings settings = testing::settings_from(ThrottleConfig::kSchema, yaml, kContext, errors);
    std::optional<ThrottleConfig> config = ThrottleConfig::parse(settings.section, errors);
    EXPECT_FALSE(errors.has_errors()) << errors.format();
    return std::make_unique<ThrottleFilter>(std::move(*config), clock_);
  }

  std::vector<std::string> events(int count, const std::string& address = "192.0.2.1") {
    std::vector<std::string> lines;
    for (int number = 0; number < count; ++number) {
      lines.push_back(event_from(address, next_number_++));
    }
    return lines;
  }

  std::shared_ptr<testing::FakeClock> clock_ = std::make_shared<testing::FakeClock>();
  RecordingContext context_;
  int next_number_ = 1;
};

// Events over the limit are held and sent once the interval has passed
// since the earliest sends, never more than max_events per interval.
TEST_F(ThrottleTest, HoldsExcessUntilIntervalPasses) {
  auto filter = make("max_events: 2\ninterval_secs: 10\n");
  const std::vector<std::string> lines = events(5);

  filter->process(batch_of(lines), context_);
  EXPECT_EQ(context_.events(), (std::vector<std::string>{lines[0], lines[1]}));
  EXPECT_EQ(filter->pending(), 3u);
  EXPECT_EQ(filter->next_release(), clock_->steady_now() + seconds(10));

  clock_->advance(seconds(9));
  filter->release_due(context_);
  EXPECT_EQ(context_.count(), 2u);

  clock_->advance(seconds(1));
  filter->release_due(context_);
  EXPECT_EQ(context_.events(), (std::vector<std::string>{lines[0], lines[1], lines[2], lines[3]}));
  EXPECT_EQ(filter->pending(), 1u);
  EXPECT_TRUE(clock_->sleeps.empty());
}

// The engine calls a filter only when a batch arrives, so while no batch
// comes held events wait for the next one or for shutdown.
TEST_F(ThrottleTest, HeldEventsWaitForNextBatch) {
  auto filter = make("max_events: 1\ninterval_secs: 10\n");
  const std::vector<std::string> lines = events(3);

  filter->process(batch_of({lines[0], lines[1]}), context_);
  clock_->advance(seconds(60));
  EXPECT_EQ(context_.count(), 1u);

  filter->process(batch_of({lines[2]}), context_);
  EXPECT_EQ(context_.events(), (std::vector<std::string>{lines[0], lines[1]}));
}

// With when_exceeded: drop, the excess is discarded and counted.
TEST_F(ThrottleTest, DropsExcessWhenConfigured) {
  auto filter = make("max_events: 2\ninterval_secs: 10\nwhen_exceeded: drop\n");
  const std::vector<std::string> lines = events(5);

  filter->process(batch_of(lines), context_);
  clock_->advance(seconds(10));
  filter->process(batch_of({lines[4]}), context_);

  EXPECT_EQ(context_.events(), (std::vector<std::string>{lines[0], lines[1], lines[4]}));
  EXPECT_EQ(context_.metrics().dropped_events.load(), 3u);
  EXPECT_EQ(filter->pending(), 0u);
}

// Each key has its own limit.
TEST_F(ThrottleTest, LimitsEachKeySeparately) {
  auto filter = make("max_events: 1\ninterval_secs: 60\nkey: [\"Source[0].IP4[0]\"]\n");
  const std::string first_a = event_from("192.0.2.1", 1);
  const std::string second_a = event_from("192.0.2.1", 2);
  const std::string first_b = event_from("192.0.2.2", 3);

  filter->process(batch_of({first_a, second_a, first_b}), context_);

  EXPECT_EQ(context_.events(), (std::vector<std::string>{first_a, first_b}));
  EXPECT_EQ(filter->pending(), 1u);
}

// A new event never overtakes a held event of the same key.
TEST_F(ThrottleTest, KeepsOrderWithinKey) {
  auto filter = make("max_events: 1\ninterval_secs: 10\n");
  const std::vector<std::string> lines = events(3);

  filter->process(batch_of({lines[0], lines[1]}), context_);
  clock_->advance(seconds(10));
  filter->process(batch_of({lines[2]}), context_);

  EXPECT_EQ(context_.events(), (std::vector<std::string>{lines[0], lines[1]}));
  EXPECT_EQ(filter->pending(), 1u);
}

// With max_pending events held, the filter sleeps on the clock until the
// next event may go, once per released event, instead of spinning.
TEST_F(ThrottleTest, WaitsWhenPendingIsFull) {
  auto filter = make("max_events: 1\ninterval_secs: 10\nmax_pending: 2\n");
  const Clock::SteadyTime start = clock_->steady_now();
  const std::vector<std::string> lines = events(5);

  filter->process(batch_of(lines), context_);

  EXPECT_EQ(clock_->sleeps, (std::vector<Clock::SteadyTime>{start + seconds(10), start + seconds(20)}));
  EXPECT_EQ(context_.events(), (std::vector<std::string>{lines[0], lines[1], lines[2]}));
  EXPECT_EQ(filter->pending(), 2u);
}

// finish() sends every held event at once, in the order they arrived.
TEST_F(ThrottleTest, FinishSendsHeldEventsInArrivalOrder) {
  auto filter = make("max_events: 1\ninterval_secs: 3600\nkey: [\"Source[0].IP4[0]\"]\n");
  const std::vector<std::string> lines = {event_from("192.0.2.1", 1), event_from("192.0.2.1", 2),
                                          event_from("192.0.2.2", 3), event_from("192.0.2.2", 4),
                                          event_from("192.0.2.1", 5)};

  filter->process(batch_of(lines), context_);
  filter->finish(context_);

  EXPECT_EQ(context_.events(), (std::vector<std::string>{lines[0], lines[2], lines[1], lines[3], lines[4]}));
  EXPECT_EQ(filter->pending(), 0u);
}

// The input's checkpoint waits until held events have been sent and released.
TEST_F(ThrottleTest, KeepsAcknowledgementsOfHeldEvents) {
  auto filter = make("max_events: 1\ninterval_secs: 10\n");
  int commits = 0;
  auto tracker = std::make_shared<AckTracker>([&](const std::vector<CheckpointEntry>&) { ++commits; });

  filter->process(batch_of(events(2), {tracker->track(CheckpointEntry{"file", "1"})}), context_);
  context_.batches.clear();
  EXPECT_EQ(commits, 0);

  clock_->advance(seconds(10));
  filter->release_due(context_);
  ASSERT_EQ(context_.count(), 1u);
  EXPECT_EQ(context_.batches[""][0]->acks.size(), 1u);
  context_.batches.clear();
  EXPECT_EQ(commits, 1);
}

// Buckets left idle for an interval are forgotten, so memory follows the
// keys seen recently rather than every key ever seen.
TEST_F(ThrottleTest, ForgetsIdleBuckets) {
  auto filter = make("max_events: 5\ninterval_secs: 10\nkey: [\"Source[0].IP4[0]\"]\nwhen_exceeded: drop\n");
  filter->process(batch_of({event_from("192.0.2.1", 1), event_from("192.0.2.2", 2)}), context_);
  clock_->advance(seconds(10));
  filter->process(batch_of({event_from("192.0.2.3", 3)}), context_);
  clock_->advance(seconds(10));
  filter->process(batch_of({event_from("192.0.2.1", 4)}), context_);

  EXPECT_EQ(context_.count(), 4u);
  EXPECT_EQ(filter->bucket_count(), 1u);
}

// max_events is required and bounds are checked.
TEST_F(ThrottleTest, RejectsMissingLimit) {
  config::Errors errors;
  const testing::TestSettings settings =
      testing::settings_from(ThrottleConfig::kSchema, "interval_secs: 0\nwhen_exceeded: wait\n", kContext, errors);
  EXPECT_EQ(ThrottleFilter::create(settings.section, errors), nullptr);
  EXPECT_EQ(testing::problem_texts(errors),
            (std::vector<std::string>{
                "test.yaml:1:1: filter \"pace\" (throttle): missing required key \"max_events\" (Events passed at "
                "most per key in any period of interval_secs)",
                "test.yaml:1:16: filter \"pace\" (throttle): key \"interval_secs\": expected an integer of at least 1, "
                "got \"0\"",
                "test.yaml:2:16: filter \"pace\" (throttle): key \"when_exceeded\": invalid value \"wait\"; expected "
                "one of: delay, drop"}));
}

}  // namespace
}  // namespace slipway::filters
