// The warden output through the real engine, against a loopback Warden 3
// server that requires a client certificate from its own test CA and
// replies with the real server's error lists and partial saves.
#include "outputs/warden/warden_output.hpp"

#include <future>
#include <map>

#include <fmt/format.h>
#include <gtest/gtest.h>
#include <spdlog/sinks/null_sink.h>

#include "config/pipeline_config.hpp"
#include "engine/json.hpp"
#include "engine/pipeline.hpp"
#include "outputs/warden/address_filter.hpp"
#include "outputs/warden/warden_client.hpp"
#include "tests/support/process.hpp"
#include "tests/support/temp_dir.hpp"
#include "tests/support/warden_test_server.hpp"

namespace slipway::outputs::warden {
namespace {

using slipway::testing::count_lines;
using slipway::testing::read_file;
using slipway::testing::shared_path;
using slipway::testing::TempDir;
using slipway::testing::TestPki;
using slipway::testing::WardenCall;
using slipway::testing::WardenTestServer;
using slipway::testing::write_file;

constexpr auto kPipelineTimeout = std::chrono::seconds(60);
constexpr std::string_view kClientName = "cz.example.slips";
constexpr std::string_view kClientHost = "sensor1.example.cz";

std::string event(int record, std::string_view extra = R"("Category":["Recon.Scanning"])") {
  return fmt::format(R"({{"Format":"IDEA0","ID":"00000029-1111-4000-8000-{:012}","DetectTime":"2024-04-09T10:00:00Z",)"
                     R"({},"Source":[{{"IP4":["198.51.100.{}"]}}],"Description":"record {}"}})",
                     record, extra, record, record);
}

std::string event_id(int record) { return fmt::format("00000029-1111-4000-8000-{:012}", record); }

json::Value parse(const std::string& text) {
  json::ParseResult parsed = json::parse(text);
  EXPECT_TRUE(parsed.value) << text;
  return parsed.value ? *parsed.value : json::Value();
}

std::string member(const std::string& event_json, std::string_view path) {
  const json::Value value = parse(event_json);
  const json::Value* found = value.at_path(path);
  return found != nullptr ? json::to_string(*found) : "(missing)";
}

class WardenOutputTest : public ::testing::Test {
 protected:
  void SetUp() override {
    pki_ = slipway::testing::make_test_pki(dir_.path(), kClientHost);
    if (!pki_) {
      GTEST_SKIP() << "the openssl command is not available";
    }
  }

  void start_server(WardenTestServer::Options options = {}) {
    options.clients.push_back({std::string(kClientName), std::string(kClientHost), "", false});
    server_ = std::make_unique<WardenTestServer>(*pki_, std::move(options));
    ASSERT_TRUE(server_->ready());
  }

  std::string connection_yaml() const {
    return fmt::format("    url: {}\n    client: {}\n    cert_file: {}\n    key_file: {}\n    ca_file: {}\n",
                       server_->url(), kClientName, pki_->client.cert_file.string(), pki_->client.key_file.string(),
                       pki_->ca_file.string());
  }

  // Reads alerts.json once into the warden output `share`.
  std::string pipeline_yaml(const std::string& output_yaml) const {
    return fmt::format(R"(
data_dir: {data}
shutdown_timeout_secs: 2
inputs:
  alerts:
    type: file
    paths: [{alerts}]
    exit_at_eof: true
outputs:
  share:
    type: warden
    from: [alerts]
    retry: {{initial_backoff_ms: 50, max_backoff_ms: 500, max_retries: 10}}
{output}
)",
                       fmt::arg("data", (dir_ / "data").string()), fmt::arg("alerts", (dir_ / "alerts.json").string()),
                       fmt::arg("output", output_yaml));
  }

  void write_events(const std::vector<std::string>& events) {
    std::string text;
    for (const std::string& line : events) {
      text += line + "\n";
    }
    write_file(dir_ / "alerts.json", text);
  }

  struct RunResult {
    ComponentSummary share{};
    HealthReport health;
  };

  RunResult run(const std::string& yaml) {
    RunResult result;
    config::Errors errors;
    const auto loaded = config::load_pipeline_text(yaml, "test.yaml", {}, errors);
    EXPECT_TRUE(loaded.has_value()) << errors.format();
    auto pipeline = loaded ? Pipeline::build(*loaded, errors) : nullptr;
    EXPECT_NE(pipeline, nullptr) << errors.format();
    if (pipeline == nullptr) {
      return result;
    }
    pipeline->start();
    auto finished = std::async(std::launch::async, [&] { pipeline->wait(); });
    if (finished.wait_for(kPipelineTimeout) != std::future_status::ready) {
      ADD_FAILURE() << "the pipeline did not finish";
      pipeline->request_stop();
      finished.wait();
    }
    for (const ComponentSummary& row : pipeline->summary()) {
      if (row.id == "share") {
        result.share = row;
      }
    }
    result.health = pipeline->health();
    return result;
  }

  std::vector<WardenCall> send_calls() const {
    std::vector<WardenCall> calls;
    for (const WardenCall& call : server_->calls()) {
      if (call.method == "sendEvents") {
        calls.push_back(call);
      }
    }
    return calls;
  }

  std::map<std::string, int> stored_ids() const {
    std::map<std::string, int> ids;
    for (const auto& stored : server_->events()) {
      ++ids[member(stored.json, "ID")];
    }
    return ids;
  }

  std::filesystem::path dead_letter_file() const { return dir_ / "data" / "dead_letter" / "share.json"; }

  TempDir dir_;
  std::optional<TestPki> pki_;
  std::unique_ptr<WardenTestServer> server_;
};

// The server admits only a client with a certificate from its CA; without
// one, or with one from another CA, the TLS handshake fails.
TEST_F(WardenOutputTest, ClientWithoutCertificateIsRefused) {
  start_server();
  auto log = std::make_shared<spdlog::logger>("test", std::make_shared<spdlog::sinks::null_sink_st>());
  WardenSettings settings;
  settings.url = server_->url();
  settings.client_name = kClientName;
  settings.http.tls.ca_file = pki_->ca_file;
  settings.http.timeout = std::chrono::seconds(10);

  WardenClient anonymous(settings, *log);
  const http::Result refused = anonymous.call("getInfo", {}, "");
  EXPECT_FALSE(refused.response.has_value()) << "status " << (refused.response ? refused.response->status : 0);

  settings.http.tls.cert_file = pki_->stranger.cert_file;
  settings.http.tls.key_file = pki_->stranger.key_file;
  WardenClient stranger(settings, *log);
  EXPECT_FALSE(stranger.call("getInfo", {}, "").response.has_value());

  settings.http.tls.cert_file = pki_->client.cert_file;
  settings.http.tls.key_file = pki_->client.key_file;
  WardenClient registered(settings, *log);
  const http::Result accepted = registered.call("getInfo", {}, "");
  ASSERT_TRUE(accepted.response.has_value()) << accepted.error;
  EXPECT_EQ(accepted.response->status, 200);
  EXPECT_NE(accepted.response->body.find(R"("send_events_limit":500)"), std::string::npos);
}

// A certificate the server trusts, sent under a client name registered for
// another host, gets 403: the events are dead-lettered and health degrades.
TEST_F(WardenOutputTest, UnregisteredClientNameIsRejected) {
  start_server();
  write_events({event(1)});
  std::string yaml = connection_yaml();
  yaml.replace(yaml.find(kClientName), kClientName.size(), "cz.example.other");

  const RunResult result = run(pipeline_yaml(yaml));

  EXPECT_TRUE(server_->events().empty());
  EXPECT_EQ(result.share.dead_lettered_events, 1u);
  EXPECT_FALSE(result.health.healthy);
  EXPECT_NE(result.health.text.find("returned 403: I'm watching. Authenticate."), std::string::npos)
      << result.health.text;
}

// Private, loopback, link-local and shared addresses never leave: each
// IDEA event of the privacy case arrives with only its public addresses,
// the all-private one is not sent, and Node[0].Name is the client name.
TEST_F(WardenOutputTest, RemovesPrivateAddressesBeforeSending) {
  start_server();
  std::filesystem::copy_file(shared_path("cases/029-warden-private-address-filter/alerts.json"), dir_ / "alerts.json");

  const RunResult result = run(pipeline_yaml(connection_yaml()));

  std::map<std::string, std::string> stored;
  for (const auto& event : server_->events()) {
    stored[json::parse(member(event.json, "ID")).value->as_string()] = event.json;
  }
  ASSERT_EQ(stored.size(), 6u);
  const auto record = [&](int number) { return stored[fmt::format("00000029-0000-4000-8000-{:012}", number)]; };
  EXPECT_EQ(member(record(1), "Source"), R"([{"IP4":["203.0.113.9"]}])");
  EXPECT_EQ(member(record(2), "Source"), R"([{"IP4":["203.0.113.9"]}])");
  EXPECT_EQ(member(record(3), "Source"), R"([{"IP6":["2001:db8:abcd::9"]}])");
  EXPECT_EQ(member(record(3), "Target"), "(missing)");
  EXPECT_TRUE(record(4).empty()) << "the all-private event was sent";
  EXPECT_EQ(member(record(5), "Source"), R"([{"IP4":["198.51.100.0/25"]}])");
  EXPECT_EQ(member(record(6), "Source"), R"([{"IP6":["2001:db8::77"]}])");
  EXPECT_EQ(member(record(7), "Source"), R"([{"IP4":["198.51.100.44"]}])");
  EXPECT_EQ(member(record(1), "Node[0].Name"), fmt::format("\"{}\"", kClientName));
  EXPECT_EQ(member(record(1), "Description"), "\"case 029 record 1\"");
  for (const auto& [id, text] : stored) {
    for (std::string_view leaked : {"10.0.0.", "192.168.", "172.16.", "fd00:", "fe80:", "127.0.0.1", "169.254.",
                                    "100.64.", "::ffff:10."}) {
      EXPECT_EQ(text.find(leaked), std::string::npos) << id << " leaks " << leaked;
    }
  }
  EXPECT_EQ(result.share.dropped_events, 1u);
  EXPECT_EQ(result.share.dead_lettered_events, 0u);
}

// More events than the server takes at once: the output lowers its limit
// to the one getInfo reports and never sends a larger batch.
TEST_F(WardenOutputTest, BatchesWithinServerLimit) {
  start_server({.send_events_limit = 5});
  std::vector<std::string> events;
  for (int record = 1; record <= 12; ++record) {
    events.push_back(event(record));
  }
  write_events(events);

  const RunResult result = run(pipeline_yaml(connection_yaml()));

  for (const WardenCall& call : send_calls()) {
    EXPECT_LE(call.events, 5u);
    EXPECT_EQ(call.status, 200);
  }
  EXPECT_EQ(stored_ids().size(), 12u);
  for (const auto& [id, copies] : stored_ids()) {
    EXPECT_EQ(copies, 1) << id;
  }
  EXPECT_EQ(result.share.sent_events, 12u);
}

// A server that advertises a larger limit than it accepts replies 507 to
// the excess: the saved events are not sent again, the rest are, in
// batches within the limit the error names.
TEST_F(WardenOutputTest, ResendsOnlyEventsBeyondLimitAfter507) {
  start_server({.send_events_limit = 5, .advertised_send_events_limit = 100});
  std::vector<std::string> events;
  for (int record = 1; record <= 12; ++record) {
    events.push_back(event(record));
  }
  write_events(events);

  const RunResult result = run(pipeline_yaml(connection_yaml()));

  const std::vector<WardenCall> calls = send_calls();
  ASSERT_GE(calls.size(), 3u);
  EXPECT_EQ(calls[0].events, 12u);
  EXPECT_EQ(calls[0].status, 507);
  std::size_t resent = 0;
  for (std::size_t index = 1; index < calls.size(); ++index) {
    EXPECT_LE(calls[index].events, 5u);
    resent += calls[index].events;
  }
  EXPECT_EQ(resent, 7u);
  EXPECT_EQ(stored_ids().size(), 12u);
  for (const auto& [id, copies] : stored_ids()) {
    EXPECT_EQ(copies, 1) << id;
  }
  EXPECT_EQ(result.share.dead_lettered_events, 0u);
}

// In a partly failed batch only the events the server names fail: the 5xx
// ones are sent again alone, the schema violation is dead-lettered, and
// every other event is stored once.
TEST_F(WardenOutputTest, RetriesOnlyRetryablePartialFailures) {
  start_server();
  server_->fail_events_once({event_id(3), event_id(5)}, 500, "Database error");
  write_events({event(1), event(2), event(3), event(4), event(5), event(6, R"("Note":"no category")")});

  const RunResult result = run(pipeline_yaml(connection_yaml()));

  const std::vector<WardenCall> calls = send_calls();
  ASSERT_EQ(calls.size(), 2u);
  EXPECT_EQ(calls[0].events, 6u);
  EXPECT_EQ(calls[0].status, 500);
  EXPECT_EQ(calls[1].events, 2u);
  EXPECT_EQ(calls[1].status, 200);
  const std::map<std::string, int> ids = stored_ids();
  EXPECT_EQ(ids.size(), 5u);
  for (int record = 1; record <= 5; ++record) {
    EXPECT_EQ(ids.count(fmt::format("\"{}\"", event_id(record))), 1u) << record;
  }
  EXPECT_EQ(result.share.dead_lettered_events, 1u);
  EXPECT_EQ(count_lines(dead_letter_file()), 1u);
  EXPECT_NE(read_file(dead_letter_file()).find("460 Validation error"), std::string::npos);
}

// warden.conf as Slips ships it, with comment lines and paths relative to
// the file, supplies the connection; the pipeline's own keys win.
TEST_F(WardenOutputTest, ReadsSlipsWardenConf) {
  start_server();
  std::filesystem::create_directories(dir_ / "conf");
  std::filesystem::copy_file(pki_->client.cert_file, dir_ / "conf" / "cert.pem");
  std::filesystem::copy_file(pki_->client.key_file, dir_ / "conf" / "key.pem");
  write_file(dir_ / "conf" / "warden.conf", fmt::format(R"(# Warden client configuration
// written by hand
{{
    "url": "{}",
    # the client certificate
    "certfile": "cert.pem",
    "keyfile": "key.pem",
    "cafile": "{}",
    "timeout": 600,
    "name": "CZ.Example.Wrong"
}}
)",
                                                              server_->url(), pki_->ca_file.string()));
  write_events({event(1)});

  run(pipeline_yaml(fmt::format("    warden_conf: {}\n    client: {}\n", (dir_ / "conf" / "warden.conf").string(),
                                kClientName)));

  EXPECT_EQ(stored_ids().size(), 1u);
}

// A client registered with a secret sends it from secret_file; the server
// needs both the secret and the certificate.
TEST_F(WardenOutputTest, SendsSecretFromFile) {
  WardenTestServer::Options options;
  options.clients.push_back({"cz.example.secretive", std::string(kClientHost), "s3cret-value", false});
  server_ = std::make_unique<WardenTestServer>(*pki_, std::move(options));
  ASSERT_TRUE(server_->ready());
  write_file(dir_ / "secret", "s3cret-value\n");
  std::filesystem::permissions(dir_ / "secret", std::filesystem::perms::owner_read);
  write_events({event(1, R"("Category":["Recon.Scanning"],"Node":[{"Name":"old.name","SW":["Slips"]}])")});
  std::string yaml = connection_yaml();
  yaml.replace(yaml.find(kClientName), kClientName.size(), "cz.example.secretive");
  yaml += fmt::format("    secret_file: {}\n", (dir_ / "secret").string());

  const RunResult result = run(pipeline_yaml(yaml));

  ASSERT_EQ(server_->events().size(), 1u);
  EXPECT_EQ(member(server_->events().front().json, "Node"), R"([{"Name":"cz.example.secretive","SW":["Slips"]}])");
  ASSERT_FALSE(send_calls().empty());
  EXPECT_EQ(send_calls().front().query.at("secret"), std::vector<std::string>{"[secret]"});
  EXPECT_EQ(result.share.dead_lettered_events, 0u);
}

// The private-address check covers CIDR blocks, ranges and IPv4-mapped IPv6.
TEST(AddressFilterTest, JudgesBlocksRangesAndMappedAddresses) {
  std::string error;
  const auto filter = AddressFilter::create(default_private_ranges(), error);
  ASSERT_TRUE(filter) << error;
  EXPECT_TRUE(filter->is_private("10.1.2.3"));
  EXPECT_TRUE(filter->is_private("::ffff:192.168.0.1"));
  EXPECT_TRUE(filter->is_private("100.127.255.255"));
  EXPECT_FALSE(filter->is_private("100.128.0.0"));
  EXPECT_TRUE(filter->is_private("192.168.0.0/24"));
  EXPECT_TRUE(filter->is_private("10.0.0.0/7")) << "a block overlapping 10/8 is not shared";
  EXPECT_TRUE(filter->is_private("10.0.0.1-10.0.0.9"));
  EXPECT_FALSE(filter->is_private("198.51.100.0/25"));
  EXPECT_FALSE(filter->is_private("2001:db8::77"));
  EXPECT_TRUE(filter->is_private("fe80::1"));
  EXPECT_TRUE(filter->is_private("::1"));
  EXPECT_TRUE(filter->is_private("not an address"));
  EXPECT_FALSE(AddressFilter::create({"10.0.0.0/33"}, error));
  EXPECT_EQ(error, "\"10.0.0.0/33\" is not an address, CIDR block or first-last range");
}

}  // namespace
}  // namespace slipway::outputs::warden
