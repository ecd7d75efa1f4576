// The taxii output through the real engine: pipelines read IDEA0 alerts,
// map them with the stix filter and share them with loopback TAXII 2.1 and
// 1.1 servers that follow the specifications, error responses included.
#include "outputs/taxii/taxii_output.hpp"

#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <future>
#include <map>
#include <regex>
#include <set>

#include <fmt/format.h>
#include <gtest/gtest.h>
#include <spdlog/sinks/null_sink.h>
#include <spdlog/spdlog.h>

#include "config/pipeline_config.hpp"
#include "engine/json.hpp"
#include "engine/pipeline.hpp"
#include "outputs/taxii/taxii11.hpp"
#include "tests/support/http_test_server.hpp"
#include "tests/support/process.hpp"
#include "tests/support/taxii_test_server.hpp"
#include "tests/support/temp_dir.hpp"
#include "tests/support/tls_test_server.hpp"

namespace slipway::outputs::taxii {
namespace {

using slipway::testing::ReceivedRequest;
using slipway::testing::read_file;
using slipway::testing::Taxii11TestServer;
using slipway::testing::Taxii21TestServer;
using slipway::testing::TempDir;
using slipway::testing::write_file;

constexpr auto kPipelineTimeout = std::chrono::seconds(60);
constexpr std::string_view kTaxiiType = "application/taxii+json;version=2.1";
constexpr std::string_view kPassword = "s3cret-pa$$word";

std::string alert_id(int record, int run = 0) { return fmt::format("000{}0027-0000-4000-8000-{:012}", run, record); }

// An IDEA0 alert shaped like Slips' legacy lines: attacker 192.0.2.10,
// victim 198.51.100.(100 + record); record 5 carries the text the test
// server rejects.
std::string alert(int record, int run = 0) {
  return fmt::format(R"({{"Format":"IDEA0","ID":"{}","DetectTime":"2024-04-09T10:00:{:02}.000001+00:00",)"
                     R"("Category":["Intrusion.Botnet"],"Confidence":0.5,"Source":[{{"IP4":["192.0.2.10"]}}],)"
                     R"("Target":[{{"IP4":["198.51.100.{}"]}}],"Description":"record {}{}"}})",
                     alert_id(record, run), record, 100 + record, record, record == 5 ? " reject-me" : "");
}

std::vector<std::string> lines_of(const std::filesystem::path& path) {
  std::vector<std::string> lines;
  std::stringstream stream(read_file(path));
  for (std::string line; std::getline(stream, line);) {
    if (!line.empty()) {
      lines.push_back(line);
    }
  }
  return lines;
}

// Sends `raw` to the server as one HTTP request and returns the status of the response.
int raw_request_status(std::uint16_t port, const std::string& raw) {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_port = htons(port);
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::connect(fd, reinterpret_cast<sockaddr*>(&address), sizeof address) != 0) {
    ::close(fd);
    return -1;
  }
  ::send(fd, raw.data(), raw.size(), 0);
  char buffer[512] = {};
  const ssize_t got = ::recv(fd, buffer, sizeof buffer - 1, 0);
  ::close(fd);
  int status = -1;
  if (got > 0) {
    std::sscanf(buffer, "HTTP/1.1 %d", &status);
  }
  return status;
}

class TaxiiOutputTest : public ::testing::Test {
 protected:
  void write_alerts(const std::vector<int>& records, int run = 0) {
    std::string text;
    for (int record : records) {
      text += alert(record, run) + "\n";
    }
    write_file(dir_ / "alerts.json", text);
  }

  // A pipeline: alerts.json -> stix -> taxii output `share` with `output_yaml` (indented by 4).
  std::string pipeline_yaml(const std::string& output_yaml, const std::string& data = "data") const {
    return fmt::format(R"(
data_dir: {data}
shutdown_timeout_secs: 2
inputs:
  alerts:
    type: file
    paths: [{alerts}]
    exit_at_eof: true
filters:
  to_stix:
    type: stix
    from: [alerts]
outputs:
  share:
    type: taxii
    from: [to_stix]
    retry: {{initial_backoff_ms: 50, max_backoff_ms: 200, max_retries: 20}}
{output}
)",
                       fmt::arg("data", (dir_ / data).string()), fmt::arg("alerts", (dir_ / "alerts.json").string()),
                       fmt::arg("output", output_yaml));
  }

  std::string taxii21_output(const Taxii21TestServer& server, const std::string& extra = "") const {
    return fmt::format("    url: {}\n    collection: {}\n    status_timeout_ms: 2000\n{}", server.discovery_url(),
                       Taxii21TestServer::kCollectionId, extra);
  }

  void run_pipeline(const std::string& yaml) {
    config::Errors errors;
    const auto loaded = config::load_pipeline_text(
        yaml, "test.yaml", [](const std::string&) { return std::optional<std::string>(); }, errors);
    ASSERT_TRUE(loaded.has_value()) << errors.format();
    auto pipeline = Pipeline::build(*loaded, errors);
    ASSERT_NE(pipeline, nullptr) << errors.format();
    pipeline->start();
    auto finished = std::async(std::launch::async, [&] { pipeline->wait(); });
    if (finished.wait_for(kPipelineTimeout) != std::future_status::ready) {
      ADD_FAILURE() << "the pipeline did not finish within " << kPipelineTimeout.count() << " s";
      pipeline->request_stop();
      finished.wait();
    }
  }

  std::filesystem::path dead_letters(const std::string& data = "data") const {
    return dir_ / data / "dead_letter" / "share.json";
  }

  // An output built directly, for tests of one deliver() call.
  std::unique_ptr<Output> make_output(const std::string& yaml) {
    const YAML::Node node = YAML::Load(yaml);
    config::Errors errors;
    const std::string context = "output \"share\" (taxii)";
    config::check_against_schema(node, TaxiiOutputConfig::kSchema, context, "test.yaml", "", errors);
    auto output =
        TaxiiOutput::create(config::Section(node, &TaxiiOutputConfig::kSchema, context, "test.yaml"), errors);
    EXPECT_FALSE(errors.has_errors()) << errors.format();
    return output;
  }

  static std::string config_errors(const std::string& yaml) {
    const YAML::Node node = YAML::Load(yaml);
    config::Errors errors;
    const std::string context = "output \"share\" (taxii)";
    config::check_against_schema(node, TaxiiOutputConfig::kSchema, context, "test.yaml", "", errors);
    if (!errors.has_errors()) {
      TaxiiOutput::create(config::Section(node, &TaxiiOutputConfig::kSchema, context, "test.yaml"), errors);
    }
    return errors.format();
  }

  TempDir dir_;
};

// Every request carries the exact TAXII media types, and every POST has a
// Content-Length within max_content_length. The rejected object is
// dead-lettered once, and the eleven others are stored.
TEST_F(TaxiiOutputTest, PostsEnvelopesAsTaxiiRequires) {
  Taxii21TestServer server({});
  write_alerts({1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12});

  run_pipeline(pipeline_yaml(taxii21_output(server)));

  EXPECT_EQ(server.stored("indicator").size(), 11u);
  std::size_t posts = 0;
  for (const ReceivedRequest& request : server.http().requests()) {
    EXPECT_EQ(request.header("Accept").value_or(""), kTaxiiType) << request.method << " " << request.target;
    if (request.method == "POST") {
      ++posts;
      EXPECT_EQ(request.header("Content-Type").value_or(""), kTaxiiType);
      EXPECT_EQ(request.header("Content-Length").value_or(""), std::to_string(request.raw_body.size()));
      EXPECT_FALSE(request.header("Transfer-Encoding").has_value());
      EXPECT_LE(request.raw_body.size(), 4096u);
      EXPECT_TRUE(request.body.starts_with(R"({"objects":[)")) << request.body.substr(0, 40);
    }
  }
  EXPECT_GE(posts, 2u) << "12 alerts do not fit one 4096-byte envelope";
  for (const int status : server.reply_statuses()) {
    EXPECT_NE(status, 406);
    EXPECT_NE(status, 413);
    EXPECT_NE(status, 415);
  }
  const std::vector<std::string> dead = lines_of(dead_letters());
  ASSERT_EQ(dead.size(), 1u);
  EXPECT_NE(dead[0].find(alert_id(5)), std::string::npos);
  EXPECT_NE(dead[0].find("rejected by the test server"), std::string::npos) << dead[0];
  const auto posted = server.posted_ids();
  for (const auto& [id, count] : posted) {
    if (id.starts_with("indicator--")) {
      EXPECT_EQ(count, 1) << id << " was posted more than once";
    }
  }
}

// A second run over the same alerts sends the same object ids, and the
// server ends with one copy of each, also when it reports repeats as
// failures the way medallion does.
TEST_F(TaxiiOutputTest, RerunSendsSameIdsWithoutDuplicates) {
  for (const bool medallion_repeats : {false, true}) {
    SCOPED_TRACE(medallion_repeats ? "repeats reported as failures" : "repeats reported as successes");
    Taxii21TestServer::Options options;
    options.report_repeats_as_failures = medallion_repeats;
    Taxii21TestServer server(options);
    write_alerts({1, 2, 3, 4});

    const std::string first = medallion_repeats ? "first_medallion" : "first";
    const std::string second = medallion_repeats ? "second_medallion" : "second";
    run_pipeline(pipeline_yaml(taxii21_output(server), first));
    const std::vector<std::string> after_first = server.stored();
    run_pipeline(pipeline_yaml(taxii21_output(server), second));

    EXPECT_EQ(server.stored(), after_first);
    EXPECT_EQ(server.stored("indicator").size(), 4u);
    for (const auto& [id, count] : server.posted_ids()) {
      if (id.starts_with("indicator--")) {
        EXPECT_EQ(count, 2) << id << " was not sent once per run";
      }
    }
    EXPECT_FALSE(std::filesystem::exists(dead_letters(second))) << read_file(dead_letters(second));
  }
}

// A 413 splits the envelope and sends the halves; nothing is dropped.
TEST_F(TaxiiOutputTest, SplitsEnvelopeOnPayloadTooLarge) {
  Taxii21TestServer::Options options;
  options.max_content_length = 1'000'000;
  options.enforced_content_length = 2500;
  Taxii21TestServer server(options);
  write_alerts({1, 2, 3, 4, 6, 7, 8, 9});

  run_pipeline(pipeline_yaml(taxii21_output(server)));

  EXPECT_EQ(server.stored("indicator").size(), 8u);
  const std::vector<int> statuses = server.reply_statuses();
  EXPECT_NE(std::find(statuses.begin(), statuses.end(), 413), statuses.end());
  EXPECT_FALSE(std::filesystem::exists(dead_letters()));
}

// A pending status is polled until complete before events count as delivered.
TEST_F(TaxiiOutputTest, PollsPendingStatusUntilComplete) {
  Taxii21TestServer::Options options;
  options.pending_polls = 2;
  Taxii21TestServer server(options);
  write_alerts({1, 2});

  run_pipeline(pipeline_yaml(taxii21_output(server)));

  EXPECT_EQ(server.stored("indicator").size(), 2u);
  std::size_t status_polls = 0;
  for (const ReceivedRequest& request : server.http().requests()) {
    status_polls += request.target.starts_with("/api1/status/") ? 1 : 0;
  }
  EXPECT_GE(status_polls, 3u);
  EXPECT_FALSE(std::filesystem::exists(dead_letters()));
}

// A 422 for a whole envelope is narrowed down by halving to the event the
// server cannot process, which alone is dead-lettered.
TEST_F(TaxiiOutputTest, IsolatesUnprocessableEventByHalving) {
  Taxii21TestServer::Options options;
  options.unprocessable_marker = "record 3";
  Taxii21TestServer server(options);
  write_alerts({1, 2, 3, 4, 6, 7});

  run_pipeline(pipeline_yaml(taxii21_output(server)));

  EXPECT_EQ(server.stored("indicator").size(), 5u);
  const std::vector<std::string> dead = lines_of(dead_letters());
  ASSERT_EQ(dead.size(), 1u);
  EXPECT_NE(dead[0].find(alert_id(3)), std::string::npos);
  EXPECT_NE(dead[0].find("returned 422"), std::string::npos) << dead[0];
}

// Objects still pending when status_timeout_ms runs out are sent again,
// and dead-lettered only once the retries are used up.
TEST_F(TaxiiOutputTest, RetriesObjectsStillPending) {
  Taxii21TestServer::Options options;
  options.pending_polls = 1'000'000;
  Taxii21TestServer server(options);
  write_alerts({1});
  const std::string yaml = pipeline_yaml(taxii21_output(server));
  const std::string limited = std::regex_replace(
      std::regex_replace(yaml, std::regex("max_retries: 20"), "max_retries: 2"), std::regex("status_timeout_ms: 2000"),
      "status_timeout_ms: 300");

  run_pipeline(limited);

  std::size_t indicator_posts = 0;
  for (const auto& [id, count] : server.posted_ids()) {
    indicator_posts += id.starts_with("indicator--") ? static_cast<std::size_t>(count) : 0;
  }
  EXPECT_EQ(indicator_posts, 3u) << "the first attempt and two retries";
  const std::vector<std::string> dead = lines_of(dead_letters());
  ASSERT_EQ(dead.size(), 1u);
  EXPECT_NE(dead[0].find("still pending at the TAXII server"), std::string::npos) << dead[0];
}

// Basic credentials come from password_file; a wrong password gets 401,
// whose events are dead-lettered without the password in any message.
TEST_F(TaxiiOutputTest, SendsBasicAuthFromPasswordFile) {
  Taxii21TestServer::Options options;
  options.user = "slips";
  options.password = std::string(kPassword);
  Taxii21TestServer server(options);
  write_alerts({1, 2});
  write_file(dir_ / "password", std::string(kPassword) + "\n");
  write_file(dir_ / "wrong", "not-the-password\n");
  const std::string auth = "    auth: {{strategy: basic, user: slips, password_file: {}}}\n";

  run_pipeline(pipeline_yaml(taxii21_output(server, fmt::format(fmt::runtime(auth), (dir_ / "password").string())), "good"));
  run_pipeline(pipeline_yaml(taxii21_output(server, fmt::format(fmt::runtime(auth), (dir_ / "wrong").string())), "bad"));

  EXPECT_EQ(server.stored("indicator").size(), 2u);
  EXPECT_FALSE(std::filesystem::exists(dead_letters("good")));
  const std::vector<std::string> dead = lines_of(dead_letters("bad"));
  ASSERT_EQ(dead.size(), 2u);
  EXPECT_NE(dead[0].find("returned 401"), std::string::npos) << dead[0];
  EXPECT_EQ(dead[0].find("not-the-password"), std::string::npos);
}

// A bearer token comes from token_file.
TEST_F(TaxiiOutputTest, SendsBearerTokenFromFile) {
  Taxii21TestServer::Options options;
  options.token = "token-0123456789";
  Taxii21TestServer server(options);
  write_alerts({1});
  write_file(dir_ / "token", "token-0123456789\n");

  run_pipeline(pipeline_yaml(
      taxii21_output(server, fmt::format("    auth: {{strategy: bearer, token_file: {}}}\n", (dir_ / "token").string()))));

  EXPECT_EQ(server.stored("indicator").size(), 1u);
}

// API roots given as paths relative to the server (OpenTAXII) resolve
// against the discovery URL, and a collection can be named by its title.
TEST_F(TaxiiOutputTest, ResolvesRelativeApiRootAndTitle) {
  Taxii21TestServer::Options options;
  options.relative_api_roots = true;
  Taxii21TestServer server(options);
  write_alerts({1});

  run_pipeline(pipeline_yaml(fmt::format("    url: {}\n    collection: alerts\n", server.discovery_url())));

  EXPECT_EQ(server.stored("indicator").size(), 1u);
}

// A read-only collection, an unknown collection and an HTML error page are
// reported with the cause, and their events go to the dead-letter file.
TEST_F(TaxiiOutputTest, ReportsUnusableCollection) {
  Taxii21TestServer server({});
  write_alerts({1});

  run_pipeline(pipeline_yaml(
      fmt::format("    url: {}\n    collection: {}\n", server.discovery_url(), Taxii21TestServer::kReadOnlyCollectionId),
      "read_only"));
  run_pipeline(pipeline_yaml(fmt::format("    url: {}\n    collection: nowhere\n", server.discovery_url()), "unknown"));

  const std::vector<std::string> read_only = lines_of(dead_letters("read_only"));
  ASSERT_EQ(read_only.size(), 1u);
  EXPECT_NE(read_only[0].find("can_write false"), std::string::npos) << read_only[0];
  const std::vector<std::string> unknown = lines_of(dead_letters("unknown"));
  ASSERT_EQ(unknown.size(), 1u);
  EXPECT_NE(unknown[0].find(R"(no collection with id or title \"nowhere\")"), std::string::npos) << unknown[0];
  EXPECT_TRUE(server.stored().empty());
}

// The server is down, then comes back: the events wait and are then stored once.
TEST_F(TaxiiOutputTest, DeliversAfterServerReturns) {
  Taxii21TestServer::Options options;
  options.html_errors = true;
  Taxii21TestServer server(options);
  server.http().stop();
  write_alerts({1, 2, 3});
  // The pipeline reads the server's port before the restart thread starts,
  // because the restart writes it again.
  const std::string pipeline = pipeline_yaml(taxii21_output(server));
  auto restart = std::async(std::launch::async, [&] {
    std::this_thread::sleep_for(std::chrono::milliseconds(300));  // an outage, not a synchronisation
    server.http().restart();
  });

  run_pipeline(pipeline);
  restart.wait();

  EXPECT_EQ(server.stored("indicator").size(), 3u);
  EXPECT_FALSE(std::filesystem::exists(dead_letters()));
}

// The test server returns each error status the specification names for adding objects.
TEST_F(TaxiiOutputTest, TestServerAnswersSpecErrors) {
  Taxii21TestServer::Options options;
  options.user = "slips";
  options.password = "pw";
  Taxii21TestServer server(options);
  const std::string objects_path = fmt::format("/api1/collections/{}/objects/", Taxii21TestServer::kCollectionId);
  const std::string auth = "Authorization: Basic c2xpcHM6cHc=\r\n";  // slips:pw
  const auto post = [&](const std::string& path, const std::string& headers, const std::string& body) {
    return raw_request_status(server.http().port(),
                              fmt::format("POST {} HTTP/1.1\r\nHost: 127.0.0.1\r\n{}Content-Length: {}\r\n\r\n{}", path,
                                          headers, body.size(), body));
  };
  const std::string taxii = "Accept: application/taxii+json;version=2.1\r\nContent-Type: application/taxii+json;version=2.1\r\n";

  EXPECT_EQ(post(objects_path, taxii, R"({"objects":[]})"), 401);
  EXPECT_EQ(post(objects_path, auth + taxii, R"({"objects":[]})"), 202);
  EXPECT_EQ(post(fmt::format("/api1/collections/{}/objects/", Taxii21TestServer::kReadOnlyCollectionId), auth + taxii,
                 R"({"objects":[]})"),
            403);
  EXPECT_EQ(post("/api1/collections/unknown/objects/", auth + taxii, R"({"objects":[]})"), 404);
  EXPECT_EQ(post(objects_path, auth + "Accept: application/json\r\nContent-Type: application/taxii+json;version=2.1\r\n",
                 R"({"objects":[]})"),
            406);
  EXPECT_EQ(post(objects_path, auth + "Accept: application/taxii+json;version=2.1\r\nContent-Type: application/json\r\n",
                 R"({"objects":[]})"),
            415);
  EXPECT_EQ(post(objects_path, auth + taxii, R"({"objects":[)" + std::string(5000, ' ') + "]}"), 413);
  EXPECT_EQ(post(objects_path, auth + taxii, R"({"type":"bundle"})"), 422);
  EXPECT_EQ(raw_request_status(server.http().port(),
                               fmt::format("POST {} HTTP/1.1\r\nHost: 127.0.0.1\r\n{}{}Transfer-Encoding: chunked\r\n\r\n"
                                           "e\r\n{{\"objects\":[]}}\r\n0\r\n\r\n",
                                           objects_path, auth, taxii)),
            400);
}

// The TLS options apply: an unknown certificate fails the handshake, and
// trusting it with tls.ca_file reaches the server.
TEST_F(TaxiiOutputTest, VerifiesServerCertificate) {
  const auto certificate = slipway::testing::make_self_signed_certificate(dir_.path(), "server");
  if (!certificate) {
    GTEST_SKIP() << "the openssl command is not available";
  }
  slipway::testing::TlsTestServer tls(*certificate);
  ASSERT_TRUE(tls.ready());
  OutputContext context(ComponentKind::Output, "share", "taxii", std::make_shared<spdlog::logger>("test", std::make_shared<spdlog::sinks::null_sink_mt>()), dir_.path(), nullptr);
  auto batch = std::make_shared<Batch>();
  batch->events.push_back(Event{R"({"type":"indicator","spec_version":"2.1","id":"indicator--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f"})", {}});

  auto strict = make_output(fmt::format("url: {}taxii2/\ncollection: alerts\n", tls.url()));
  strict->start(context);
  const DeliveryResult refused = strict->deliver(batch, context);
  auto trusting = make_output(fmt::format("url: {}taxii2/\ncollection: alerts\ntls: {{ca_file: {}}}\n", tls.url(),
                                          certificate->cert_file.string()));
  trusting->start(context);
  const DeliveryResult reached = trusting->deliver(batch, context);

  EXPECT_EQ(refused.status, DeliveryStatus::Retry);
  EXPECT_NE(refused.reason.find("TLS failed"), std::string::npos) << refused.reason;
  EXPECT_EQ(reached.status, DeliveryStatus::Rejected);
  EXPECT_NE(reached.reason.find("neither a TAXII 2.1 discovery resource"), std::string::npos) << reached.reason;
  EXPECT_GE(tls.request_count(), 1u);
}

// TAXII 1.1: the inbox message carries one STIX 1.2 package per alert. A
// FAILURE reply is narrowed down to the block that caused it, and only
// that block's alert is dead-lettered.
TEST_F(TaxiiOutputTest, SendsTaxii11InboxMessages) {
  Taxii11TestServer server("alerts", "198.51.100.13");
  std::string text;
  for (const int record : {1, 2, 3, 4}) {
    text += alert(record) + "\n";
  }
  text += R"({"Format":"IDEA0","ID":"bad-one","DetectTime":"2024-04-09T10:00:00Z","Category":["Recon.Scanning"],)"
          R"("Source":[{"IP4":["198.51.100.13"]}]})"
          "\n";
  write_file(dir_ / "alerts.json", text);

  run_pipeline(pipeline_yaml(fmt::format("    version: \"1.1\"\n    url: {}\n    collection: alerts\n", server.inbox_url())));

  const std::vector<std::string> blocks = server.accepted_blocks();
  EXPECT_EQ(blocks.size(), 4u);
  for (const std::string& block : blocks) {
    EXPECT_NE(block.find(R"(<AddressObj:Address_Value condition="Equals">192.0.2.10</AddressObj:Address_Value>)"),
              std::string::npos)
        << block;
  }
  const std::vector<std::string> statuses = server.status_types();
  EXPECT_NE(std::find(statuses.begin(), statuses.end(), "FAILURE"), statuses.end());
  EXPECT_NE(std::find(statuses.begin(), statuses.end(), "SUCCESS"), statuses.end());
  const std::vector<std::string> dead = lines_of(dead_letters());
  ASSERT_EQ(dead.size(), 1u);
  EXPECT_NE(dead[0].find("status_type FAILURE"), std::string::npos) << dead[0];
  EXPECT_NE(dead[0].find("198.51.100.13"), std::string::npos);
}

// A Status_Message in response to another message is not a success.
TEST_F(TaxiiOutputTest, ReadsTaxii11StatusType) {
  const auto status = read_taxii11_status(
      R"(<taxii_11:Status_Message xmlns:taxii_11="http://taxii.mitre.org/messages/taxii_xml_binding-1.1" )"
      R"(message_id="r1" in_response_to="m1" status_type="UNAUTHORIZED"><taxii_11:Message>no</taxii_11:Message>)"
      R"(</taxii_11:Status_Message>)");

  ASSERT_TRUE(status.has_value());
  EXPECT_EQ(status->status_type, "UNAUTHORIZED");
  EXPECT_EQ(status->in_response_to, "m1");
  EXPECT_EQ(status->message, "no");
  EXPECT_FALSE(read_taxii11_status("<html>200 OK</html>").has_value());
}

TEST_F(TaxiiOutputTest, ReportsInvalidSettings) {
  EXPECT_EQ(config_errors("url: http://127.0.0.1/taxii2/\ncolection: alerts\n"),
            "test.yaml:1:1: output \"share\" (taxii): missing required key \"collection\" (2.1: id or title of a "
            "writable collection; 1.1: the destination collection name)\n"
            "test.yaml:2:1: output \"share\" (taxii): unknown key \"colection\"; did you mean \"collection\"?\n");
  EXPECT_EQ(config_errors("url: http://127.0.0.1/taxii2/\ncollection: alerts\nversion: \"2.0\"\n"),
            "test.yaml:3:10: output \"share\" (taxii): key \"version\": invalid value \"2.0\"; expected one of: 2.1, "
            "1.1 (did you mean \"2.1\"?)\n");
}

}  // namespace
}  // namespace slipway::outputs::taxii
