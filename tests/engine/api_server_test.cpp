#include "engine/api_server.hpp"

#include <httplib.h>

#include <fmt/format.h>
#include <gtest/gtest.h>

#include "config/pipeline_config.hpp"
#include "engine/pipeline.hpp"
#include "tests/support/temp_dir.hpp"

namespace slipway {
namespace {

using testing::TempDir;

class ApiServerTest : public ::testing::Test {
 protected:
  // Runs a file-to-file pipeline over `records` lines to the end.
  std::unique_ptr<Pipeline> run_pipeline(int records) {
    std::string content;
    for (int number = 1; number <= records; ++number) {
      content += fmt::format(R"({{"Format":"IDEA0","ID":"id-{}","DetectTime":"2024-04-09T10:00:00Z"}})", number);
      content += '\n';
    }
    content += "not json\n";
    testing::write_file(dir_ / "alerts.json", content);

    config::Errors errors;
    auto config = config::load_pipeline_text(fmt::format(R"(
data_dir: {0}/var
inputs:
  alerts: {{type: file, paths: [{0}/alerts.json], exit_at_eof: true}}
outputs:
  archive: {{type: file, from: [alerts], path: {0}/out.json}}
)",
                                                         dir_.path().string()),
                                             "pipeline.yaml", config::process_environment(), errors);
    EXPECT_TRUE(config.has_value()) << errors.format();
    auto pipeline = Pipeline::build(*config, errors);
    EXPECT_NE(pipeline, nullptr) << errors.format();
    pipeline->start();
    pipeline->wait();
    return pipeline;
  }

  TempDir dir_;
};

// /metrics counts what each component received, sent and dead-lettered.
TEST_F(ApiServerTest, MetricsMatchEventsSent) {
  auto pipeline = run_pipeline(250);
  ApiServer server([&] { return pipeline->prometheus_metrics(); }, [&] { return pipeline->health(); });
  server.start("127.0.0.1:0");

  httplib::Client client("127.0.0.1", server.port());
  const auto response = client.Get("/metrics");
  ASSERT_TRUE(response);
  EXPECT_EQ(response->status, 200);
  const std::string& body = response->body;
  EXPECT_NE(body.find("# TYPE slipway_component_sent_events_total counter"), std::string::npos) << body;
  EXPECT_NE(body.find("slipway_component_sent_events_total{component_id=\"alerts\",component_kind=\"input\","
                      "component_type=\"file\"} 250\n"),
            std::string::npos)
      << body;
  EXPECT_NE(body.find("slipway_component_received_events_total{component_id=\"archive\",component_kind=\"output\","
                      "component_type=\"file\"} 250\n"),
            std::string::npos)
      << body;
  EXPECT_NE(body.find("slipway_component_sent_events_total{component_id=\"archive\",component_kind=\"output\","
                      "component_type=\"file\"} 250\n"),
            std::string::npos)
      << body;
  EXPECT_NE(body.find("slipway_component_dead_lettered_events_total{component_id=\"alerts\",component_kind=\"input\","
                      "component_type=\"file\"} 1\n"),
            std::string::npos)
      << body;
  EXPECT_NE(body.find("slipway_component_buffer_events{component_id=\"archive\",component_kind=\"output\","
                      "component_type=\"file\"} 0\n"),
            std::string::npos)
      << body;
  // Everything was read, so nothing is left behind.
  EXPECT_NE(body.find("slipway_file_lag_bytes{component_id=\"alerts\",component_kind=\"input\","
                      "component_type=\"file\"} 0\n"),
            std::string::npos)
      << body;
}

// /health returns 200 and "ok" while every component works.
TEST_F(ApiServerTest, HealthIsOkWhenNothingFails) {
  auto pipeline = run_pipeline(3);
  ApiServer server([&] { return pipeline->prometheus_metrics(); }, [&] { return pipeline->health(); });
  server.start("127.0.0.1:0");

  httplib::Client client("127.0.0.1", server.port());
  const auto response = client.Get("/health");
  ASSERT_TRUE(response);
  EXPECT_EQ(response->status, 200);
  EXPECT_EQ(response->body, "ok\n");
}

// /health returns 503 and names the component when one is degraded.
TEST_F(ApiServerTest, HealthNamesDegradedComponent) {
  ApiServer server([] { return std::string(); },
                   [] { return HealthReport{false, "degraded\noutput \"chat\" (slack): channel_not_found\n"}; });
  server.start("127.0.0.1:0");

  httplib::Client client("127.0.0.1", server.port());
  const auto response = client.Get("/health");
  ASSERT_TRUE(response);
  EXPECT_EQ(response->status, 503);
  EXPECT_EQ(response->body, "degraded\noutput \"chat\" (slack): channel_not_found\n");
}

// An address without a port is refused with a message saying how to write it.
TEST_F(ApiServerTest, RejectsAddressWithoutPort) {
  ApiServer server([] { return std::string(); }, [] { return HealthReport{}; });
  EXPECT_THROW(server.start("127.0.0.1"), std::runtime_error);
}

}  // namespace
}  // namespace slipway
