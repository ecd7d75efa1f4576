#include "filters/dedupe.hpp"

#include <set>

#include <gtest/gtest.h>

#include "tests/filters/filter_test_support.hpp"
#include "tests/support/temp_dir.hpp"

namespace slipway::filters {
namespace {

using testing::batch_of;
using testing::RecordingContext;

constexpr const char* kContext = "filter \"once\" (dedupe)";
constexpr std::size_t kBatchEvents = 64;

class DedupeTest : public ::testing::Test {
 protected:
  std::unique_ptr<DedupeFilter> make(const std::string& yaml = "{}\n") {
    config::Errors errors;
    const testing::TestSettings settings = testing::settings_from(DedupeConfig::kSchema, yaml, kContext, errors);
    std::optional<DedupeConfig> config = DedupeConfig::parse(settings.section, errors);
    EXPECT_FALSE(errors.has_errors()) << errors.format();
    return std::make_unique<DedupeFilter>(std::move(*config), clock_);
  }

  // Sends `lines` in batches of kBatchEvents, as an input would.
  static void process_all(DedupeFilter& filter, const std::vector<std::string>& lines, RecordingContext& context) {
    for (std::size_t start = 0; start < lines.size(); start += kBatchEvents) {
      const std::size_t end = std::min(lines.size(), start + kBatchEvents);
      filter.process(batch_of(std::vector<std::string>(lines.begin() + start, lines.begin() + end)), context);
    }
  }

  // The fixture with every line written twice in a row, as Slips
  // publishes each alert's evidence twice.
  static std::vector<std::string> doubled_fixture() {
    std::vector<std::string> doubled;
    for (const std::string& line :
         testing::read_lines(slipway::testing::shared_path("fixtures/slips/alerts-2023-02-20.json"))) {
      doubled.push_back(line);
      doubled.push_back(line);
    }
    return doubled;
  }

  static std::set<std::string> ids_of(const std::vector<std::string>& lines) {
    std::set<std::string> ids;
    for (const std::string& line : lines) {
      ids.insert(json::parse(line).value->find("ID")->as_string());
    }
    return ids;
  }

  slipway::testing::TempDir dir_;
  std::shared_ptr<testing::FakeClock> clock_ = std::make_shared<testing::FakeClock>();
};

// A file in which every alert appears twice comes out with each alert once.
TEST_F(DedupeTest, PassesEachDoubledAlertOnce) {
  if (slipway::testing::shared_path("fixtures/slips/alerts-2023-02-20.json").empty()) {
    GTEST_SKIP() << "the shared fixtures are not present beside the repository";
  }
  const std::vector<std::string> doubled = doubled_fixture();
  auto filter = make();
  RecordingContext context(dir_.path());

  process_all(*filter, doubled, context);

  const std::vector<std::string> passed = context.events();
  EXPECT_EQ(passed.size(), doubled.size() / 2);
  EXPECT_EQ(ids_of(passed).size(), passed.size());
  EXPECT_EQ(context.metrics().dropped_events.load(), doubled.size() / 2);
}

// After a restart on the same data_dir, a replay of delivered alerts
// sends nothing again.
TEST_F(DedupeTest, DropsReplayAfterRestart) {
  if (slipway::testing::shared_path("fixtures/slips/alerts-2023-02-20.json").empty()) {
    GTEST_SKIP() << "the shared fixtures are not present beside the repository";
  }
  const std::vector<std::string> doubled = doubled_fixture();
  {
    auto first_run = make();
    RecordingContext context(dir_.path());
    process_all(*first_run, doubled, context);
    EXPECT_EQ(context.count(), doubled.size() / 2);
    context.batches.clear();  // the outputs deliver and release every batch
  }

  auto second_run = make();
  RecordingContext context(dir_.path());
  process_all(*second_run, doubled, context);

  EXPECT_EQ(context.count(), 0u);
  EXPECT_EQ(context.metrics().dropped_events.load(), doubled.size());
}

// Keys of a batch the outputs did not deliver are not stored, so after a
// restart the input's replay of those events passes them again.
TEST_F(DedupeTest, ResendsUndeliveredAfterRestart) {
  const std::vector<std::string> lines = {R"({"ID":"a"})", R"({"ID":"b"})"};
  {
    auto first_run = make();
    RecordingContext context(dir_.path());
    first_run->process(batch_of({lines[0]}), context);
    first_run->process(batch_of({lines[1]}), context);
    for (const AckRef& ack : context.batches[""][1]->acks) {
      ack->mark_undelivered();
    }
    context.batches.clear();
  }

  auto second_run = make();
  RecordingContext context(dir_.path());
  second_run->process(batch_of(lines), context);

  EXPECT_EQ(context.events(), (std::vector<std::string>{lines[1]}));
}

// A passed batch carries its input's acknowledgement besides the filter's own.
TEST_F(DedupeTest, KeepsAcknowledgements) {
  auto filter = make();
  RecordingContext context(dir_.path());
  int commits = 0;
  auto tracker = std::make_shared<AckTracker>([&](const std::vector<CheckpointEntry>&) { ++commits; });

  filter->process(batch_of({R"({"ID":"a"})"}, {tracker->track(CheckpointEntry{"file", "1"})}), context);
  EXPECT_EQ(context.batches[""][0]->acks.size(), 2u);
  context.batches.clear();
  EXPECT_EQ(commits, 1);
}

// A duplicate is dropped within window_secs of the first event and passes
// again once the window is over.
TEST_F(DedupeTest, PassesAgainAfterWindow) {
  auto filter = make("window_secs: 60\n");
  RecordingContext context(dir_.path());
  const std::string event = R"({"ID":"a"})";

  filter->process(batch_of({event}), context);
  clock_->advance(std::chrono::seconds(59));
  filter->process(batch_of({event}), context);
  clock_->advance(std::chrono::seconds(2));
  filter->process(batch_of({event}), context);

  EXPECT_EQ(context.count(), 2u);
  EXPECT_EQ(context.metrics().dropped_events.load(), 1u);
}

// Keys stored longer ago than the window are not loaded after a restart.
TEST_F(DedupeTest, ForgetsExpiredKeysAcrossRestart) {
  const std::string event = R"({"ID":"a"})";
  {
    auto first_run = make("window_secs: 60\n");
    RecordingContext context(dir_.path());
    first_run->process(batch_of({event}), context);
    context.batches.clear();
  }
  clock_->advance(std::chrono::seconds(61));

  auto second_run = make("window_secs: 60\n");
  RecordingContext context(dir_.path());
  second_run->process(batch_of({event}), context);

  EXPECT_EQ(context.count(), 1u);
}

// Beyond max_keys the oldest key is forgotten early and counted.
TEST_F(DedupeTest, EvictsOldestBeyondMaxKeys) {
  auto filter = make("max_keys: 2\n");
  RecordingContext context(dir_.path());
  const std::string a = R"({"ID":"a"})";
  const std::string b = R"({"ID":"b"})";
  const std::string c = R"({"ID":"c"})";

  filter->process(batch_of({a, b, c, a, c}), context);

  EXPECT_EQ(context.events(), (std::vector<std::string>{a, b, c, a}));
  EXPECT_EQ(filter->counters().evicted_keys.load(), 2u);
  EXPECT_EQ(filter->remembered_keys(), 2u);
}

// Events without any key field pass every time and are counted.
TEST_F(DedupeTest, PassesKeylessEvents) {
  auto filter = make();
  RecordingContext context(dir_.path());

  filter->process(batch_of({R"({"Note":"x"})", R"({"Note":"x"})"}), context);

  EXPECT_EQ(context.count(), 2u);
  EXPECT_EQ(filter->counters().keyless_events.load(), 2u);
}

// With several key fields, events are duplicates only when all values are equal.
TEST_F(DedupeTest, ComparesEveryKeyField) {
  auto filter = make("key: [\"Source[0].IP4[0]\", \"Category[0]\"]\n");
  RecordingContext context(dir_.path());
  const std::string recon = R"({"Source":[{"IP4":["192.0.2.1"]}],"Category":["Recon"]})";
  const std::string malware = R"({"Source":[{"IP4":["192.0.2.1"]}],"Category":["Malware"]})";
  const std::string no_category = R"({"Source":[{"IP4":["192.0.2.1"]}]})";

  filter->process(batch_of({recon, malware, recon, no_category, no_category}), context);

  EXPECT_EQ(context.events(), (std::vector<std::string>{recon, malware, no_category}));
}

// An invalid key path is a configuration error.
TEST_F(DedupeTest, RejectsInvalidKeyPath) {
  config::Errors errors;
  const testing::TestSettings settings =
      testing::settings_from(DedupeConfig::kSchema, "key: [ID, \"Source[\"]\nwindow_secs: 0\n", kContext, errors);
  EXPECT_EQ(DedupeFilter::create(settings.section, errors), nullptr);
  EXPECT_EQ(testing::problem_texts(errors),
            (std::vector<std::string>{
                "test.yaml:2:14: filter \"once\" (dedupe): key \"window_secs\": expected an integer of at least 1, got "
                "\"0\"",
                "test.yaml:1:6: filter \"once\" (dedupe): key \"key\": invalid field path \"Source[\": missing \"]\" "
                "after \"[\""}));
}

}  // namespace
}  // namespace slipway::filters
