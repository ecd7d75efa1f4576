// Route and modify together over the real fixture alerts: first as
// components called directly, then as the example pipeline run by the engine.
#include <gtest/gtest.h>

#include "config/pipeline_config.hpp"
#include "engine/pipeline.hpp"
#include "filters/modify.hpp"
#include "filters/route.hpp"
#include "tests/filters/filter_test_support.hpp"
#include "tests/support/temp_dir.hpp"

namespace slipway::filters {
namespace {

using testing::batch_of;
using testing::RecordingContext;

template <typename Config, typename Component>
std::unique_ptr<Component> make_filter(const std::string& yaml, const std::string& context) {
  config::Errors errors;
  const testing::TestSettings settings = testing::settings_from(Config::kSchema, yaml, context, errors);
  std::optional<Config> config = Config::parse(settings.section, errors);
  EXPECT_FALSE(errors.has_errors()) << errors.format();
  return std::make_unique<Component>(std::move(*config));
}

// Sends `lines` through modify, then route, in batches as an input would,
// recording what route sends in `routed`.
void run_modify_then_route(const std::vector<std::string>& lines, const std::string& modify_yaml,
                           const std::string& route_yaml, RecordingContext& routed) {
  constexpr std::size_t kBatchEvents = 16;
  auto modify = make_filter<ModifyConfig, ModifyFilter>(modify_yaml, "filter \"tag\" (modify)");
  auto route = make_filter<RouteConfig, RouteFilter>(route_yaml, "filter \"router\" (route)");
  RecordingContext modified;
  for (std::size_t start = 0; start < lines.size(); start += kBatchEvents) {
    const std::size_t end = std::min(lines.size(), start + kBatchEvents);
    modify->process(batch_of(std::vector<std::string>(lines.begin() + start, lines.begin() + end)), modified);
  }
  for (const BatchPtr& batch : modified.batches[""]) {
    route->process(batch, routed);
  }
}

// Of the 61 generated IDMEFv2 alerts, the one incident reaches the
// incidents route, all 61 reach the archive route, each tagged with the sensor.
TEST(RouteWithModifyTest, SplitsGeneratedAlertsByStatus) {
  const auto path = slipway::testing::shared_path("fixtures/slips/alerts-idmefv2-generated.json");
  if (path.empty()) {
    GTEST_SKIP() << "the shared fixtures are not present beside the repository";
  }
  const std::vector<std::string> lines = testing::read_lines(path);
  ASSERT_EQ(lines.size(), 61u);

  RecordingContext routed;
  run_modify_then_route(lines, "set: {sensor: lab-1}\n", R"(
routes:
  incidents: {field: Status, equals: Incident}
  everything: {field: ID, exists: true}
)",
                        routed);

  EXPECT_EQ(routed.count("incidents"), 1u);
  EXPECT_EQ(routed.count("everything"), 61u);
  EXPECT_EQ(routed.count("_unmatched"), 0u);
  for (const std::string& event : routed.events("everything")) {
    EXPECT_NE(event.find(R"("sensor":"lab-1")"), std::string::npos) << event;
  }
  EXPECT_NE(routed.events("incidents")[0].find(R"("Status": "Incident")"), std::string::npos);
}

// Over the 1731 real legacy alerts, routes by category count what the
// fixture contains: 297 Recon, 56 Intrusion.Botnet, the rest unmatched. A
// route on a copied field tests the value modify wrote.
TEST(RouteWithModifyTest, SplitsLegacyAlertsByCategory) {
  const auto path = slipway::testing::shared_path("fixtures/slips/alerts-2023-02-20.json");
  if (path.empty()) {
    GTEST_SKIP() << "the shared fixtures are not present beside the repository";
  }
  const std::vector<std::string> lines = testing::read_lines(path);
  ASSERT_EQ(lines.size(), 1731u);

  RecordingContext routed;
  run_modify_then_route(lines, "copy: {\"Source[0].IP4[0]\": src_ip}\n", R"(
routes:
  recon: {field: Category, contains: Recon}
  botnet: {field: "Category[0]", equals: Intrusion.Botnet}
  lab_recon: {all: [{field: src_ip, prefix: "192.168."}, {field: Category, contains: Recon}]}
)",
                        routed);

  EXPECT_EQ(routed.count("recon"), 297u);
  EXPECT_EQ(routed.count("botnet"), 56u);
  EXPECT_EQ(routed.count("_unmatched"), 1731u - 297u - 56u);
  EXPECT_GT(routed.count("lab_recon"), 0u);
  EXPECT_LE(routed.count("lab_recon"), 297u);
}

// The example pipeline, run by the engine over the generated alerts, writes
// the incident to the notification file and every alert to the archive.
TEST(RouteExamplePipelineTest, RunsOverGeneratedAlerts) {
  const auto fixture = slipway::testing::shared_path("fixtures/slips/alerts-idmefv2-generated.json");
  if (fixture.empty()) {
    GTEST_SKIP() << "the shared fixtures are not present beside the repository";
  }
  slipway::testing::TempDir dir;
  std::filesystem::create_directories(dir / "slips");
  std::filesystem::copy_file(fixture, dir / "slips" / "alerts.json");
  const std::map<std::string, std::string> variables = {
      {"SLIPWAY_DATA_DIR", (dir / "data").string()},
      {"SLIPS_OUTPUT", (dir / "slips").string()},
      {"SLIPWAY_EXIT_AT_EOF", "true"},
      {"SLIPWAY_SENSOR", "lab-1"},
      {"SLIPWAY_NOTIFY_FILE", (dir / "incidents.json").string()},
      {"SLIPWAY_ARCHIVE", (dir / "archive.json").string()},
  };
  const config::Environment environment = [&](const std::string& name) -> std::optional<std::string> {
    const auto found = variables.find(name);
    return found == variables.end() ? std::nullopt : std::optional<std::string>(found->second);
  };

  config::Errors errors;
  const auto loaded = config::load_pipeline(
      std::filesystem::path(SLIPWAY_SOURCE_DIR) / "pipelines/route-incidents-to-slack-archive-all.yaml",
      environment, errors);
  ASSERT_TRUE(loaded.has_value()) << errors.format();
  auto pipeline = Pipeline::build(*loaded, errors);
  ASSERT_NE(pipeline, nullptr) << errors.format();
  pipeline->start();
  pipeline->wait();

  const std::vector<std::string> incidents = testing::read_lines(dir / "incidents.json");
  const std::vector<std::string> archived = testing::read_lines(dir / "archive.json");
  ASSERT_EQ(incidents.size(), 1u);
  EXPECT_NE(incidents[0].find(R"("Status": "Incident")"), std::string::npos);
  EXPECT_EQ(archived.size(), 61u);
  for (const std::string& line : archived) {
    EXPECT_NE(line.find(R"("sensor":"lab-1","received_at":")"), std::string::npos) << line;
  }
}

}  // namespace
}  // namespace slipway::filters
