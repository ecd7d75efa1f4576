#include "filters/time_window.hpp"

#include <gtest/gtest.h>

#include "tests/filters/filter_test_support.hpp"

namespace slipway::filters {
namespace {

using testing::batch_of;
using testing::RecordingContext;

constexpr const char* kContext = "filter \"window\" (time_window)";

std::optional<TimeWindowConfig> parse_config(const std::string& yaml, config::Errors& errors) {
  const testing::TestSettings settings = testing::settings_from(TimeWindowConfig::kSchema, yaml, kContext, errors);
  return TimeWindowConfig::parse(settings.section, errors);
}

std::unique_ptr<TimeWindowFilter> make_window(const std::string& yaml) {
  config::Errors errors;
  std::optional<TimeWindowConfig> config = parse_config(yaml, errors);
  EXPECT_FALSE(errors.has_errors()) << errors.format();
  return std::make_unique<TimeWindowFilter>(std::move(*config));
}

TEST(TimeWindowTest, PassesSinceInclusiveUntilExclusive) {
  auto filter = make_window("since: 2024-03-01T00:00:10Z\nuntil: 2024-03-01T00:00:20Z\n");
  RecordingContext context;
  const std::string at_since = R"({"ID":"b","DetectTime":"2024-03-01T01:00:10+01:00"})";
  const std::string inside = R"({"ID":"c","CreateTime":"2024-03-01T00:00:19.999999Z"})";

  filter->process(batch_of({R"({"ID":"a","DetectTime":"2024-03-01T00:00:09Z"})", at_since, inside,
                            R"({"ID":"d","DetectTime":"2024-03-01T00:00:20Z"})"}),
                  context);

  EXPECT_EQ(context.events(), (std::vector<std::string>{at_since, inside}));
  EXPECT_EQ(context.metrics().dropped_events.load(), 2u);
}

TEST(TimeWindowTest, EventsWithoutTimePassByDefault) {
  auto filter = make_window("since: 2024-03-01T00:00:10Z\n");
  RecordingContext context;
  const std::string untimed = R"({"ID":"a","DetectTime":"soon"})";

  filter->process(batch_of({untimed}), context);

  EXPECT_EQ(context.events(), (std::vector<std::string>{untimed}));
}

TEST(TimeWindowTest, EventsWithoutTimeDroppedWhenAsked) {
  auto filter = make_window("since: 2024-03-01T00:00:10Z\nwithout_time: drop\n");
  RecordingContext context;

  filter->process(batch_of({R"({"ID":"a"})", R"({"ID":"b","ts":1709251215.5})"}), context);

  EXPECT_EQ(context.events(), (std::vector<std::string>{R"({"ID":"b","ts":1709251215.5})"}));
  EXPECT_EQ(context.metrics().dropped_events.load(), 1u);
}

TEST(TimeWindowTest, BatchInsideWindowIsForwarded) {
  auto filter = make_window("until: 2030-01-01T00:00:00Z\n");
  RecordingContext context;

  filter->process(batch_of({R"({"ID":"a","DetectTime":"2024-03-01T00:00:09Z"})"}), context);

  EXPECT_EQ(context.forwarded_batches, 1u);
}

TEST(TimeWindowTest, InvalidSettingsAreConfigErrors) {
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"since: yesterday\n", "invalid time \"yesterday\" for since"},
      {"since: 2024-03-02T00:00:00Z\nuntil: 2024-03-01T00:00:00Z\n", "until must be later than since"},
      {"speed: fast\n", "invalid speed \"fast\""},
      {"speed: -1\n", "invalid speed \"-1\""},
      {"timezone: Mars/Olympus\n", "unknown time zone \"Mars/Olympus\""},
      {"time_fields: [\"Source[x]\"]\n", "invalid field path \"Source[x]\""},
  };
  for (const auto& [yaml, message] : cases) {
    config::Errors errors;
    EXPECT_FALSE(parse_config(yaml, errors).has_value()) << yaml;
    EXPECT_NE(errors.format().find(message), std::string::npos) << yaml << errors.format();
  }
}

}  // namespace
}  // namespace slipway::filters
