// The example pipelines pipelines/logstash-compat.yaml and
// pipelines/slips-to-elasticsearch.yaml: `slipway validate` accepts them,
// and run over generated Slips alerts they deliver every alert to a
// loopback beats server, a file and a loopback _bulk server.
#include <future>
#include <map>

#include <gtest/gtest.h>

#include "config/pipeline_config.hpp"
#include "engine/json.hpp"
#include "engine/pipeline.hpp"
#include "tests/support/beats_test_server.hpp"
#include "tests/support/bulk_test_server.hpp"
#include "tests/support/process.hpp"
#include "tests/support/temp_dir.hpp"

namespace slipway {
namespace {

using testing::read_file;
using testing::TempDir;

constexpr auto kPipelineTimeout = std::chrono::seconds(60);

std::vector<std::string> lines_of(const std::string& text) {
  std::vector<std::string> lines;
  std::size_t at = 0;
  while (at < text.size()) {
    const std::size_t end = text.find('\n', at);
    lines.push_back(text.substr(at, end - at));
    at = end == std::string::npos ? text.size() : end + 1;
  }
  return lines;
}

class LogstashPipelinesTest : public ::testing::Test {
 protected:
  void SetUp() override {
    alerts_ = testing::shared_path("fixtures/slips/alerts-idmefv2-generated.json");
    if (alerts_.empty() || !std::filesystem::exists(alerts_)) {
      GTEST_SKIP() << "the generated Slips alerts fixture is not available";
    }
    std::filesystem::create_directories(dir_ / "slips");
    std::filesystem::copy_file(alerts_, dir_ / "slips" / "alerts.json");
  }

  static std::filesystem::path example(std::string_view name) {
    return std::filesystem::path(SLIPWAY_SOURCE_DIR) / "pipelines" / name;
  }

  // Runs an example pipeline with `variables` to the end of its input.
  void run_example(std::string_view name, std::map<std::string, std::string> variables) {
    variables["SLIPS_OUTPUT"] = (dir_ / "slips").string();
    variables["SLIPWAY_DATA_DIR"] = (dir_ / "data").string();
    variables["SLIPWAY_EXIT_AT_EOF"] = "true";
    const config::Environment environment = [&](const std::string& key) -> std::optional<std::string> {
      const auto found = variables.find(key);
      return found == variables.end() ? std::nullopt : std::optional<std::string>(found->second);
    };
    config::Errors errors;
    const auto loaded = config::load_pipeline(example(name), environment, errors);
    ASSERT_TRUE(loaded.has_value()) << errors.format();
    auto pipeline = Pipeline::build(*loaded, errors);
    ASSERT_NE(pipeline, nullptr) << errors.format();
    pipeline->start();
    auto finished = std::async(std::launch::async, [&] { pipeline->wait(); });
    if (finished.wait_for(kPipelineTimeout) != std::future_status::ready) {
      ADD_FAILURE() << "the pipeline did not finish";
      pipeline->request_stop();
      finished.wait();
    }
  }

  std::filesystem::path alerts_;
  TempDir dir_;
};

// `slipway validate` accepts both example pipelines as shipped.
TEST_F(LogstashPipelinesTest, ExamplesValidate) {
  for (std::string_view name : {"logstash-compat.yaml", "slips-to-elasticsearch.yaml"}) {
    const int code = testing::run_slipway({"validate", example(name).string()}, dir_ / "stdout.txt",
                                          dir_ / "stderr.txt", {{"SLIPS_OUTPUT", (dir_ / "slips").string()}});
    EXPECT_EQ(code, 0) << name << ": " << read_file(dir_ / "stderr.txt");
  }
}

// As with Slips' logstash.conf, every alerts.json line arrives in the
// output file as the same JSON document, one per line. The same alerts
// reach Logstash's beats input.
TEST_F(LogstashPipelinesTest, CompatCopiesAlertsAndShipsThemOverBeats) {
  testing::BeatsTestServer logstash;
  run_example("logstash-compat.yaml",
              {{"LOGSTASH_HOSTS", logstash.host()}, {"SLIPWAY_OUTPUT_FILE", (dir_ / "out.json").string()}});

  const std::vector<std::string> input = lines_of(read_file(alerts_));
  const std::vector<std::string> output = lines_of(read_file(dir_ / "out.json"));
  ASSERT_EQ(output.size(), input.size());
  for (std::size_t line = 0; line < input.size(); ++line) {
    EXPECT_EQ(json::parse(output[line]).value, json::parse(input[line]).value) << "line " << line + 1;
  }
  EXPECT_EQ(logstash.acknowledged_count(), input.size());
}

// Every alert is indexed once under its own ID, in the index of its day.
TEST_F(LogstashPipelinesTest, ElasticsearchExampleIndexesEveryAlert) {
  testing::BulkTestServer cluster;
  testing::write_file(dir_ / "api_key", "c2xpcHM6a2V5\n");
  std::filesystem::permissions(dir_ / "api_key", std::filesystem::perms::owner_read | std::filesystem::perms::owner_write);
  run_example("slips-to-elasticsearch.yaml",
              {{"ES_URL", cluster.url()}, {"ES_API_KEY_FILE", (dir_ / "api_key").string()}});

  const std::size_t alerts = lines_of(read_file(alerts_)).size();
  EXPECT_EQ(cluster.stored_ids().size(), alerts);
  std::size_t items = 0;
  for (const auto& request : cluster.requests()) {
    for (const testing::BulkItem& item : request) {
      ++items;
      EXPECT_TRUE(item.index.starts_with("slips-alerts-20")) << item.index;
      EXPECT_EQ(item.index.size(), std::string("slips-alerts-2024.05.13").size()) << item.index;
    }
  }
  EXPECT_EQ(items, alerts);
  const auto sent = cluster.http().requests();
  ASSERT_FALSE(sent.empty());
  EXPECT_EQ(sent[0].header("Authorization"), "ApiKey c2xpcHM6a2V5");
}

}  // namespace
}  // namespace slipway
