// The logstash output's beats protocol against a loopback Lumberjack v2
// server: framing, compression, keep-alive and partial ACKs, a receiver
// that drops connections or restarts, failover between hosts, and TLS
// with client certificates.
#include <future>
#include <regex>
#include <set>
#include <sstream>

#include <fmt/format.h>
#include <gtest/gtest.h>
#include <spdlog/sinks/ostream_sink.h>
#include <spdlog/spdlog.h>

#include "config/pipeline_config.hpp"
#include "engine/pipeline.hpp"
#include "outputs/logstash/logstash_output.hpp"
#include "outputs/logstash/lumberjack.hpp"
#include "tests/support/beats_test_server.hpp"
#include "tests/support/process.hpp"
#include "tests/support/temp_dir.hpp"
#include "tests/support/tls_test_server.hpp"

namespace slipway::outputs::logstash {
namespace {

using slipway::testing::BeatsBehaviour;
using slipway::testing::BeatsServerTls;
using slipway::testing::BeatsTestServer;
using slipway::testing::TempDir;
using slipway::testing::wait_until;
using slipway::testing::write_file;
using std::chrono::milliseconds;

constexpr auto kPipelineTimeout = std::chrono::seconds(60);

std::string alert_id(int record) { return fmt::format("00000006-0000-4000-8000-{:012}", record); }

std::string alert(int record) {
  return fmt::format(R"({{"Format":"IDEA0","ID":"{}","DetectTime":"2024-04-09T10:00:00Z",)"
                     R"("Category":["Recon.Scanning"],"Description":"record {}"}})",
                     alert_id(record), record);
}

BatchPtr batch_of(int first, int count) {
  auto batch = std::make_shared<Batch>();
  for (int record = first; record < first + count; ++record) {
    batch->events.push_back(Event{alert(record), {}});
  }
  return batch;
}

// A port nothing listens on: bound once by this process, then released.
std::uint16_t closed_port() {
  BeatsTestServer probe;
  const std::uint16_t port = probe.port();
  probe.stop();
  return port;
}

std::set<std::string> ids_of(const std::vector<std::string>& events) {
  std::set<std::string> ids;
  for (const std::string& event : events) {
    const std::size_t at = event.find("\"ID\":\"");
    if (at != std::string::npos) {
      ids.insert(event.substr(at + 6, 36));
    }
  }
  return ids;
}

class LogstashBeatsTest : public ::testing::Test {
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

  static std::string config_errors(const std::string& yaml) {
    const YAML::Node node = YAML::Load(yaml);
    config::Errors errors;
    const std::string context = "output \"logstash\" (logstash)";
    config::check_against_schema(node, LogstashOutputConfig::kSchema, context, "test.yaml", "", errors);
    if (!errors.has_errors()) {
      LogstashOutput::create(config::Section(node, &LogstashOutputConfig::kSchema, context, "test.yaml"), errors);
    }
    return errors.format();
  }

  std::unique_ptr<Pipeline> build_pipeline(int alerts, const std::string& output_yaml) {
    std::string text;
    for (int record = 1; record <= alerts; ++record) {
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
  logstash:
    type: logstash
    from: [alerts]
    retry: {{initial_backoff_ms: 50, max_backoff_ms: 200}}
{output}
)",
                                         fmt::arg("data", (dir_ / "data").string()),
                                         fmt::arg("alerts", (dir_ / "alerts.json").string()),
                                         fmt::arg("output", output_yaml));
    config::Errors errors;
    const auto loaded = config::load_pipeline_text(
        yaml, "test.yaml", [](const std::string&) { return std::optional<std::string>(); }, errors);
    EXPECT_TRUE(loaded.has_value()) << errors.format();
    if (!loaded) {
      return nullptr;
    }
    auto pipeline = Pipeline::build(*loaded, errors);
    EXPECT_NE(pipeline, nullptr) << errors.format();
    return pipeline;
  }

  static void wait_for_end(Pipeline& pipeline) {
    auto finished = std::async(std::launch::async, [&] { pipeline.wait(); });
    if (finished.wait_for(kPipelineTimeout) != std::future_status::ready) {
      ADD_FAILURE() << "the pipeline did not finish within " << kPipelineTimeout.count() << " s";
      pipeline.request_stop();
      finished.wait();
    }
  }

  // The value of counter `name` for the output `logstash`, from the pipeline's metrics.
  static std::uint64_t output_counter(const Pipeline& pipeline, const std::string& name) {
    const std::regex line(name + R"(\{component_id="logstash",[^}]*\} (\d+))");
    std::smatch match;
    const std::string metrics = pipeline.prometheus_metrics();
    return std::regex_search(metrics, match, line) ? std::stoull(match[1].str()) : 0;
  }

  TempDir dir_;
  BeatsTestServer server_;
  std::ostringstream log_text_;
  OutputContext context_{ComponentKind::Output, "logstash", "logstash",
                         std::make_shared<spdlog::logger>(
                             "output.logstash.logstash", std::make_shared<spdlog::sinks::ostream_sink_st>(log_text_)),
                         dir_.path(), nullptr};
};

// The frames of one uncompressed event match the byte example of the
// Lumberjack v2 format: window of 1, JSON frame with sequence 1.
TEST(LumberjackTest, EncodesOneEventWindow) {
  std::string wire;
  lumberjack::append_window(1, wire);
  lumberjack::append_json(1, R"({"a":1})", wire);
  const std::string expected("\x32\x57\x00\x00\x00\x01\x32\x4a\x00\x00\x00\x01\x00\x00\x00\x07{\"a\":1}", 23);
  EXPECT_EQ(wire, expected);

  const char ack[] = {0x32, 0x41, 0x00, 0x00, 0x00, 0x01};
  EXPECT_EQ(lumberjack::parse_ack(ack), 1u);
  const char not_ack[] = {0x32, 0x57, 0x00, 0x00, 0x00, 0x01};
  EXPECT_EQ(lumberjack::parse_ack(not_ack), std::nullopt);
}

// A compressed frame inflates back to the JSON frames it was given.
TEST(LumberjackTest, CompressedFrameRoundTrips) {
  std::string frames;
  lumberjack::append_json(1, R"({"a":1})", frames);
  lumberjack::append_json(2, R"({"b":2})", frames);
  lumberjack::FrameCompressor compressor(3);
  std::string wire;
  compressor.append_compressed(frames, wire);
  ASSERT_GE(wire.size(), lumberjack::kCompressedHeaderBytes);
  EXPECT_EQ(wire.substr(0, 2), "2C");
  EXPECT_EQ(lumberjack::read_u32(wire.data() + 2), wire.size() - lumberjack::kCompressedHeaderBytes);
  EXPECT_EQ(lumberjack::inflate_payload(wire.substr(lumberjack::kCompressedHeaderBytes), 1 << 20), frames);
}

// A batch larger than a window goes out in several windows, each ACKed,
// and arrives complete and in order.
TEST_F(LogstashBeatsTest, SendsBatchInWindows) {
  auto output = make_output(fmt::format("hosts: [\"{}\"]\nbatch_max_events: 3\n", server_.host()));
  ASSERT_NE(output, nullptr);

  const DeliveryResult result = output->deliver(batch_of(1, 7), context_);

  EXPECT_EQ(result.status, DeliveryStatus::Delivered) << result.reason;
  EXPECT_TRUE(result.failures.empty());
  std::vector<std::string> expected;
  for (int record = 1; record <= 7; ++record) {
    expected.push_back(alert(record));
  }
  EXPECT_EQ(server_.acknowledged_events(), expected);
  EXPECT_EQ(server_.connection_count(), 1u);
  EXPECT_EQ(server_.compressed_frames(), 0u);
}

// With a compression level the events travel in compressed frames.
TEST_F(LogstashBeatsTest, SendsCompressedFrames) {
  auto output = make_output(fmt::format("hosts: [\"{}\"]\ncompression_level: 3\n", server_.host()));
  ASSERT_NE(output, nullptr);

  const DeliveryResult result = output->deliver(batch_of(1, 50), context_);

  EXPECT_EQ(result.status, DeliveryStatus::Delivered) << result.reason;
  EXPECT_EQ(server_.acknowledged_count(), 50u);
  EXPECT_EQ(server_.compressed_frames(), 1u);
  EXPECT_EQ(server_.protocol_errors(), 0u);
}

// Keep-alive ACKs restart the wait: a window whose final ACK comes after
// three times timeout_ms is delivered, because a keep-alive arrives within
// each timeout.
TEST_F(LogstashBeatsTest, WaitsThroughKeepAliveAcks) {
  server_.set_behaviour(BeatsBehaviour{.keepalives_before_ack = 4, .keepalive_interval = milliseconds(150)});
  auto output = make_output(fmt::format("hosts: [\"{}\"]\ntimeout_ms: 400\n", server_.host()));
  ASSERT_NE(output, nullptr);

  const DeliveryResult result = output->deliver(batch_of(1, 5), context_);

  EXPECT_EQ(result.status, DeliveryStatus::Delivered) << result.reason;
  EXPECT_EQ(server_.acknowledged_count(), 5u);
  EXPECT_EQ(server_.connection_count(), 1u);
}

// Without any ACK within timeout_ms the window is retried.
TEST_F(LogstashBeatsTest, RetriesWhenNoAckArrives) {
  server_.set_behaviour(BeatsBehaviour{.keepalives_before_ack = 1, .keepalive_interval = milliseconds(1500)});
  auto output = make_output(fmt::format("hosts: [\"{}\"]\ntimeout_ms: 300\n", server_.host()));
  ASSERT_NE(output, nullptr);

  const DeliveryResult result = output->deliver(batch_of(1, 2), context_);

  EXPECT_EQ(result.status, DeliveryStatus::Retry);
  EXPECT_NE(result.reason.find("no ACK within timeout_ms (300 ms)"), std::string::npos) << result.reason;
}

// A partial ACK confirms the events it covers: when the receiver then
// drops the connection, only the events after it are retried.
TEST_F(LogstashBeatsTest, RetriesOnlyEventsAfterPartialAck) {
  server_.set_behaviour(BeatsBehaviour{.partial_ack_every = 4, .close_after_events = 6});
  auto output = make_output(fmt::format("hosts: [\"{}\"]\n", server_.host()));
  ASSERT_NE(output, nullptr);

  const DeliveryResult result = output->deliver(batch_of(1, 10), context_);

  ASSERT_EQ(result.status, DeliveryStatus::Delivered) << result.reason;
  ASSERT_EQ(result.failures.size(), 6u);
  EXPECT_EQ(result.failures.front().index, 4u);
  EXPECT_EQ(result.failures.back().index, 9u);
  EXPECT_TRUE(result.failures.front().retryable);
  EXPECT_EQ(server_.acknowledged_count(), 4u);
}

// The server closes the connection without an ACK on a JSON frame that
// does not decode; the output reports the window for retry.
TEST_F(LogstashBeatsTest, ServerClosesOnBadJson) {
  auto output = make_output(fmt::format("hosts: [\"{}\"]\ntimeout_ms: 5000\n", server_.host()));
  ASSERT_NE(output, nullptr);
  auto batch = std::make_shared<Batch>();
  batch->events.push_back(Event{R"({"ID":"broken",)", {}});

  const DeliveryResult result = output->deliver(batch, context_);

  EXPECT_EQ(result.status, DeliveryStatus::Retry);
  EXPECT_NE(result.reason.find("closed the connection"), std::string::npos) << result.reason;
  EXPECT_EQ(server_.protocol_errors(), 1u);
  EXPECT_EQ(server_.acknowledged_count(), 0u);
}

// A host that refuses connections is skipped for the next one in the same
// attempt, and the failure of every host names each of them.
TEST_F(LogstashBeatsTest, FailsOverToNextHost) {
  const std::uint16_t dead = closed_port();
  auto output = make_output(fmt::format("hosts: [\"127.0.0.1:{}\", \"{}\"]\n", dead, server_.host()));
  ASSERT_NE(output, nullptr);

  const DeliveryResult result = output->deliver(batch_of(1, 3), context_);
  EXPECT_EQ(result.status, DeliveryStatus::Delivered) << result.reason;
  EXPECT_EQ(server_.acknowledged_count(), 3u);

  server_.stop();
  const DeliveryResult down = output->deliver(batch_of(4, 1), context_);
  EXPECT_EQ(down.status, DeliveryStatus::Retry);
  EXPECT_NE(down.reason.find("connecting to every host failed"), std::string::npos) << down.reason;
  EXPECT_NE(down.reason.find(fmt::format("127.0.0.1:{}", dead)), std::string::npos) << down.reason;
  EXPECT_NE(down.reason.find(server_.host()), std::string::npos) << down.reason;
}

// Through the engine, every alert reaches the receiver although it is down
// at the start, drops a connection in the middle of a window, and comes
// back: nothing the receiver should have is lost.
TEST_F(LogstashBeatsTest, SurvivesReceiverRestartsWithoutLoss) {
  constexpr int kAlerts = 500;
  server_.stop();
  auto pipeline = build_pipeline(kAlerts, fmt::format("    hosts: [\"{}\"]\n    batch_max_events: 64\n"
                                                      "    connect_timeout_ms: 500\n",
                                                      server_.host()));
  ASSERT_NE(pipeline, nullptr);
  pipeline->start();

  const auto retried = [&] { return output_counter(*pipeline, "slipway_component_retries_total") > 0; };
  EXPECT_TRUE(wait_until(retried, std::chrono::seconds(20))) << pipeline->prometheus_metrics();
  server_.set_behaviour(BeatsBehaviour{.partial_ack_every = 16, .close_after_events = 40});
  server_.restart();
  wait_for_end(*pipeline);

  const std::set<std::string> received = ids_of(server_.acknowledged_events());
  for (int record = 1; record <= kAlerts; ++record) {
    EXPECT_TRUE(received.count(alert_id(record)) == 1) << "missing " << alert_id(record);
  }
  EXPECT_GE(server_.connection_count(), 2u);
}

// A receiver that stops in the middle of the stream and comes back on the
// same port gets every alert: windows in flight at the stop are resent.
TEST_F(LogstashBeatsTest, SurvivesRestartMidStream) {
  constexpr int kAlerts = 3000;
  // A keep-alive before each ACK slows the receiver, so the stop lands
  // while windows are still flowing.
  server_.set_behaviour(BeatsBehaviour{.keepalives_before_ack = 1, .keepalive_interval = milliseconds(5)});
  auto pipeline = build_pipeline(kAlerts, fmt::format("    hosts: [\"{}\"]\n    batch_max_events: 32\n"
                                                      "    connect_timeout_ms: 500\n",
                                                      server_.host()));
  ASSERT_NE(pipeline, nullptr);
  pipeline->start();

  ASSERT_TRUE(wait_until([&] { return server_.acknowledged_count() >= 300; }, std::chrono::seconds(20)));
  server_.stop();
  const std::uint64_t acknowledged_before_stop = server_.acknowledged_count();
  const auto retried = [&] { return output_counter(*pipeline, "slipway_component_retries_total") > 0; };
  EXPECT_TRUE(wait_until(retried, std::chrono::seconds(20))) << pipeline->prometheus_metrics();
  server_.restart();
  wait_for_end(*pipeline);

  EXPECT_LT(acknowledged_before_stop, static_cast<std::uint64_t>(kAlerts));
  const std::set<std::string> received = ids_of(server_.acknowledged_events());
  for (int record = 1; record <= kAlerts; ++record) {
    EXPECT_TRUE(received.count(alert_id(record)) == 1) << "missing " << alert_id(record);
  }
}

// With TLS the output checks the server certificate against ca_file and
// presents its client certificate; without one the server rejects it.
TEST_F(LogstashBeatsTest, SendsOverTlsWithClientCertificate) {
  const auto server_certificate = slipway::testing::make_self_signed_certificate(dir_.path(), "server");
  const auto client_certificate = slipway::testing::make_self_signed_certificate(dir_.path(), "client");
  if (!server_certificate || !client_certificate) {
    GTEST_SKIP() << "the openssl command is needed to make test certificates";
  }
  BeatsTestServer tls_server(
      BeatsServerTls{server_certificate->cert_file, server_certificate->key_file, client_certificate->cert_file});

  auto output = make_output(fmt::format("hosts: [\"{}\"]\ntls: {{enabled: true, ca_file: {}, cert_file: {}, "
                                        "key_file: {}}}\n",
                                        tls_server.host(), server_certificate->cert_file.string(),
                                        client_certificate->cert_file.string(),
                                        client_certificate->key_file.string()));
  ASSERT_NE(output, nullptr);
  const DeliveryResult result = output->deliver(batch_of(1, 3), context_);
  EXPECT_EQ(result.status, DeliveryStatus::Delivered) << result.reason;
  EXPECT_EQ(tls_server.acknowledged_count(), 3u);

  auto anonymous = make_output(fmt::format("hosts: [\"{}\"]\ntimeout_ms: 2000\ntls: {{enabled: true, ca_file: {}}}\n",
                                           tls_server.host(), server_certificate->cert_file.string()));
  ASSERT_NE(anonymous, nullptr);
  const DeliveryResult rejected = anonymous->deliver(batch_of(4, 1), context_);
  EXPECT_EQ(rejected.status, DeliveryStatus::Retry);
  EXPECT_EQ(tls_server.acknowledged_count(), 3u);

  auto untrusting = make_output(fmt::format("hosts: [\"{}\"]\ntls: {{enabled: true}}\n", tls_server.host()));
  ASSERT_NE(untrusting, nullptr);
  const DeliveryResult unverified = untrusting->deliver(batch_of(5, 1), context_);
  EXPECT_EQ(unverified.status, DeliveryStatus::Retry);
  EXPECT_NE(unverified.reason.find("certificate verification"), std::string::npos) << unverified.reason;
}

// A CA file that is not PEM stops the start with a message naming the key and the file.
TEST_F(LogstashBeatsTest, StartFailsOnUnreadableCaFile) {
  write_file(dir_ / "ca.pem", "not a certificate\n");
  const YAML::Node node = YAML::Load(
      fmt::format("hosts: [\"{}\"]\ntls: {{enabled: true, ca_file: {}}}\n", server_.host(), (dir_ / "ca.pem").string()));
  config::Errors errors;
  auto output = LogstashOutput::create(
      config::Section(node, &LogstashOutputConfig::kSchema, "output \"logstash\" (logstash)", "test.yaml"), errors);
  ASSERT_NE(output, nullptr) << errors.format();

  try {
    output->start(context_);
    FAIL() << "start() accepted a CA file that is not PEM";
  } catch (const std::runtime_error& error) {
    const std::string message = error.what();
    EXPECT_TRUE(message.starts_with(fmt::format("output \"logstash\": tls.ca_file {} cannot be loaded: ",
                                                (dir_ / "ca.pem").string())))
        << message;
    EXPECT_TRUE(message.ends_with("; check that it is a PEM file")) << message;
  }
}

// Host lists and protocol-specific keys are checked with the value and the fix.
TEST_F(LogstashBeatsTest, RejectsInvalidSettings) {
  EXPECT_EQ(config_errors("hosts: [\"http://logstash:5044\"]\n"),
            "test.yaml:1:8: output \"logstash\" (logstash): key \"hosts\": \"http://logstash:5044\": expected "
            "HOST:PORT without a scheme or path, e.g. logstash.example:5044\n");
  EXPECT_EQ(config_errors("protocol: tcp\nhosts: [logstash]\n"),
            "test.yaml:2:8: output \"logstash\" (logstash): key \"hosts\": \"logstash\": the tcp protocol has no "
            "default port; write HOST:PORT\n");
  EXPECT_EQ(config_errors("hosts: [\"logstash:99999\"]\n"),
            "test.yaml:1:8: output \"logstash\" (logstash): key \"hosts\": \"logstash:99999\": port \"99999\" is not "
            "a number from 1 to 65535\n");
  EXPECT_EQ(config_errors("hosts: [logstash]\nuser: slips\n"),
            "test.yaml:2:7: output \"logstash\" (logstash): key \"user\": only used with protocol http; remove it\n");
}

}  // namespace
}  // namespace slipway::outputs::logstash
