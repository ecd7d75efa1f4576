// The slack output through the real engine, against a loopback server
// that responds as Slack's chat.postMessage and incoming webhooks do,
// including 429 with Retry-After and HTTP 200 with ok:false.
#include "outputs/slack/slack_output.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <future>
#include <regex>
#include <set>

#include <fmt/format.h>
#include <gtest/gtest.h>

#include "config/pipeline_config.hpp"
#include "engine/pipeline.hpp"
#include "outputs/slack/slack_message.hpp"
#include "tests/support/process.hpp"
#include "tests/support/slack_test_server.hpp"
#include "tests/support/temp_dir.hpp"

namespace slipway::outputs::slack {
namespace {

using slipway::testing::read_file;
using slipway::testing::shared_path;
using slipway::testing::SlackPost;
using slipway::testing::SlackTestServer;
using slipway::testing::TempDir;
using slipway::testing::write_file;
using std::chrono::milliseconds;

constexpr auto kPipelineTimeout = std::chrono::seconds(90);
constexpr std::string_view kCaseAlerts = "cases/026-slack-message-limits/alerts.json";

std::string alert(int record, std::string_view description = "") {
  return fmt::format(R"({{"Format":"IDEA0","ID":"00000031-0000-4000-8000-{:012}","DetectTime":"2024-04-09T10:00:{:02}Z",)"
                     R"("Category":["Attempt.Login"],"Source":[{{"IP4":["192.0.2.10"]}}],)"
                     R"("Target":[{{"IP4":["198.51.100.20"],"Port":[22]}}],"Note":"{{\"threat_level\": \"high\"}}",)"
                     R"("Description":"{}"}})",
                     record, record % 60, description.empty() ? fmt::format("record {}", record) : description);
}

std::string alert_id(int record) { return fmt::format("00000031-0000-4000-8000-{:012}", record); }

// The alert ID a message names, from the text the default template writes.
std::string id_in(const SlackPost& post) {
  static const std::regex kId(R"(\d{8}-0000-4000-8000-\d{12})");
  std::smatch match;
  return std::regex_search(post.text, match, kId) ? match.str() : std::string();
}

// Sends standard error, where the component loggers write, to a file while it lives.
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

struct RunResult {
  std::vector<ComponentSummary> summary;
  HealthReport health;
  std::string log;
};

class SlackOutputTest : public ::testing::Test {
 protected:
  void write_alerts(const std::vector<std::string>& alerts) {
    std::string text;
    for (const std::string& line : alerts) {
      text += line + "\n";
    }
    write_file(dir_ / "alerts.json", text);
  }

  void write_token(std::string_view token) {
    write_file(dir_ / "token", std::string(token) + "\n");
    std::filesystem::permissions(dir_ / "token", std::filesystem::perms::owner_read | std::filesystem::perms::owner_write);
  }

  // Reads alerts.json once into the slack output `notify`, configured by
  // `output_yaml` (each line indented by 4).
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
  notify:
    type: slack
    from: [alerts]
    retry: {{initial_backoff_ms: 50, max_backoff_ms: 1000, max_retries: 20}}
{output}
)",
                       fmt::arg("data", (dir_ / "data").string()), fmt::arg("alerts", (dir_ / "alerts.json").string()),
                       fmt::arg("output", output_yaml));
  }

  std::string web_api_yaml(const std::string& extra = "") const {
    return fmt::format("    api_url: {}\n    token_file: {}\n    channel: \"#alerts\"\n    sensor_name: lab-1\n{}",
                       server_->api_url(), (dir_ / "token").string(), extra);
  }

  RunResult run(const std::string& yaml) {
    RunResult result;
    StderrCapture capture(dir_ / "stderr.log");
    config::Errors errors;
    const auto loaded = config::load_pipeline_text(yaml, "test.yaml", {}, errors);
    EXPECT_TRUE(loaded.has_value()) << errors.format();
    if (!loaded) {
      return result;
    }
    auto pipeline = Pipeline::build(*loaded, errors);
    EXPECT_NE(pipeline, nullptr) << errors.format();
    if (pipeline == nullptr) {
      return result;
    }
    pipeline->start();
    auto finished = std::async(std::launch::async, [&] { pipeline->wait(); });
    if (finished.wait_for(kPipelineTimeout) != std::future_status::ready) {
      ADD_FAILURE() << "the pipeline did not finish within " << kPipelineTimeout.count() << " s";
      pipeline->request_stop();
      finished.wait();
    }
    result.summary = pipeline->summary();
    result.health = pipeline->health();
    std::fflush(stderr);
    result.log = read_file(dir_ / "stderr.log");
    return result;
  }

  static const ComponentSummary& notify_row(const RunResult& result) {
    for (const ComponentSummary& row : result.summary) {
      if (row.id == "notify") {
        return row;
      }
    }
    throw std::runtime_error("no component notify");
  }

  std::filesystem::path dead_letter_file() const { return dir_ / "data" / "dead_letter" / "notify.json"; }

  void make_server(SlackTestServer::Options options) { server_ = std::make_unique<SlackTestServer>(std::move(options)); }

  TempDir dir_;
  std::unique_ptr<SlackTestServer> server_;
};

// The 32 alerts of a Slips alert file, among them one of 50,018 characters
// and one full of Slack control sequences, reach the channel once each,
// paced so the channel never receives two messages closer than its limit.
TEST_F(SlackOutputTest, PostsEachAlertOnceWithinRateLimit) {
  constexpr auto kInterval = milliseconds(250);
  make_server({.min_interval = kInterval});
  write_token("xoxb-test");
  std::filesystem::copy_file(shared_path(kCaseAlerts), dir_ / "alerts.json");

  const RunResult result = run(pipeline_yaml(web_api_yaml("    min_message_interval_ms: 250\n")));

  const std::vector<SlackPost> accepted = server_->accepted_posts();
  ASSERT_EQ(accepted.size(), 32u);
  std::set<std::string> ids;
  for (const SlackPost& post : accepted) {
    EXPECT_TRUE(ids.insert(id_in(post)).second) << "posted twice: " << id_in(post);
  }
  EXPECT_EQ(ids.size(), 32u);
  const std::vector<SlackPost> posts = server_->posts();
  EXPECT_EQ(posts.size(), 32u) << "no request should have been refused";
  for (std::size_t index = 1; index < posts.size(); ++index) {
    EXPECT_GE(posts[index].decided_at - posts[index - 1].decided_at, kInterval) << "message " << index;
  }
  EXPECT_EQ(notify_row(result).sent_events, 32u);
  EXPECT_TRUE(result.health.healthy) << result.health.text;
}

// A 50,018-character description is cut to the limit on a code-point
// boundary, with a marker naming the characters left out and the alert.
TEST_F(SlackOutputTest, TruncatesLongTextWithMarker) {
  make_server({.min_interval = milliseconds(0)});
  write_token("xoxb-test");
  const std::string case_alerts = read_file(shared_path(kCaseAlerts));
  write_file(dir_ / "alerts.json", case_alerts.substr(0, case_alerts.find('\n') + 1));

  run(pipeline_yaml(web_api_yaml("    min_message_interval_ms: 0\n")));

  const std::vector<SlackPost> posts = server_->posts();
  ASSERT_EQ(posts.size(), 1u);
  const std::string& text = posts.front().text;
  EXPECT_TRUE(posts.front().accepted()) << posts.front().error;
  EXPECT_LE(count_code_points(text), 4000u);
  EXPECT_TRUE(json::is_valid_utf8(text));
  EXPECT_NE(text.find("[truncated, "), std::string::npos);
  EXPECT_NE(text.find("characters left out; alert 00000026-0000-4000-8000-000000000001]"), std::string::npos);
  EXPECT_TRUE(text.ends_with("]"));
}

// Control sequences in alert text reach Slack as entities, so they cannot
// mention a channel or a user, or show a forged link.
TEST_F(SlackOutputTest, NeutralizesMentionsAndLinks) {
  make_server({.min_interval = milliseconds(0)});
  write_token("xoxb-test");
  write_alerts({alert(1, "x <!channel> <!here> <@U0123ABC> <https://example.com|click> a&b <script>")});

  run(pipeline_yaml(web_api_yaml("    min_message_interval_ms: 0\n")));

  const std::vector<SlackPost> posts = server_->accepted_posts();
  ASSERT_EQ(posts.size(), 1u);
  const std::string& text = posts.front().text;
  EXPECT_NE(text.find("&lt;!channel&gt; &lt;!here&gt; &lt;@U0123ABC&gt;"), std::string::npos) << text;
  EXPECT_NE(text.find("&lt;https://example.com|click&gt; a&amp;b &lt;script&gt;"), std::string::npos) << text;
  EXPECT_EQ(text.find("<!channel>"), std::string::npos);
  EXPECT_EQ(text.find("<@U0123ABC>"), std::string::npos);
  EXPECT_EQ(text.find("<https://"), std::string::npos);
  EXPECT_NE(text.find("*high* Attempt.Login: 192.0.2.10 -&gt; 198.51.100.20:22"), std::string::npos) << text;
  EXPECT_NE(text.find("sensor lab-1"), std::string::npos) << text;
}

// After each 429 the next attempt waits for Retry-After, and every alert
// still arrives exactly once.
TEST_F(SlackOutputTest, WaitsForRetryAfterOn429) {
  make_server({.min_interval = milliseconds(400), .retry_after_secs = 1});
  write_token("xoxb-test");
  write_alerts({alert(1), alert(2), alert(3), alert(4)});

  const RunResult result = run(pipeline_yaml(web_api_yaml("    min_message_interval_ms: 0\n")));

  const std::vector<SlackPost> posts = server_->posts();
  std::size_t refused = 0;
  for (std::size_t index = 0; index + 1 < posts.size(); ++index) {
    if (posts[index].status == 429) {
      ++refused;
      EXPECT_GE(posts[index + 1].decided_at - posts[index].decided_at, milliseconds(1000)) << "request " << index;
    }
  }
  EXPECT_GT(refused, 0u) << "the test needs the server to refuse at least once";
  std::multiset<std::string> ids;
  for (const SlackPost& post : server_->accepted_posts()) {
    ids.insert(id_in(post));
  }
  EXPECT_EQ(ids, (std::multiset<std::string>{alert_id(1), alert_id(2), alert_id(3), alert_id(4)}));
  EXPECT_EQ(notify_row(result).dead_lettered_events, 0u);
}

// ok:false with "ratelimited" is retried rather than counted as delivered or lost.
TEST_F(SlackOutputTest, RetriesOkFalseRatelimited) {
  make_server({.min_interval = milliseconds(0)});
  server_->inject_errors({"ratelimited", "internal_error"});
  write_token("xoxb-test");
  write_alerts({alert(1), alert(2)});

  const RunResult result = run(pipeline_yaml(web_api_yaml("    min_message_interval_ms: 0\n")));

  EXPECT_EQ(server_->posts().size(), 4u);
  EXPECT_EQ(server_->accepted_posts().size(), 2u);
  EXPECT_EQ(notify_row(result).sent_events, 2u);
  EXPECT_EQ(notify_row(result).dead_lettered_events, 0u);
}

// A rejected token is not retried in a loop: one request, the alerts in the
// dead-letter file, one error line that names the token, and /health degraded.
TEST_F(SlackOutputTest, InvalidAuthDeadLettersAndDegradesHealth) {
  make_server({.min_interval = milliseconds(0)});
  write_token("xoxb-wrong");
  write_alerts({alert(1), alert(2), alert(3)});

  const RunResult result = run(pipeline_yaml(web_api_yaml()));

  EXPECT_EQ(server_->posts().size(), 1u);
  EXPECT_EQ(server_->accepted_posts().size(), 0u);
  EXPECT_EQ(notify_row(result).sent_events, 0u);
  EXPECT_EQ(notify_row(result).dead_lettered_events, 3u);
  EXPECT_EQ(slipway::testing::count_lines(dead_letter_file()), 3u);
  EXPECT_FALSE(result.health.healthy);
  EXPECT_NE(result.health.text.find("invalid_auth"), std::string::npos) << result.health.text;
  EXPECT_NE(result.log.find("error invalid_auth; the token was rejected"), std::string::npos) << result.log;
  EXPECT_EQ(result.log.find("xoxb-wrong"), std::string::npos) << "the token must not reach the log";
}

// A missing channel marks the output degraded, naming the channel fix.
TEST_F(SlackOutputTest, ChannelNotFoundDegradesHealth) {
  make_server({.channels = {"#other"}, .min_interval = milliseconds(0)});
  write_token("xoxb-test");
  write_alerts({alert(1)});

  const RunResult result = run(pipeline_yaml(web_api_yaml()));

  EXPECT_EQ(notify_row(result).dead_lettered_events, 1u);
  EXPECT_FALSE(result.health.healthy);
  EXPECT_NE(result.health.text.find("channel_not_found; check the channel and invite the bot"), std::string::npos)
      << result.health.text;
}

// A message Slack rejects for its content costs only its own alert.
TEST_F(SlackOutputTest, MessageErrorDeadLettersOnlyThatAlert) {
  make_server({.min_interval = milliseconds(0), .max_text_chars = 300});
  write_token("xoxb-test");
  write_alerts({alert(1), alert(2, std::string(400, 'x')), alert(3)});

  const RunResult result = run(pipeline_yaml(web_api_yaml("    max_text_chars: 1000\n    min_message_interval_ms: 0\n")));

  EXPECT_EQ(server_->accepted_posts().size(), 2u);
  EXPECT_EQ(notify_row(result).sent_events, 2u);
  EXPECT_EQ(notify_row(result).dead_lettered_events, 1u);
  EXPECT_NE(read_file(dead_letter_file()).find("msg_too_long"), std::string::npos);
}

// A digest posts several alerts of a batch as one message.
TEST_F(SlackOutputTest, DigestGroupsAlerts) {
  make_server({.min_interval = milliseconds(0)});
  write_token("xoxb-test");
  std::vector<std::string> alerts;
  for (int record = 1; record <= 10; ++record) {
    alerts.push_back(alert(record));
  }
  write_alerts(alerts);

  const RunResult result = run(pipeline_yaml(web_api_yaml("    digest: {max_alerts: 4, window_secs: 60}\n    min_message_interval_ms: 0\n")));

  const std::vector<SlackPost> posts = server_->accepted_posts();
  ASSERT_EQ(posts.size(), 3u);
  EXPECT_NE(posts[0].text.find("*4 Slips alerts* from lab-1"), std::string::npos) << posts[0].text;
  EXPECT_NE(posts[2].text.find("*2 Slips alerts*"), std::string::npos) << posts[2].text;
  for (int record = 1; record <= 10; ++record) {
    const std::size_t message = static_cast<std::size_t>((record - 1) / 4);
    EXPECT_NE(posts[message].text.find(alert_id(record)), std::string::npos) << record;
  }
  EXPECT_EQ(notify_row(result).sent_events, 10u);
}

// The Block Kit layout carries blocks and the text fallback; blocks Slack
// refuses are dropped and the text posted alone.
TEST_F(SlackOutputTest, BlocksCarryTextFallback) {
  make_server({.min_interval = milliseconds(0)});
  server_->inject_errors({"", "invalid_blocks"});
  write_token("xoxb-test");
  write_alerts({alert(1), alert(2)});

  run(pipeline_yaml(web_api_yaml("    layout: blocks\n    min_message_interval_ms: 0\n")));

  const std::vector<SlackPost> posts = server_->posts();
  ASSERT_EQ(posts.size(), 3u);
  EXPECT_TRUE(posts[0].accepted());
  EXPECT_NE(posts[0].blocks_json.find(R"("type":"header")"), std::string::npos) << posts[0].blocks_json;
  EXPECT_NE(posts[0].blocks_json.find(R"(*Target*\n198.51.100.20:22)"), std::string::npos) << posts[0].blocks_json;
  EXPECT_NE(posts[0].text.find(alert_id(1)), std::string::npos);
  EXPECT_EQ(posts[1].error, "invalid_blocks");
  EXPECT_TRUE(posts[2].accepted());
  EXPECT_TRUE(posts[2].blocks_json.empty());
  EXPECT_NE(posts[2].text.find(alert_id(2)), std::string::npos);
}

// An incoming webhook gets the same pacing and 429 handling, and its URL,
// a secret, never reaches the log.
TEST_F(SlackOutputTest, WebhookPostsAndHidesItsUrl) {
  make_server({.min_interval = milliseconds(300), .retry_after_secs = 1});
  write_file(dir_ / "webhook", server_->webhook_url() + "\n");
  write_alerts({alert(1), alert(2), alert(3)});

  const RunResult result = run(pipeline_yaml(fmt::format(
      "    mode: webhook\n    webhook_url_file: {}\n    min_message_interval_ms: 0\n", (dir_ / "webhook").string())));

  std::multiset<std::string> ids;
  for (const SlackPost& post : server_->accepted_posts()) {
    EXPECT_TRUE(post.webhook);
    ids.insert(id_in(post));
  }
  EXPECT_EQ(ids, (std::multiset<std::string>{alert_id(1), alert_id(2), alert_id(3)}));
  EXPECT_EQ(result.log.find("webhooksecret123"), std::string::npos) << result.log;
  EXPECT_EQ(notify_row(result).dead_lettered_events, 0u);
}

// A webhook that no longer exists (404 no_service) degrades health.
TEST_F(SlackOutputTest, WebhookNotFoundDegradesHealth) {
  make_server({.min_interval = milliseconds(0)});
  write_file(dir_ / "webhook", server_->webhook_url() + "gone\n");
  write_alerts({alert(1)});

  const RunResult result =
      run(pipeline_yaml(fmt::format("    mode: webhook\n    webhook_url_file: {}\n", (dir_ / "webhook").string())));

  EXPECT_EQ(notify_row(result).dead_lettered_events, 1u);
  EXPECT_FALSE(result.health.healthy);
  EXPECT_EQ(result.log.find("webhooksecret123"), std::string::npos) << result.log;
}

// Keys that belong to the other mode and missing required ones are named.
TEST_F(SlackOutputTest, RejectsIncompleteConfig) {
  make_server({});
  const std::string yaml = pipeline_yaml("    mode: webhook\n    channel: \"#alerts\"\n");
  config::Errors errors;
  const auto loaded = config::load_pipeline_text(yaml, "test.yaml", {}, errors);
  if (loaded) {
    Pipeline::build(*loaded, errors);
  }
  const std::string text = errors.format();
  EXPECT_NE(text.find("output \"notify\" (slack): key \"webhook_url_file\": mode webhook needs a file holding the "
                      "incoming webhook URL"),
            std::string::npos)
      << text;
  EXPECT_NE(text.find("output \"notify\" (slack): key \"channel\": only used with mode web_api"), std::string::npos)
      << text;
}

// Truncation never splits a character or an entity, and counts what it cut.
TEST(SlackMessageTest, TruncationKeepsCharactersAndEntitiesWhole) {
  std::string text;
  for (int repeat = 0; repeat < 100; ++repeat) {
    text += "ž🙂&amp;";
  }
  for (std::size_t limit = 60; limit < 120; ++limit) {
    const std::string cut = truncate_text(text, limit, "id-1");
    EXPECT_LE(count_code_points(cut), limit);
    EXPECT_TRUE(json::is_valid_utf8(cut));
    const std::string kept = cut.substr(0, cut.find(" … [truncated"));
    EXPECT_TRUE(kept.empty() || kept.back() != '&');
    const std::size_t ampersand = kept.rfind('&');
    if (ampersand != std::string::npos) {
      EXPECT_NE(kept.find(';', ampersand), std::string::npos) << "entity split at limit " << limit;
    }
    const std::string marker = fmt::format("{} characters left out; alert id-1]",
                                           count_code_points(text) - count_code_points(kept));
    EXPECT_TRUE(cut.ends_with(marker)) << cut;
  }
  EXPECT_EQ(truncate_text("short", 100, "id"), "short");
}

// A field the alert lacks shows as "-" instead of failing the message.
TEST(SlackMessageTest, TemplateShowsMissingFieldsAsDash) {
  std::string error;
  const auto message_template = MessageTemplate::parse("{{ severity }}|{{ Nope.Field }}|{{ source }}|{{ Category }}", error);
  ASSERT_TRUE(message_template) << error;
  const auto alert = json::parse(R"({"Category":["A","B"],"Source":[{"IP6":["2001:db8::1"],"Port":[443]}]})");
  ASSERT_TRUE(alert.value);
  EXPECT_EQ(message_template->render(*alert.value, {}), "-|-|[2001:db8::1]:443|A, B");
}

}  // namespace
}  // namespace slipway::outputs::slack
