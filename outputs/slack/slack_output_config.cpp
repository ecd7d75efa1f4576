#include <unistd.h>

#include <array>

#include <fmt/format.h>

#include "outputs/slack/slack_output.hpp"

namespace slipway::outputs::slack {

namespace {

// Slack cuts text above 40,000 characters; readable messages stay far below.
constexpr std::int64_t kMaxTextChars = 40'000;
constexpr std::int64_t kMinTextChars = 200;
// Block Kit allows 50 blocks: a header, one section per alert and a context.
constexpr std::int64_t kMaxDigestAlerts = 40;
constexpr std::int64_t kMaxIntervalMs = 3'600'000;
constexpr std::int64_t kMaxWindowSecs = 86'400;

// The literal "-&gt;" shows as "->": Slack reads a raw ">" as markup.
constexpr std::string_view kDefaultTemplate =
    "*{{ severity }}* {{ Category }}: {{ source }} -&gt; {{ target }}\n{{ Description }}\n"
    "sensor {{ sensor_name }}, alert {{ ID }}";

const config::Schema kDigestSchema{{
    config::Field{.name = "max_alerts",
                  .type = config::FieldType::Integer,
                  .doc = "Most alerts in one message; 1 posts one message per alert",
                  .default_text = "1",
                  .min = 1,
                  .max = kMaxDigestAlerts},
    config::Field{.name = "window_secs",
                  .type = config::FieldType::Integer,
                  .doc = "Alerts share a message only when their DetectTime lies within this many seconds of the "
                         "first one's",
                  .default_text = "60",
                  .min = 1,
                  .max = kMaxWindowSecs},
}};

config::Schema make_schema() {
  std::vector<config::Field> fields = {
      config::Field{.name = "mode",
                    .type = config::FieldType::Enum,
                    .doc = "web_api: chat.postMessage with a bot token; webhook: an incoming webhook URL",
                    .default_text = "web_api",
                    .choices = {"web_api", "webhook"}},
      config::Field{.name = "api_url",
                    .type = config::FieldType::String,
                    .doc = "Base URL of the Web API, to which /chat.postMessage is appended; change it only for a "
                           "proxy or a test server",
                    .default_text = "https://slack.com/api"},
      config::Field{.name = "token_file",
                    .type = config::FieldType::String,
                    .doc = "web_api: file holding the bot token (xoxb-...), read at start"},
      config::Field{.name = "channel",
                    .type = config::FieldType::String,
                    .doc = "web_api: channel name (#alerts) or id (C0123ABC); the bot must be a member"},
      config::Field{.name = "webhook_url_file",
                    .type = config::FieldType::String,
                    .doc = "webhook: file holding the incoming webhook URL, read at start; the URL is a secret"},
      config::Field{.name = "template",
                    .type = config::FieldType::String,
                    .doc = "Message text in Slack mrkdwn with {{ field.path }} placeholders and the names severity, "
                           "source, target and sensor_name; alert values are escaped",
                    .default_text = std::string(kDefaultTemplate)},
      config::Field{.name = "layout",
                    .type = config::FieldType::Enum,
                    .doc = "text: the template only; blocks: Block Kit with header, fields and context, the "
                           "template text as notification fallback",
                    .default_text = "text",
                    .choices = {"text", "blocks"}},
      config::Field{.name = "sensor_name",
                    .type = config::FieldType::String,
                    .doc = "Name of the sensor shown in messages",
                    .default_text = "the host name"},
      config::Field{.name = "max_text_chars",
                    .type = config::FieldType::Integer,
                    .doc = "Longest message text in characters; longer text is cut and ends with a marker",
                    .default_text = "4000",
                    .min = kMinTextChars,
                    .max = kMaxTextChars},
      config::Field{.name = "digest",
                    .type = config::FieldType::Object,
                    .doc = "Several alerts of a batch per message: max_alerts, window_secs",
                    .nested = &kDigestSchema},
      config::Field{.name = "min_message_interval_ms",
                    .type = config::FieldType::Integer,
                    .doc = "Least time between two messages to the same channel, in milliseconds; Slack allows "
                           "about one per second",
                    .default_text = "1000",
                    .min = 0,
                    .max = kMaxIntervalMs},
  };
  http::ClientSettings::add_schema_fields(fields);
  return config::Schema{std::move(fields)};
}

std::string host_name() {
  std::array<char, 256> buffer{};
  if (::gethostname(buffer.data(), buffer.size() - 1) != 0) {
    return "slipway";
  }
  return std::string(buffer.data());
}

}  // namespace

const config::Schema SlackOutputConfig::kSchema = make_schema();

std::optional<SlackOutputConfig> SlackOutputConfig::parse(const config::Section& settings, config::Errors& errors) {
  SlackOutputConfig config;
  bool valid = true;
  const auto problem = [&](std::string_view key, std::string_view what) {
    errors.add(settings.location(key), fmt::format("{}: key \"{}\": {}", settings.context(), key, what));
    valid = false;
  };

  config.mode = settings.string("mode") == "webhook" ? SlackMode::Webhook : SlackMode::WebApi;
  config.api_url = settings.string("api_url");
  config.token_file = settings.string("token_file");
  config.channel = settings.string("channel");
  config.webhook_url_file = settings.string("webhook_url_file");
  if (config.mode == SlackMode::WebApi) {
    if (!settings.has("token_file")) {
      problem("token_file", "mode web_api needs a file holding the bot token");
    }
    if (!settings.has("channel") || config.channel.empty()) {
      problem("channel", "mode web_api needs a channel name (#alerts) or id (C0123ABC)");
    }
    if (settings.has("webhook_url_file")) {
      problem("webhook_url_file", "only used with mode webhook; remove it or set mode: webhook");
    }
    if (const auto url_problem = http::check_url(config.api_url)) {
      problem("api_url", *url_problem);
    }
  } else {
    if (!settings.has("webhook_url_file")) {
      problem("webhook_url_file", "mode webhook needs a file holding the incoming webhook URL");
    }
    for (std::string_view key : {"token_file", "channel", "api_url"}) {
      if (settings.has(key)) {
        problem(key, "only used with mode web_api, because a webhook posts to the channel it was made for; "
                     "remove it or set mode: web_api");
      }
    }
  }

  std::string template_error;
  config.message_template = MessageTemplate::parse(settings.string("template"), template_error);
  if (!config.message_template) {
    problem("template", template_error);
  }
  config.message.layout = settings.string("layout") == "blocks" ? Layout::Blocks : Layout::Text;
  config.message.max_text_chars = static_cast<std::size_t>(settings.integer("max_text_chars"));
  config.message.context.sensor_name = settings.has("sensor_name") ? settings.string("sensor_name") : host_name();

  const config::Section digest = settings.object("digest");
  config.digest.max_alerts = static_cast<std::size_t>(digest.integer("max_alerts"));
  config.digest.window = std::chrono::seconds(digest.integer("window_secs"));
  config.min_message_interval = std::chrono::milliseconds(settings.integer("min_message_interval_ms"));
  config.client = http::ClientSettings::parse(settings, errors);
  if (!valid) {
    return std::nullopt;
  }
  return config;
}

}  // namespace slipway::outputs::slack
