// The example pipeline pipelines/slips-to-taxii.yaml, validated and run by
// the slipway program against the loopback TAXII 2.1 server: Slips alerts
// in, indicators stored at the server and kept in STIX_data.json.
#include <filesystem>
#include <set>

#include <fmt/format.h>
#include <gtest/gtest.h>

#include "engine/json.hpp"
#include "tests/support/process.hpp"
#include "tests/support/taxii_test_server.hpp"
#include "tests/support/temp_dir.hpp"

namespace slipway::testing {
namespace {

class SlipsToTaxiiPipelineTest : public ::testing::Test {
 protected:
  std::filesystem::path pipeline() const {
    return std::filesystem::path(SLIPWAY_SOURCE_DIR) / "pipelines/slips-to-taxii.yaml";
  }

  std::map<std::string, std::string> environment(const Taxii21TestServer& server) const {
    return {{"SLIPS_OUTPUT", (dir_ / "slips").string()},
            {"SLIPWAY_DATA_DIR", (dir_ / "data").string()},
            {"SLIPWAY_EXIT_AT_EOF", "true"},
            {"TAXII_URL", server.discovery_url()},
            {"TAXII_COLLECTION", std::string(Taxii21TestServer::kCollectionId)},
            {"TAXII_PASSWORD_FILE", (dir_ / "taxii.password").string()}};
  }

  TempDir dir_;
};

// `slipway validate` accepts the example pipeline.
TEST_F(SlipsToTaxiiPipelineTest, ValidatesExamplePipeline) {
  Taxii21TestServer server({});

  const int status = run_slipway({"validate", pipeline().string()}, dir_ / "stdout.txt", dir_ / "stderr.txt",
                                 environment(server));

  EXPECT_EQ(status, 0) << read_file(dir_ / "stderr.txt");
  EXPECT_NE(read_file(dir_ / "stdout.txt").find("valid (1 inputs, 2 filters, 2 outputs)"), std::string::npos)
      << read_file(dir_ / "stdout.txt");
}

// Run over a generated current-format alerts.json, every evidence reaches
// the server as an indicator, and STIX_data.json is one bundle holding the
// same indicators.
TEST_F(SlipsToTaxiiPipelineTest, SharesSlipsAlertsOverTaxii) {
  const std::filesystem::path fixture = shared_path("fixtures/slips/alerts-idmefv2-generated.json");
  if (fixture.empty()) {
    GTEST_SKIP() << "fixtures/slips/alerts-idmefv2-generated.json is not in the shared tree";
  }
  Taxii21TestServer::Options options;
  options.user = "slips";
  options.password = "pipeline-password";
  options.max_content_length = 65536;
  Taxii21TestServer server(options);
  std::filesystem::create_directories(dir_ / "slips");
  std::filesystem::copy_file(fixture, dir_ / "slips" / "alerts.json");
  write_file(dir_ / "taxii.password", "pipeline-password\n");
  std::filesystem::permissions(dir_ / "taxii.password", std::filesystem::perms::owner_read);

  const int status =
      run_slipway({"run", pipeline().string()}, dir_ / "stdout.txt", dir_ / "stderr.txt", environment(server));

  ASSERT_EQ(status, 0) << read_file(dir_ / "stderr.txt");
  const std::vector<std::string> stored = server.stored("indicator");
  EXPECT_GE(stored.size(), 60u) << "one indicator per evidence at least";
  EXPECT_EQ(server.stored("sighting").size(), stored.size());
  EXPECT_FALSE(std::filesystem::exists(dir_ / "data" / "dead_letter" / "taxii.json"))
      << read_file(dir_ / "data" / "dead_letter" / "taxii.json");

  json::ParseResult bundle = json::parse(read_file(dir_ / "slips" / "STIX_data.json"));
  ASSERT_TRUE(bundle.value.has_value()) << bundle.error;
  std::set<std::string> indicators_in_file;
  for (const json::Value& object : bundle.value->find("objects")->items()) {
    if (object.find("type")->as_string() == "indicator") {
      indicators_in_file.insert(object.find("id")->as_string() + "|" + object.find("modified")->as_string());
    }
  }
  EXPECT_EQ(indicators_in_file, std::set<std::string>(stored.begin(), stored.end()));
}

}  // namespace
}  // namespace slipway::testing
