#include "filters/drop.hpp"

#include <gtest/gtest.h>

#include "tests/filters/filter_test_support.hpp"

namespace slipway::filters {
namespace {

using testing::batch_of;
using testing::RecordingContext;

constexpr const char* kContext = "filter \"gate\" (drop)";

std::unique_ptr<DropFilter> make_drop(const std::string& yaml) {
  config::Errors errors;
  const testing::TestSettings settings = testing::settings_from(DropConfig::kSchema, yaml, kContext, errors);
  std::optional<DropConfig> config = DropConfig::parse(settings.section, errors);
  EXPECT_FALSE(errors.has_errors()) << errors.format();
  return std::make_unique<DropFilter>(std::move(*config));
}

constexpr const char* kDropTraffic = "condition: {field: \"Category[0]\", equals: Anomaly.Traffic}\n";

// Matching events are discarded and counted; the rest keep their order
// and the batch's acknowledgements.
TEST(DropTest, DropsMatchingEventsAndCounts) {
  auto filter = make_drop(kDropTraffic);
  RecordingContext context;
  auto tracker = std::make_shared<AckTracker>(nullptr);
  const std::string recon = R"({"ID":"2","Category":["Recon"]})";
  const std::string missing = R"({"ID":"4"})";

  filter->process(batch_of({R"({"ID":"1","Category":["Anomaly.Traffic"]})", recon,
                            R"({"ID":"3","Category":["Anomaly.Traffic"]})", missing},
                           {tracker->track(CheckpointEntry{"file", "1"})}),
                  context);

  EXPECT_EQ(context.events(), (std::vector<std::string>{recon, missing}));
  EXPECT_EQ(context.metrics().dropped_events.load(), 2u);
  EXPECT_EQ(context.batches[""][0]->acks.size(), 1u);
  EXPECT_EQ(filter->counters().missing_fields.load(), 1u);
}

// A batch without a matching event is forwarded as the same batch.
TEST(DropTest, ForwardsBatchWithoutMatches) {
  auto filter = make_drop(kDropTraffic);
  RecordingContext context;
  const BatchPtr batch = batch_of({R"({"ID":"2","Category":["Recon"]})"});

  filter->process(batch, context);

  EXPECT_EQ(context.forwarded_batches, 1u);
  EXPECT_EQ(context.batches[""][0], batch);
  EXPECT_EQ(context.metrics().dropped_events.load(), 0u);
}

// When every event is dropped nothing is sent, and the acknowledgement
// completes as soon as the input batch is released.
TEST(DropTest, DropsWholeBatch) {
  auto filter = make_drop(kDropTraffic);
  RecordingContext context;
  int commits = 0;
  auto tracker = std::make_shared<AckTracker>([&](const std::vector<CheckpointEntry>&) { ++commits; });
  BatchPtr batch =
      batch_of({R"({"Category":["Anomaly.Traffic"]})"}, {tracker->track(CheckpointEntry{"file", "1"})});

  filter->process(batch, context);
  batch.reset();

  EXPECT_TRUE(context.batches.empty());
  EXPECT_EQ(commits, 1);
}

// The condition is required and checked like any other.
TEST(DropTest, RejectsMissingOrInvalidCondition) {
  const std::pair<const char*, const char*> cases[] = {
      {"{}\n", "test.yaml:1:1: filter \"gate\" (drop): missing required key \"condition\" (Events matching this "
               "condition are discarded, e.g. {field: Category[0], equals: Anomaly.Traffic})"},
      {"condition: {field: Category, contains: [a]}\n",
       "test.yaml:1:40: filter \"gate\" (drop): key \"condition.contains\": expected a string, number, boolean or "
       "null, got a list"},
  };
  for (const auto& [yaml, expected] : cases) {
    config::Errors errors;
    const testing::TestSettings settings = testing::settings_from(DropConfig::kSchema, yaml, kContext, errors);
    EXPECT_EQ(DropFilter::create(settings.section, errors), nullptr);
    EXPECT_EQ(testing::problem_texts(errors), std::vector<std::string>{expected}) << yaml;
  }
}

}  // namespace
}  // namespace slipway::filters
