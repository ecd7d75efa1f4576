// The logstash output's http protocol, which sends through the generic
// http output: one JSON array per request, as Logstash's http input
// decodes with its json codec, basic authentication, and failover.
#include <sstream>

#include <fmt/format.h>
#include <gtest/gtest.h>
#include <spdlog/sinks/ostream_sink.h>
#include <spdlog/spdlog.h>

#include "engine/json.hpp"
#include "outputs/logstash/logstash_output.hpp"
#include "tests/support/http_test_server.hpp"
#include "tests/support/temp_dir.hpp"

namespace slipway::outputs::logstash {
namespace {

using slipway::testing::HttpReply;
using slipway::testing::HttpTestServer;
using slipway::testing::TempDir;
using slipway::testing::write_file;

std::string alert(int record) {
  return fmt::format(R"({{"Format":"IDEA0","ID":"00000077-0000-4000-8000-{:012}","Description":"record {}"}})", record,
                     record);
}

class LogstashHttpTest : public ::testing::Test {
 protected:
  std::unique_ptr<Output> make_output(const std::string& yaml) {
    const YAML::Node node = YAML::Load(yaml);
    config::Errors errors;
    const std::string context = "output \"logstash\" (logstash)";
    config::check_against_schema(node, LogstashOutputConfig::kSchema, context, "test.yaml", "", errors);
    auto output = LogstashOutput::create(
        config::Section(node, &LogstashOutputConfig::kSchema, context, "test.yaml"), errors);
    EXPECT_FALSE(errors.has_errors()) << errors.format();
    if (output) {
      output->start(context_);
    }
    return output;
  }

  static BatchPtr batch_of(int count) {
    auto batch = std::make_shared<Batch>();
    for (int record = 1; record <= count; ++record) {
      batch->events.push_back(Event{alert(record), {}});
    }
    return batch;
  }

  TempDir dir_;
  HttpTestServer server_;
  std::ostringstream log_text_;
  OutputContext context_{ComponentKind::Output, "logstash", "logstash",
                         std::make_shared<spdlog::logger>(
                             "output.logstash.logstash", std::make_shared<spdlog::sinks::ostream_sink_st>(log_text_)),
                         dir_.path(), nullptr};
};

// A batch goes out as JSON arrays of at most batch_max_events events with
// Content-Type application/json and the basic credentials from the file.
TEST_F(LogstashHttpTest, PostsJsonArraysWithBasicAuth) {
  write_file(dir_ / "password", "logstash-pass\n");
  auto output = make_output(fmt::format("protocol: http\nhosts: [\"{}\"]\nbatch_max_events: 3\nuser: slips\n"
                                        "password_file: {}\n",
                                        server_.url("/"), (dir_ / "password").string()));
  ASSERT_NE(output, nullptr);

  const DeliveryResult result = output->deliver(batch_of(5), context_);

  EXPECT_EQ(result.status, DeliveryStatus::Delivered) << result.reason;
  const auto requests = server_.requests();
  ASSERT_EQ(requests.size(), 2u);
  EXPECT_EQ(requests[0].header("Content-Type"), "application/json");
  EXPECT_EQ(requests[0].header("Authorization"), "Basic c2xpcHM6bG9nc3Rhc2gtcGFzcw==");
  const json::ParseResult first = json::parse(requests[0].body);
  ASSERT_TRUE(first.value.has_value()) << requests[0].body;
  ASSERT_TRUE(first.value->is_array());
  EXPECT_EQ(first.value->items().size(), 3u);
  EXPECT_EQ(json::to_string(first.value->items()[0]), alert(1));
  EXPECT_EQ(json::parse(requests[1].body).value->items().size(), 2u);
}

// A host that replies 429 (Logstash's http input when its queue is full)
// or cannot be reached passes the batch to the next host at once.
TEST_F(LogstashHttpTest, FailsOverOnBusyHost) {
  HttpTestServer busy;
  busy.set_responder([](const slipway::testing::ReceivedRequest&) { return HttpReply{.status = 429}; });
  auto output = make_output(fmt::format("protocol: http\nhosts: [\"{}\", \"{}\"]\n", busy.url("/"), server_.url("/")));
  ASSERT_NE(output, nullptr);

  const DeliveryResult result = output->deliver(batch_of(2), context_);

  EXPECT_EQ(result.status, DeliveryStatus::Delivered) << result.reason;
  EXPECT_EQ(busy.request_count(), 1u);
  EXPECT_EQ(server_.request_count(), 1u);
}

// A password file that cannot be read stops the start with a message
// naming the component once, the key and the file.
TEST_F(LogstashHttpTest, StartFailsOnMissingPasswordFile) {
  const YAML::Node node = YAML::Load(fmt::format("protocol: http\nhosts: [\"{}\"]\nuser: slips\npassword_file: {}\n",
                                                 server_.url("/"), (dir_ / "missing").string()));
  config::Errors errors;
  auto output = LogstashOutput::create(
      config::Section(node, &LogstashOutputConfig::kSchema, "output \"logstash\" (logstash)", "test.yaml"), errors);
  ASSERT_NE(output, nullptr) << errors.format();

  try {
    output->start(context_);
    FAIL() << "start() accepted a missing password file";
  } catch (const std::runtime_error& error) {
    EXPECT_EQ(std::string(error.what()),
              fmt::format("output \"logstash\": auth.password_file {} cannot be read: No such file or directory; "
                          "check the path and its permissions",
                          (dir_ / "missing").string()));
  }
}

// Keys of other protocols are rejected with the fix.
TEST_F(LogstashHttpTest, RejectsTlsEnabledKey) {
  const YAML::Node node = YAML::Load(fmt::format("protocol: http\nhosts: [\"{}\"]\ntls: {{enabled: true}}\n",
                                                 server_.url("/")));
  config::Errors errors;
  const std::string context = "output \"logstash\" (logstash)";
  config::check_against_schema(node, LogstashOutputConfig::kSchema, context, "test.yaml", "", errors);
  LogstashOutput::create(config::Section(node, &LogstashOutputConfig::kSchema, context, "test.yaml"), errors);
  EXPECT_EQ(errors.format(), "test.yaml:3:6: output \"logstash\" (logstash): key \"tls\": tls.enabled is for beats and "
                             "tcp; with protocol http, write https:// hosts instead\n");
}

}  // namespace
}  // namespace slipway::outputs::logstash
