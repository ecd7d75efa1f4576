// The http output through the real engine: pipelines read alerts from a
// file and deliver them to a loopback server scripted per request, so
// retries, acknowledgements and dead-letter files are the engine's own.
#include "outputs/http/http_output.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <cstdio>
#include <future>
#include <map>
#include <regex>
#include <set>

#include <fmt/format.h>
#include <gtest/gtest.h>
#include <spdlog/sinks/ostream_sink.h>
#include <spdlog/spdlog.h>

#include "config/pipeline_config.hpp"
#include "engine/pipeline.hpp"
#include "tests/support/http_test_server.hpp"
#include "tests/support/tls_test_server.hpp"
#include "tests/support/process.hpp"
#include "tests/support/temp_dir.hpp"

namespace slipway::outputs::http {
namespace {

using slipway::testing::HttpReply;
using slipway::testing::HttpTestServer;
using slipway::testing::read_file;
using slipway::testing::ReceivedRequest;
using slipway::testing::TempDir;
using slipway::testing::wait_until;
using slipway::testing::write_file;
using std::chrono::milliseconds;

constexpr auto kPipelineTimeout = std::chrono::seconds(60);
constexpr std::string_view kPassword = "pa$word$1${HOME}";

// An IDEA0 alert with the ID of record `record` of the retry scenario.
std::string alert(int record) {
  return fmt::format(R"({{"Format":"IDEA0","ID":"00000019-0000-4000-8000-{:012}","DetectTime":"2024-04-09T10:00:0{}Z",)"
                     R"("Category":["Recon.Scanning"],"Source":[{{"IP4":["192.0.2.10"]}}],"Description":"record {}"}})",
                     record, record % 10, record);
}

std::string alert_id(int record) { return fmt::format("00000019-0000-4000-8000-{:012}", record); }

// The first alert ID in a request body, which the scripted server uses to pick its reply.
std::string first_id(const ReceivedRequest& request) {
  static const std::regex kId(R"(\d{8}-0000-4000-8000-\d{12})");
  std::smatch match;
  return std::regex_search(request.body, match, kId) ? match.str() : std::string();
}

std::map<std::string, std::vector<ReceivedRequest>> requests_by_first_id(const HttpTestServer& server) {
  std::map<std::string, std::vector<ReceivedRequest>> grouped;
  for (const ReceivedRequest& request : server.requests()) {
    grouped[first_id(request)].push_back(request);
  }
  return grouped;
}

std::vector<std::string> lines_of(const std::filesystem::path& path) {
  std::vector<std::string> lines;
  std::stringstream stream(read_file(path));
  std::string line;
  while (std::getline(stream, line)) {
    lines.push_back(line);
  }
  return lines;
}

long long elapsed_ms(const ReceivedRequest& from, const ReceivedRequest& to) {
  return std::chrono::duration_cast<milliseconds>(to.received_at - from.received_at).count();
}

// Sends what the process writes to standard error, where the component
// loggers write, to a file while it lives.
class StderrCapture {
 public:
  explicit StderrCapture(const std::filesystem::path& path) {
    std::fflush(stderr);
    saved_ = ::dup(STDERR_FILENO);
    const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    ::dup2(fd, STDERR_FILENO);
    ::close(fd);
  }
  ~StderrCapture() {
    std::fflush(stderr);
    ::dup2(saved_, STDERR_FILENO);
    ::close(saved_);
  }
  StderrCapture(const StderrCapture&) = delete;
  StderrCapture& operator=(const StderrCapture&) = delete;

 private:
  int saved_ = -1;
};

class HttpOutputTest : public ::testing::Test {
 protected:
  void write_alerts(const std::vector<int>& records) {
    std::string text;
    for (int record : records) {
      text += alert(record) + "\n";
    }
    write_file(dir_ / "alerts.json", text);
  }

  // A pipeline that reads alerts.json once and sends it to the output
  // `receiver`, whose settings follow `output_yaml` (indented by 4).
  std::string pipeline_yaml(const std::string& output_yaml, const std::string& extra_outputs = "",
                            const std::string& retry = "{initial_backoff_ms: 100, max_backoff_ms: 1000}") const {
    return fmt::format(R"(
data_dir: {data}
shutdown_timeout_secs: 2
inputs:
  alerts:
    type: file
    paths: [{alerts}]
    exit_at_eof: true
outputs:
  receiver:
    type: http
    from: [alerts]
    url: {url}
    retry: {retry}
{output}{extra}
)",
                       fmt::arg("data", (dir_ / "data").string()), fmt::arg("alerts", (dir_ / "alerts.json").string()),
                       fmt::arg("url", server_.url("/ingest")), fmt::arg("output", output_yaml),
                       fmt::arg("extra", extra_outputs), fmt::arg("retry", retry));
  }

  std::unique_ptr<Pipeline> build(const std::string& yaml,
                                   const std::map<std::string, std::string>& variables = {}) {
    const config::Environment environment = [variables](const std::string& name) -> std::optional<std::string> {
      const auto found = variables.find(name);
      return found == variables.end() ? std::nullopt : std::optional<std::string>(found->second);
    };
    config::Errors errors;
    const auto loaded = config::load_pipeline_text(yaml, "test.yaml", environment, errors);
    EXPECT_TRUE(loaded.has_value()) << errors.format();
    if (!loaded) {
      return nullptr;
    }
    auto pipeline = Pipeline::build(*loaded, errors);
    EXPECT_NE(pipeline, nullptr) << errors.format();
    return pipeline;
  }

  // Starts the pipeline and waits until its input has finished and every
  // output has delivered or dead-lettered what it read.
  static void run_to_end(Pipeline& pipeline) {
    pipeline.start();
    auto finished = std::async(std::launch::async, [&] { pipeline.wait(); });
    if (finished.wait_for(kPipelineTimeout) != std::future_status::ready) {
      ADD_FAILURE() << "the pipeline did not finish within " << kPipelineTimeout.count() << " s";
      pipeline.request_stop();
      finished.wait();
    }
  }

  static const ComponentSummary& summary_of(const std::vector<ComponentSummary>& rows, std::string_view id) {
    for (const ComponentSummary& row : rows) {
      if (row.id == id) {
        return row;
      }
    }
    throw std::runtime_error("no component " + std::string(id));
  }

  // The value of counter `name` for the output `receiver`, from the pipeline's metrics.
  static std::uint64_t receiver_counter(const Pipeline& pipeline, const std::string& name) {
    const std::regex line(name + R"(\{component_id="receiver",[^}]*\} (\d+))");
    std::smatch match;
    const std::string metrics = pipeline.prometheus_metrics();
    return std::regex_search(metrics, match, line) ? std::stoull(match[1].str()) : 0;
  }

  std::filesystem::path dead_letter_file() const { return dir_ / "data" / "dead_letter" / "receiver.json"; }

  // An output built directly, for tests of one deliver() call.
  std::unique_ptr<Output> make_output(const std::string& yaml) {
    const YAML::Node node = YAML::Load(yaml);
    config::Errors errors;
    const std::string context = "output \"receiver\" (http)";
    config::check_against_schema(node, HttpOutputConfig::kSchema, context, "test.yaml", "", errors);
    auto output = HttpOutput::create(config::Section(node, &HttpOutputConfig::kSchema, context, "test.yaml"), errors);
    EXPECT_FALSE(errors.has_errors()) << errors.format();
    return output;
  }

  // The problems the configuration checks report for `yaml`, one per line.
  static std::string config_errors(const std::string& yaml) {
    const YAML::Node node = YAML::Load(yaml);
    config::Errors errors;
    const std::string context = "output \"receiver\" (http)";
    config::check_against_schema(node, HttpOutputConfig::kSchema, context, "test.yaml", "", errors);
    if (!errors.has_errors()) {
      HttpOutput::create(config::Section(node, &HttpOutputConfig::kSchema, context, "test.yaml"), errors);
    }
    return errors.format();
  }

  static BatchPtr batch_of(const std::vector<int>& records) {
    auto batch = std::make_shared<Batch>();
    for (int record : records) {
      batch->events.push_back(Event{alert(record), {}});
    }
    return batch;
  }

  TempDir dir_;
  HttpTestServer server_;
  std::ostringstream log_text_;
  OutputContext context_{ComponentKind::Output, "receiver", "http",
                         std::make_shared<spdlog::logger>(
                             "output.http.receiver", std::make_shared<spdlog::sinks::ostream_sink_st>(log_text_)),
                         dir_.path(), nullptr};
};

// Every reply of the retry table gets its treatment. 429 with and without
// Retry-After, 503, 408, a client timeout and a dropped connection are
// retried until a 200. A 400 is sent once and dead-lettered with the
// server's reason, and an untroubled record is sent exactly once.
TEST_F(HttpOutputTest, FollowsRetryRulesForEachReply) {
  std::map<std::string, std::vector<HttpReply>> script = {
      {alert_id(1), {HttpReply{.status = 429, .headers = {{"Retry-After", "2"}}}}},
      {alert_id(2), {HttpReply{.status = 503}, HttpReply{.status = 503}}},
      {alert_id(3), {HttpReply{.status = 408}}},
      {alert_id(5), {HttpReply{.delay = milliseconds(2500)}}},
      {alert_id(6), {HttpReply{.close_without_reply = true}}},
      {alert_id(8), {HttpReply{.status = 429}}},
  };
  const HttpReply schema_violation{.status = 400, .body = R"({"error": "schema violation"})"};
  std::map<std::string, std::size_t> attempts;
  server_.set_responder([&](const ReceivedRequest& request) {
    const std::string id = first_id(request);
    const std::size_t attempt = attempts[id]++;
    if (id == alert_id(4)) {
      return schema_violation;
    }
    const auto& replies = script[id];
    return attempt < replies.size() ? replies[attempt] : HttpReply{};
  });
  write_alerts({1, 2, 3, 4, 5, 6, 7, 8, 9});
  const std::filesystem::path log_path = dir_ / "stderr.log";
  std::vector<ComponentSummary> summary;
  std::uint64_t retries = 0;
  {
    StderrCapture capture(log_path);
    auto pipeline = build(pipeline_yaml("    batch_max_events: 1\n    timeout_ms: 1000\n", "",
                                        "{initial_backoff_ms: 100, max_backoff_ms: 400}"));
    ASSERT_NE(pipeline, nullptr);
    run_to_end(*pipeline);
    summary = pipeline->summary();
    retries = receiver_counter(*pipeline, "slipway_component_retries_total");
  }

  const auto requests = requests_by_first_id(server_);
  const auto count_ok = [](const std::vector<ReceivedRequest>& sent) {
    return std::count_if(sent.begin(), sent.end(), [](const ReceivedRequest& r) { return r.reply_status == 200; });
  };
  for (int record : {1, 2, 3, 5, 6, 7, 8, 9}) {
    EXPECT_GE(count_ok(requests.at(alert_id(record))), 1) << "record " << record;
  }
  for (int record : {1, 2, 3, 6, 7, 8, 9}) {
    EXPECT_EQ(count_ok(requests.at(alert_id(record))), 1) << "record " << record;
  }

  const auto& record1 = requests.at(alert_id(1));
  ASSERT_EQ(record1.size(), 2u);
  EXPECT_GE(elapsed_ms(record1[0], record1[1]), 2000) << "the retry came before Retry-After: 2";

  const auto& record2 = requests.at(alert_id(2));
  ASSERT_EQ(record2.size(), 3u);
  EXPECT_GE(elapsed_ms(record2[0], record2[1]), 50);
  EXPECT_GE(elapsed_ms(record2[1], record2[2]), 100);

  EXPECT_EQ(requests.at(alert_id(3)).size(), 2u);
  EXPECT_EQ(requests.at(alert_id(4)).size(), 1u);
  EXPECT_EQ(requests.at(alert_id(6)).size(), 2u);
  EXPECT_EQ(requests.at(alert_id(6))[0].reply_status, 0);
  EXPECT_EQ(requests.at(alert_id(7)).size(), 1u);
  EXPECT_EQ(requests.at(alert_id(8)).size(), 2u);

  // The server got record 5 twice and replied to both; both carry one key.
  const auto& record5 = requests.at(alert_id(5));
  ASSERT_EQ(record5.size(), 2u);
  ASSERT_TRUE(record5[0].header("Idempotency-Key").has_value());
  EXPECT_EQ(record5[0].header("Idempotency-Key"), record5[1].header("Idempotency-Key"));
  std::set<std::string> keys;
  for (const auto& [id, sent] : requests) {
    for (const ReceivedRequest& request : sent) {
      EXPECT_EQ(request.header("Idempotency-Key"), sent[0].header("Idempotency-Key")) << id;
    }
    keys.insert(sent[0].header("Idempotency-Key").value_or(""));
  }
  EXPECT_EQ(keys.size(), requests.size()) << "two records share an idempotency key";

  const std::vector<std::string> dead_letters = lines_of(dead_letter_file());
  ASSERT_EQ(dead_letters.size(), 1u);
  EXPECT_NE(dead_letters[0].find(alert_id(4)), std::string::npos) << dead_letters[0];
  EXPECT_NE(dead_letters[0].find(R"(returned 400: {\"error\": \"schema violation\"})"), std::string::npos)
      << dead_letters[0];
  EXPECT_EQ(summary_of(summary, "receiver").dead_lettered_events, 1u);
  EXPECT_EQ(summary_of(summary, "receiver").sent_events, 8u);
  // One engine retry at least for each of records 1, 2 (twice), 3, 5 and 8;
  // libcurl may resend record 6 by itself on a new connection.
  EXPECT_GE(retries, 6u);

  const std::string log = read_file(log_path);
  const std::regex rejection_line(R"(\[error\].*Events rejected.*)" + alert_id(4));
  EXPECT_TRUE(std::regex_search(log, rejection_line)) << log;
}

// A 400 for a request of several events costs only the event the server
// rejects: the others are sent again one per request and arrive.
TEST_F(HttpOutputTest, DeadLettersOnlyTheRejectedEventOfAGroup) {
  server_.set_responder([](const ReceivedRequest& request) {
    if (request.body.find(alert_id(4)) != std::string::npos) {
      return HttpReply{.status = 400, .body = R"({"error": "schema violation"})"};
    }
    return HttpReply{};
  });
  write_alerts({1, 2, 3, 4, 5, 6, 7, 8, 9});
  auto pipeline = build(pipeline_yaml("    batch_max_events: 10\n"));
  ASSERT_NE(pipeline, nullptr);
  run_to_end(*pipeline);

  std::map<std::string, int> delivered;
  for (const ReceivedRequest& request : server_.requests()) {
    if (request.reply_status == 200) {
      for (const std::string& line : request.body_lines()) {
        ++delivered[first_id(ReceivedRequest{.body = line})];
      }
    }
  }
  for (int record : {1, 2, 3, 5, 6, 7, 8, 9}) {
    EXPECT_EQ(delivered[alert_id(record)], 1) << "record " << record;
  }
  EXPECT_EQ(delivered.count(alert_id(4)), 0u);
  const std::vector<std::string> dead_letters = lines_of(dead_letter_file());
  ASSERT_EQ(dead_letters.size(), 1u);
  EXPECT_NE(dead_letters[0].find(alert_id(4)), std::string::npos);
  EXPECT_EQ(summary_of(pipeline->summary(), "receiver").sent_events, 8u);
}

// A 401 blames the request, not the events: the group is dead-lettered
// whole instead of being tried one event at a time.
TEST_F(HttpOutputTest, DeadLettersWholeGroupOnUnauthorized) {
  server_.set_responder([](const ReceivedRequest&) { return HttpReply{.status = 401, .body = "no"}; });
  auto output = make_output("url: " + server_.url() + "\nbatch_max_events: 10\n");
  output->start(context_);
  const DeliveryResult result = output->deliver(batch_of({1, 2, 3}), context_);
  EXPECT_EQ(result.status, DeliveryStatus::Rejected);
  EXPECT_EQ(result.reason, "POST " + server_.url() + " returned 401: no");
  EXPECT_EQ(server_.request_count(), 1u);
}

// A redirect is final, because a POST is not followed to another URL,
// and the reason names the setting to change.
TEST_F(HttpOutputTest, RejectsRedirectWithHint) {
  server_.enqueue(HttpReply{.status = 301, .headers = {{"Location", "https://elsewhere.example.com/"}}, .body = ""});
  auto output = make_output("url: " + server_.url() + "\n");
  output->start(context_);
  const DeliveryResult result = output->deliver(batch_of({1}), context_);
  EXPECT_EQ(result.status, DeliveryStatus::Rejected);
  EXPECT_EQ(result.reason, "POST " + server_.url() +
                               " returned 301; redirects are not followed, so set url to the final location");
  EXPECT_EQ(server_.request_count(), 1u);
}

// When the second of three requests fails with 503, the first counts as
// delivered and the events of the second and third are retried, after
// the server's Retry-After.
TEST_F(HttpOutputTest, MapsEachRequestOutcomeToItsEvents) {
  server_.enqueue(HttpReply{});
  server_.enqueue(HttpReply{.status = 503, .headers = {{"Retry-After", "7"}}, .body = "busy"});
  auto output = make_output("url: " + server_.url() + "\nbatch_max_events: 2\n");
  output->start(context_);
  const DeliveryResult result = output->deliver(batch_of({1, 2, 3, 4, 5}), context_);

  EXPECT_EQ(result.status, DeliveryStatus::Delivered);
  ASSERT_EQ(result.failures.size(), 3u);
  for (std::size_t index = 0; index < result.failures.size(); ++index) {
    EXPECT_EQ(result.failures[index].index, index + 2);
    EXPECT_TRUE(result.failures[index].retryable);
    EXPECT_EQ(result.failures[index].reason, "POST " + server_.url() + " returned 503: busy");
  }
  ASSERT_TRUE(result.retry_after.has_value());
  EXPECT_EQ(*result.retry_after, milliseconds(7000));
  // The third request is not tried while the server is failing.
  EXPECT_EQ(server_.request_count(), 2u);
}

// A request sent whole that times out before the response may have been
// processed: it is retried and its events are counted as ambiguous.
TEST_F(HttpOutputTest, CountsTimeoutAfterSendAsAmbiguous) {
  server_.enqueue(HttpReply{.delay = milliseconds(2000)});
  auto output = make_output("url: " + server_.url() + "\ntimeout_ms: 200\n");
  output->start(context_);
  const DeliveryResult result = output->deliver(batch_of({1, 2, 3}), context_);

  EXPECT_EQ(result.status, DeliveryStatus::Retry);
  EXPECT_EQ(context_.metrics().ambiguous_events.load(), 3u);

  server_.stop();
  const DeliveryResult refused = output->deliver(batch_of({4}), context_);
  EXPECT_EQ(refused.status, DeliveryStatus::Retry);
  // A refused connection sent nothing, so nothing new is ambiguous.
  EXPECT_EQ(context_.metrics().ambiguous_events.load(), 3u);
}

// batch_max_events and batch_max_bytes bound each request; json_array
// sends one array per request.
TEST_F(HttpOutputTest, SplitsBatchIntoBoundedRequests) {
  auto output = make_output("url: " + server_.url() + "\nbatch_max_events: 3\nencoding: {codec: json_array}\n");
  output->start(context_);
  ASSERT_EQ(output->deliver(batch_of({1, 2, 3, 4, 5, 6, 7}), context_).status, DeliveryStatus::Delivered);
  auto requests = server_.requests();
  ASSERT_EQ(requests.size(), 3u);
  EXPECT_EQ(requests[0].body, "[" + alert(1) + "," + alert(2) + "," + alert(3) + "]");
  EXPECT_EQ(requests[2].body, "[" + alert(7) + "]");
  EXPECT_EQ(requests[0].header("Content-Type"), "application/json");

  const std::size_t two_events = 2 * (alert(1).size() + 1);
  auto by_bytes = make_output("url: " + server_.url() + "\nbatch_max_bytes: " + std::to_string(two_events) + "\n");
  by_bytes->start(context_);
  ASSERT_EQ(by_bytes->deliver(batch_of({1, 2, 3, 4, 5}), context_).status, DeliveryStatus::Delivered);
  requests = server_.requests();
  ASSERT_EQ(requests.size(), 6u);
  EXPECT_EQ(requests[3].body_lines().size(), 2u);
  EXPECT_EQ(requests[5].body_lines().size(), 1u);
  EXPECT_EQ(requests[3].header("Content-Type"), "application/x-ndjson");
}

// compression: gzip sends a gzip body that decodes to the JSON lines.
TEST_F(HttpOutputTest, SendsGzipBody) {
  auto output = make_output("url: " + server_.url() + "\ncompression: gzip\nmethod: PUT\n");
  output->start(context_);
  ASSERT_EQ(output->deliver(batch_of({1, 2}), context_).status, DeliveryStatus::Delivered);
  const auto requests = server_.requests();
  ASSERT_EQ(requests.size(), 1u);
  EXPECT_EQ(requests[0].method, "PUT");
  EXPECT_EQ(requests[0].header("Content-Encoding"), "gzip");
  ASSERT_GE(requests[0].raw_body.size(), 2u);
  EXPECT_EQ(static_cast<unsigned char>(requests[0].raw_body[0]), 0x1f);
  EXPECT_EQ(requests[0].body, alert(1) + "\n" + alert(2) + "\n");
}

// A password with $ signs and ${...} in its file arrives unchanged, while
// ${VAR} in the pipeline file is expanded and $$ gives one $.
TEST_F(HttpOutputTest, SendsBasicAuthPasswordFromFileVerbatim) {
  write_file(dir_ / "password", std::string(kPassword) + "\n");
  ::chmod((dir_ / "password").c_str(), 0600);
  write_alerts({1});
  auto pipeline = build(pipeline_yaml(R"(    auth:
      strategy: basic
      user: ${WARDEN_USER:-slips}
      password_file: ${SECRETS}/password
    headers:
      X-Case: "literal $$HOME and $$1"
)"),
                        {{"SECRETS", dir_.path().string()}});
  ASSERT_NE(pipeline, nullptr);
  run_to_end(*pipeline);

  const auto requests = server_.requests();
  ASSERT_EQ(requests.size(), 1u);
  // base64("slips:pa$word$1${HOME}")
  EXPECT_EQ(requests[0].header("Authorization"), "Basic c2xpcHM6cGEkd29yZCQxJHtIT01FfQ==");
  EXPECT_EQ(requests[0].header("X-Case"), "literal $HOME and $1");
}

// Passwords and the encoded credentials stay out of logs, dead letters,
// the health report and error messages, even when the server echoes them back in a 400 or
// in a 503 that is retried until retry.max_retries gives up.
TEST_F(HttpOutputTest, KeepsSecretsOutOfLogsAndDeadLetters) {
  write_file(dir_ / "password", std::string(kPassword) + "\n");
  server_.set_responder([](const ReceivedRequest& request) {
    const std::string echo = "bad request from " + request.header("Authorization").value_or("") + " with password " +
                             std::string(kPassword);
    return HttpReply{.status = first_id(request) == alert_id(1) ? 503 : 400, .body = echo};
  });
  // Record 2 goes first and is rejected; record 1 is retried once, then dead-lettered.
  write_alerts({2, 1});
  const std::filesystem::path log_path = dir_ / "stderr.log";
  const auto previous_level = spdlog::get_level();
  spdlog::set_level(spdlog::level::trace);
  std::string health;
  {
    StderrCapture capture(log_path);
    auto pipeline = build(pipeline_yaml(fmt::format("    batch_max_events: 1\n"
                                                    "    auth: {{strategy: basic, user: slips, password_file: {}}}\n",
                                                    (dir_ / "password").string()),
                                        "", "{max_retries: 1, initial_backoff_ms: 10}"));
    ASSERT_NE(pipeline, nullptr);
    run_to_end(*pipeline);
    health = pipeline->health().text;
  }
  spdlog::set_level(previous_level);

  const std::string log = read_file(log_path);
  const std::string dead_letters = read_file(dead_letter_file());
  EXPECT_NE(health.find("returned 503"), std::string::npos) << health;
  ASSERT_EQ(lines_of(dead_letter_file()).size(), 2u) << dead_letters;
  // The password, and "slips:" + password in base64 as sent in Authorization.
  for (const std::string& secret : {std::string(kPassword), std::string("c2xpcHM6cGEkd29yZCQxJHtIT01FfQ")}) {
    EXPECT_EQ(log.find(secret), std::string::npos) << secret << " in the log:\n" << log;
    EXPECT_EQ(dead_letters.find(secret), std::string::npos) << secret << " in the dead letters:\n" << dead_letters;
    EXPECT_EQ(health.find(secret), std::string::npos) << secret << " in the health report:\n" << health;
  }
  EXPECT_NE(dead_letters.find("returned 400: bad request from Basic [redacted] with password [redacted]"),
            std::string::npos)
      << dead_letters;
  EXPECT_NE(dead_letters.find("retries exhausted after 2 attempts"), std::string::npos) << dead_letters;
  EXPECT_NE(log.find("Delivery failed; retrying"), std::string::npos) << log;
  EXPECT_NE(log.find("Events rejected"), std::string::npos) << log;
}

// A bearer token echoed in a rejection does not reach the reason, and the
// token goes out in the Authorization header.
TEST_F(HttpOutputTest, SendsBearerTokenAndRedactsIt) {
  const std::string token = "tok-3f9a2c1b7e";
  write_file(dir_ / "token", token + "\r\n");
  server_.set_responder([&](const ReceivedRequest& request) {
    return HttpReply{.status = 403, .body = "denied: " + request.header("Authorization").value_or("")};
  });
  auto output = make_output(fmt::format("url: {}\nauth: {{strategy: bearer, token_file: {}}}\n", server_.url(),
                                        (dir_ / "token").string()));
  output->start(context_);
  const DeliveryResult result = output->deliver(batch_of({1}), context_);
  EXPECT_EQ(server_.requests().at(0).header("Authorization"), "Bearer " + token);
  EXPECT_EQ(result.status, DeliveryStatus::Rejected);
  EXPECT_EQ(result.reason, "POST " + server_.url() + " returned 403: denied: Bearer [redacted]");
  EXPECT_EQ(log_text_.str().find(token), std::string::npos) << log_text_.str();
}

// A missing or empty secret file stops the start, naming key and path.
TEST_F(HttpOutputTest, ReportsUnusableSecretFileAtStart) {
  auto output = make_output(fmt::format("url: {}\nauth: {{strategy: basic, user: slips, password_file: {}}}\n",
                                        server_.url(), (dir_ / "missing").string()));
  try {
    output->start(context_);
    ADD_FAILURE() << "start() accepted a missing password file";
  } catch (const std::runtime_error& error) {
    EXPECT_EQ(std::string(error.what()), "output \"receiver\": auth.password_file " + (dir_ / "missing").string() +
                                             " cannot be read: No such file or directory; check the path and its "
                                             "permissions");
  }

  write_file(dir_ / "empty", "\n");
  auto empty = make_output(fmt::format("url: {}\nauth: {{strategy: bearer, token_file: {}}}\n", server_.url(),
                                       (dir_ / "empty").string()));
  try {
    empty->start(context_);
    ADD_FAILURE() << "start() accepted an empty token file";
  } catch (const std::runtime_error& error) {
    EXPECT_EQ(std::string(error.what()), "output \"receiver\": auth.token_file " + (dir_ / "empty").string() +
                                             " is empty; write the secret into it");
  }
}

// Certificate verification is on by default: a self-signed server fails
// as a retryable TLS error, and verify: false is logged as a warning.
TEST_F(HttpOutputTest, VerifiesServerCertificateByDefault) {
  const auto certificate = slipway::testing::make_self_signed_certificate(dir_.path(), "server");
  if (!certificate) {
    GTEST_SKIP() << "the openssl command is not available";
  }
  slipway::testing::TlsTestServer tls_server(*certificate);
  ASSERT_TRUE(tls_server.ready()) << "the TLS test server could not load its certificate";

  auto verifying = make_output("url: " + tls_server.url() + "\n");
  verifying->start(context_);
  const DeliveryResult refused = verifying->deliver(batch_of({1}), context_);
  EXPECT_EQ(refused.status, DeliveryStatus::Retry);
  EXPECT_NE(refused.reason.find("TLS failed"), std::string::npos) << refused.reason;
  EXPECT_NE(refused.reason.find("certificate"), std::string::npos) << refused.reason;
  EXPECT_EQ(log_text_.str().find("verification is off"), std::string::npos);

  auto with_ca = make_output("url: " + tls_server.url() + "\ntls: {ca_file: " + certificate->cert_file.string() + "}\n");
  with_ca->start(context_);
  EXPECT_EQ(with_ca->deliver(batch_of({1}), context_).status, DeliveryStatus::Delivered);

  auto unverified = make_output("url: " + tls_server.url() + "\ntls: {verify: false}\n");
  unverified->start(context_);
  EXPECT_EQ(unverified->deliver(batch_of({2}), context_).status, DeliveryStatus::Delivered);
  EXPECT_NE(log_text_.str().find("[warning] TLS certificate verification is off"), std::string::npos)
      << log_text_.str();
  EXPECT_EQ(tls_server.request_count(), 2u);
}

// While the endpoint refuses connections, the file output of the same
// pipeline keeps writing and the http output keeps retrying. Once the
// endpoint is back, every event arrives exactly once, because a refused
// connection carries no data.
TEST_F(HttpOutputTest, CatchesUpAfterOutageWhileFileOutputFlows) {
  constexpr int kAlerts = 300;
  std::vector<int> records;
  for (int record = 1; record <= kAlerts; ++record) {
    records.push_back(record);
  }
  write_alerts(records);
  server_.stop();

  const std::filesystem::path log_path = dir_ / "stderr.log";
  const std::filesystem::path archive = dir_ / "archive.json";
  StderrCapture capture(log_path);
  auto pipeline = build(pipeline_yaml("    batch_max_events: 50\n",
                                      fmt::format("  archive:\n    type: file\n    from: [alerts]\n    path: {}\n",
                                                  archive.string()),
                                      "{initial_backoff_ms: 50, max_backoff_ms: 500}"));
  ASSERT_NE(pipeline, nullptr);
  pipeline->start();
  auto finished = std::async(std::launch::async, [&] { pipeline->wait(); });

  EXPECT_TRUE(wait_until([&] { return slipway::testing::count_lines(archive) == kAlerts; }, std::chrono::seconds(10)))
      << "the file output stalled while the http endpoint was down";
  EXPECT_TRUE(wait_until([&] { return receiver_counter(*pipeline, "slipway_component_retries_total") >= 2; },
                         std::chrono::seconds(10)));
  const std::string health = pipeline->health().text;
  EXPECT_NE(health.find("output \"receiver\" (http): POST " + server_.url("/ingest") + " failed: connection failed"),
            std::string::npos)
      << health;
  EXPECT_EQ(server_.request_count(), 0u);
  EXPECT_NE(finished.wait_for(milliseconds(0)), std::future_status::ready);

  server_.restart();
  const bool caught_up = finished.wait_for(kPipelineTimeout) == std::future_status::ready;
  if (!caught_up) {
    pipeline->request_stop();
    finished.wait();
  }
  ASSERT_TRUE(caught_up) << "the http output did not deliver after the endpoint came back";

  std::map<std::string, int> delivered;
  for (const ReceivedRequest& request : server_.requests()) {
    EXPECT_EQ(request.reply_status, 200);
    for (const std::string& line : request.body_lines()) {
      ++delivered[first_id(ReceivedRequest{.body = line})];
    }
  }
  ASSERT_EQ(delivered.size(), static_cast<std::size_t>(kAlerts));
  for (const auto& [id, count] : delivered) {
    EXPECT_EQ(count, 1) << id;
  }
  EXPECT_EQ(summary_of(pipeline->summary(), "receiver").sent_events, static_cast<std::uint64_t>(kAlerts));
  EXPECT_FALSE(std::filesystem::exists(dead_letter_file()));
  EXPECT_TRUE(pipeline->health().healthy) << pipeline->health().text;
}

// Invalid settings are reported with the key, the problem and the fix,
// and never with a header value.
TEST_F(HttpOutputTest, ReportsInvalidSettings) {
  EXPECT_EQ(config_errors("url: ftp://siem.example.com/\n"),
            "test.yaml:1:6: output \"receiver\" (http): key \"url\": unsupported scheme \"ftp\"; expected http or "
            "https\n");
  EXPECT_EQ(config_errors("url: https://slips:hunter22@siem.example.com/\n"),
            "test.yaml:1:6: output \"receiver\" (http): key \"url\": user information in the URL would appear in "
            "logs; remove it and set auth instead\n");
  EXPECT_EQ(config_errors("url: http://h/\nheaders: {\"X Key\": secret-value-1}\n"),
            "test.yaml:2:11: output \"receiver\" (http): key \"headers.X Key\": invalid header name; use letters, "
            "digits and !#$%&'*+-.^_`|~ only\n");
  EXPECT_EQ(config_errors("url: http://h/\nheaders: {Content-Length: \"12\"}\n"),
            "test.yaml:2:11: output \"receiver\" (http): key \"headers.Content-Length\": slipway sets this header "
            "itself; remove it\n");
  EXPECT_EQ(config_errors("url: http://h/\nheaders: [X-Key]\n"),
            "test.yaml:2:10: output \"receiver\" (http): key \"headers\": expected a mapping of header names to "
            "values, e.g. {X-Sensor: lab-1}\n");
  EXPECT_EQ(config_errors("url: http://h/\nauth: {strategy: basic, user: \"a:b\"}\n"),
            "test.yaml:2:7: output \"receiver\" (http): key \"auth.password_file\": basic authentication needs a "
            "file holding the password\n"
            "test.yaml:2:31: output \"receiver\" (http): key \"auth.user\": a user name for basic authentication "
            "cannot contain \":\" (RFC 7617)\n");
  EXPECT_EQ(config_errors("url: http://h/\nauth: {strategy: bearer, token_file: /t, user: slips}\n"),
            "test.yaml:2:48: output \"receiver\" (http): key \"auth.user\": only used with strategy basic; remove "
            "it or set strategy: basic\n");
  EXPECT_EQ(config_errors("url: http://h/\nidempotency_header: \"Bad Name\"\n"),
            "test.yaml:2:21: output \"receiver\" (http): key \"idempotency_header\": invalid header name; use "
            "letters, digits and !#$%&'*+-.^_`|~ only\n");
  EXPECT_EQ(config_errors("url: http://h/\ntls: {key_file: /k}\n"),
            "test.yaml:2:17: output \"receiver\" (http): key \"tls.key_file\": a private key needs the client "
            "certificate in tls.cert_file\n");
}

// A header value with a line break is refused without showing the value.
TEST_F(HttpOutputTest, HidesHeaderValueInErrors) {
  const std::string errors = config_errors("url: http://h/\nheaders: {X-Api-Key: \"k3y-part1\\r\\nX-Injected: 1\"}\n");
  EXPECT_NE(errors.find("key \"headers.X-Api-Key\": the value contains a line break or NUL byte"), std::string::npos)
      << errors;
  EXPECT_EQ(errors.find("k3y-part1"), std::string::npos) << errors;
}

}  // namespace
}  // namespace slipway::outputs::http
