// The elasticsearch output against a loopback _bulk server: index names
// from event times, _id from alert IDs, per-item retries and dead letters
// through the real engine, authentication, gzip, batch limits and failover.
#include "outputs/elasticsearch/elasticsearch_output.hpp"

#include <future>
#include <sstream>

#include <fmt/format.h>
#include <gtest/gtest.h>
#include <spdlog/sinks/ostream_sink.h>
#include <spdlog/spdlog.h>

#include "config/pipeline_config.hpp"
#include "engine/pipeline.hpp"
#include "tests/support/bulk_test_server.hpp"
#include "tests/support/process.hpp"
#include "tests/support/temp_dir.hpp"

namespace slipway::outputs::elasticsearch {
namespace {

using slipway::testing::BulkItem;
using slipway::testing::BulkItemReply;
using slipway::testing::BulkTestServer;
using slipway::testing::read_file;
using slipway::testing::TempDir;
using slipway::testing::write_file;

constexpr auto kPipelineTimeout = std::chrono::seconds(60);

std::string alert_id(int record) { return fmt::format("00000e5e-0000-4000-8000-{:012}", record); }

std::string alert(int record) {
  return fmt::format(R"({{"Format":"IDEA0","ID":"{}","DetectTime":"2024-04-0{}T23:30:00+02:00",)"
                     R"("Category":["Recon.Scanning"],"Description":"record {}"}})",
                     alert_id(record), 1 + record % 9, record);
}

std::vector<std::string> ids_of(const std::vector<BulkItem>& items) {
  std::vector<std::string> ids;
  for (const BulkItem& item : items) {
    ids.push_back(item.id);
  }
  return ids;
}

std::string index_name(std::string_view pattern, std::int64_t utc_micros) {
  std::string problem;
  const auto parsed = IndexTemplate::parse(pattern, problem);
  EXPECT_TRUE(parsed.has_value()) << problem;
  std::string name;
  if (parsed) {
    parsed->append_name(utc_micros, name);
  }
  return name;
}

class ElasticsearchOutputTest : public ::testing::Test {
 protected:
  std::unique_ptr<Output> make_output(const std::string& yaml) {
    const YAML::Node node = YAML::Load(yaml);
    config::Errors errors;
    const std::string context = "output \"search\" (elasticsearch)";
    config::check_against_schema(node, ElasticsearchOutputConfig::kSchema, context, "test.yaml", "", errors);
    auto output = ElasticsearchOutput::create(
        config::Section(node, &ElasticsearchOutputConfig::kSchema, context, "test.yaml"), errors);
    EXPECT_FALSE(errors.has_errors()) << errors.format();
    if (output) {
      output->start(context_);
    }
    return output;
  }

  static std::string config_errors(const std::string& yaml) {
    const YAML::Node node = YAML::Load(yaml);
    config::Errors errors;
    const std::string context = "output \"search\" (elasticsearch)";
    config::check_against_schema(node, ElasticsearchOutputConfig::kSchema, context, "test.yaml", "", errors);
    if (!errors.has_errors()) {
      ElasticsearchOutput::create(config::Section(node, &ElasticsearchOutputConfig::kSchema, context, "test.yaml"),
                                  errors);
    }
    return errors.format();
  }

  static BatchPtr batch_of(const std::vector<std::string>& events) {
    auto batch = std::make_shared<Batch>();
    for (const std::string& event : events) {
      batch->events.push_back(Event{event, {}});
    }
    return batch;
  }

  // Runs file -> elasticsearch over alerts 1..count to the end.
  void run_pipeline(int count, const std::string& output_yaml) {
    std::string text;
    for (int record = 1; record <= count; ++record) {
      text += alert(record) + "\n";
    }
    write_file(dir_ / "alerts.json", text);
    const std::string yaml = fmt::format(R"(
data_dir: {data}
shutdown_timeout_secs: 2
inputs:
  alerts:
    type: file
    paths: [{alerts}]
    exit_at_eof: true
outputs:
  search:
    type: elasticsearch
    from: [alerts]
    urls: [{url}]
    retry: {{initial_backoff_ms: 50, max_backoff_ms: 200}}
{output}
)",
                                         fmt::arg("data", (dir_ / "data").string()),
                                         fmt::arg("alerts", (dir_ / "alerts.json").string()),
                                         fmt::arg("url", server_.url()), fmt::arg("output", output_yaml));
    config::Errors errors;
    const auto loaded = config::load_pipeline_text(
        yaml, "test.yaml", [](const std::string&) { return std::optional<std::string>(); }, errors);
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

  TempDir dir_;
  BulkTestServer server_;
  std::ostringstream log_text_;
  OutputContext context_{ComponentKind::Output, "search", "elasticsearch",
                         std::make_shared<spdlog::logger>(
                             "output.elasticsearch.search", std::make_shared<spdlog::sinks::ostream_sink_st>(log_text_)),
                         dir_.path(), nullptr};
};

// Date fields come from the UTC time, including leap days and the hour.
TEST(IndexTemplateTest, FillsDateFieldsInUtc) {
  // 2024-02-29T23:59:59Z and 1969-12-31T00:00:00Z.
  EXPECT_EQ(index_name("slips-alerts-%Y.%m.%d", 1709251199'000000), "slips-alerts-2024.02.29");
  EXPECT_EQ(index_name("a-%Y-%m-%d-%H", 1709251199'000000), "a-2024-02-29-23");
  EXPECT_EQ(index_name("a-%Y.%m.%d", -86400'000000), "a-1969.12.31");
  EXPECT_EQ(index_name("pct-%%-%Y", 0), "pct-%-1970");
}

// The index name is checked when the pipeline loads.
TEST_F(ElasticsearchOutputTest, RejectsInvalidIndex) {
  EXPECT_EQ(config_errors(fmt::format("urls: {}\nindex: slips-%Y-%b\n", server_.url())),
            "test.yaml:2:8: output \"search\" (elasticsearch): key \"index\": \"slips-%Y-%b\": unsupported field "
            "\"%b\"; use %Y, %m, %d, %H or %%\n");
  EXPECT_EQ(config_errors(fmt::format("urls: {}\nindex: Slips\n", server_.url())),
            "test.yaml:2:8: output \"search\" (elasticsearch): key \"index\": \"Slips\": index names are lower case "
            "without spaces or any of \\/*?\"<>|,#:\n");
  EXPECT_EQ(config_errors("urls: [ftp://cluster]\n"),
            "test.yaml:1:7: output \"search\" (elasticsearch): key \"urls\": \"ftp://cluster\": unsupported scheme "
            "\"ftp\"; expected http or https\n");
  EXPECT_EQ(config_errors(fmt::format("urls: {}\nauth: {{strategy: api_key, user: slips}}\n", server_.url())),
            "test.yaml:2:7: output \"search\" (elasticsearch): key \"auth.api_key_file\": api_key authentication "
            "needs a file holding the encoded key\n"
            "test.yaml:2:33: output \"search\" (elasticsearch): key \"auth.user\": only used with strategy basic; "
            "remove it or set strategy: basic\n");
}

// Each event becomes an index action naming the index of its own day in
// UTC and its alert ID as _id, followed by the event unchanged; IDMEFv2's
// CreateTime is used when there is no DetectTime.
TEST_F(ElasticsearchOutputTest, WritesIndexAndIdFromEvent) {
  auto output = make_output(fmt::format("urls: {}\n", server_.url()));
  ASSERT_NE(output, nullptr);
  const std::string idmef = R"({"Version":"2.0.3","ID":"idmef-1","CreateTime":"2024-05-01T00:30:00+01:00"})";

  const DeliveryResult result = output->deliver(batch_of({alert(1), idmef}), context_);

  ASSERT_EQ(result.status, DeliveryStatus::Delivered) << result.reason;
  EXPECT_TRUE(result.failures.empty());
  const auto requests = server_.requests();
  ASSERT_EQ(requests.size(), 1u);
  ASSERT_EQ(requests[0].size(), 2u);
  EXPECT_EQ(requests[0][0].action, "index");
  EXPECT_EQ(requests[0][0].index, "slips-alerts-2024.04.02");
  EXPECT_EQ(requests[0][0].id, alert_id(1));
  EXPECT_EQ(requests[0][0].source, alert(1));
  EXPECT_EQ(requests[0][1].index, "slips-alerts-2024.04.30");
  EXPECT_EQ(requests[0][1].id, "idmef-1");
  const auto sent = server_.http().requests();
  ASSERT_EQ(sent.size(), 1u);
  EXPECT_EQ(sent[0].target, "/_bulk");
  EXPECT_EQ(sent[0].header("Content-Type"), "application/x-ndjson");
}

// Only the items the cluster rejected with 429 or 5xx are sent again. An
// item rejected with 400 goes to the dead-letter file with the cluster's
// reason, and the others are sent once.
TEST_F(ElasticsearchOutputTest, RetriesOnlyRetryableItems) {
  server_.script(alert_id(2), {BulkItemReply{429, "es_rejected_execution_exception", "rejected execution"}});
  server_.script(alert_id(3), {BulkItemReply{503, "unavailable_shards_exception", "primary shard is not active"},
                               BulkItemReply{500, "internal_server_error", "try later"}});
  server_.script(alert_id(4), {BulkItemReply{400, "mapper_parsing_exception", "failed to parse field [DetectTime]"}});

  run_pipeline(6, "");

  const auto requests = server_.requests();
  ASSERT_EQ(requests.size(), 3u);
  EXPECT_EQ(ids_of(requests[0]),
            (std::vector<std::string>{alert_id(1), alert_id(2), alert_id(3), alert_id(4), alert_id(5), alert_id(6)}));
  EXPECT_EQ(ids_of(requests[1]), (std::vector<std::string>{alert_id(2), alert_id(3)}));
  EXPECT_EQ(ids_of(requests[2]), (std::vector<std::string>{alert_id(3)}));
  EXPECT_EQ(server_.stored_ids(),
            (std::set<std::string>{alert_id(1), alert_id(2), alert_id(3), alert_id(5), alert_id(6)}));

  const std::string dead_letters = read_file(dir_ / "data" / "dead_letter" / "search.json");
  EXPECT_NE(dead_letters.find(alert_id(4)), std::string::npos) << dead_letters;
  EXPECT_NE(dead_letters.find("mapper_parsing_exception: failed to parse field [DetectTime]"), std::string::npos)
      << dead_letters;
  EXPECT_EQ(dead_letters.find(alert_id(2)), std::string::npos) << dead_letters;
}

// With action create, an _id the cluster already has (409) counts as delivered.
TEST_F(ElasticsearchOutputTest, CreateTreatsExistingIdAsDelivered) {
  auto output = make_output(fmt::format("urls: {}\naction: create\n", server_.url()));
  ASSERT_NE(output, nullptr);
  ASSERT_EQ(output->deliver(batch_of({alert(1)}), context_).status, DeliveryStatus::Delivered);

  const DeliveryResult again = output->deliver(batch_of({alert(1), alert(2)}), context_);

  EXPECT_EQ(again.status, DeliveryStatus::Delivered) << again.reason;
  EXPECT_TRUE(again.failures.empty());
  EXPECT_EQ(server_.requests().back()[0].action, "create");
}

// A whole-request 503 is retried, and a whole-request 401 is final.
TEST_F(ElasticsearchOutputTest, MapsRequestStatuses) {
  auto output = make_output(fmt::format("urls: {}\n", server_.url()));
  ASSERT_NE(output, nullptr);
  server_.http().enqueue(slipway::testing::HttpReply{.status = 503, .body = "busy"});
  const DeliveryResult busy = output->deliver(batch_of({alert(1)}), context_);
  EXPECT_EQ(busy.status, DeliveryStatus::Retry);
  EXPECT_NE(busy.reason.find("returned 503: busy"), std::string::npos) << busy.reason;

  server_.http().enqueue(slipway::testing::HttpReply{.status = 401, .body = R"({"error":"missing authentication"})"});
  const DeliveryResult denied = output->deliver(batch_of({alert(1)}), context_);
  EXPECT_EQ(denied.status, DeliveryStatus::Rejected);
}

// Batches are cut at batch_max_events and at batch_max_bytes.
TEST_F(ElasticsearchOutputTest, SplitsAtBatchLimits) {
  auto by_events = make_output(fmt::format("urls: {}\nbatch_max_events: 2\n", server_.url()));
  ASSERT_NE(by_events, nullptr);
  ASSERT_EQ(by_events->deliver(batch_of({alert(1), alert(2), alert(3), alert(4), alert(5)}), context_).status,
            DeliveryStatus::Delivered);
  ASSERT_EQ(server_.requests().size(), 3u);
  EXPECT_EQ(server_.requests()[2].size(), 1u);

  // One item is an action line of about 90 bytes and the alert of about 150.
  auto by_bytes = make_output(fmt::format("urls: {}\nbatch_max_bytes: 600\n", server_.url()));
  ASSERT_NE(by_bytes, nullptr);
  ASSERT_EQ(by_bytes->deliver(batch_of({alert(1), alert(2), alert(3), alert(4), alert(5)}), context_).status,
            DeliveryStatus::Delivered);
  const auto requests = server_.requests();
  ASSERT_EQ(requests.size(), 6u);
  EXPECT_EQ(requests[3].size(), 2u);
  EXPECT_EQ(requests[4].size(), 2u);
  EXPECT_EQ(requests[5].size(), 1u);
  for (const auto& sent : server_.http().requests()) {
    EXPECT_LE(sent.raw_body.size(), 600u);
  }
}

// Basic and API key credentials come from files; bodies can be gzipped.
TEST_F(ElasticsearchOutputTest, SendsCredentialsAndGzip) {
  write_file(dir_ / "password", "s3cret\n");
  write_file(dir_ / "api_key", "VnVhQ2ZHY0JDZGJrUW0tZTVhT3g6dWkybHAyYXhUTm1zeWFrdzl0dk5udw==\n");
  auto basic = make_output(fmt::format("urls: {}\ncompression: gzip\nauth: {{strategy: basic, user: slips, "
                                       "password_file: {}}}\n",
                                       server_.url(), (dir_ / "password").string()));
  ASSERT_NE(basic, nullptr);
  ASSERT_EQ(basic->deliver(batch_of({alert(1)}), context_).status, DeliveryStatus::Delivered);
  auto api_key = make_output(
      fmt::format("urls: {}\nauth: {{strategy: api_key, api_key_file: {}}}\n", server_.url(), (dir_ / "api_key").string()));
  ASSERT_NE(api_key, nullptr);
  ASSERT_EQ(api_key->deliver(batch_of({alert(2)}), context_).status, DeliveryStatus::Delivered);

  const auto sent = server_.http().requests();
  ASSERT_EQ(sent.size(), 2u);
  EXPECT_EQ(sent[0].header("Authorization"), "Basic c2xpcHM6czNjcmV0");
  EXPECT_EQ(sent[0].header("Content-Encoding"), "gzip");
  EXPECT_NE(sent[0].raw_body, sent[0].body);
  EXPECT_EQ(server_.requests()[0][0].id, alert_id(1));
  EXPECT_EQ(sent[1].header("Authorization"), "ApiKey VnVhQ2ZHY0JDZGJrUW0tZTVhT3g6dWkybHAyYXhUTm1zeWFrdzl0dk5udw==");
  EXPECT_EQ(log_text_.str().find("s3cret"), std::string::npos);
}

// A node that cannot be reached is skipped for the next URL at once.
TEST_F(ElasticsearchOutputTest, FailsOverToNextUrl) {
  slipway::testing::HttpTestServer stopped;
  const std::string dead_url = stopped.url("/");
  stopped.stop();
  auto output = make_output(fmt::format("urls: [\"{}\", \"{}\"]\n", dead_url, server_.url()));
  ASSERT_NE(output, nullptr);

  const DeliveryResult result = output->deliver(batch_of({alert(1)}), context_);

  EXPECT_EQ(result.status, DeliveryStatus::Delivered) << result.reason;
  EXPECT_EQ(server_.stored_ids(), std::set<std::string>{alert_id(1)});
}

}  // namespace
}  // namespace slipway::outputs::elasticsearch
