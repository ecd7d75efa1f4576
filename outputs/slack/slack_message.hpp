// Slack message text and Block Kit layout built from alerts. Alert values
// are escaped for Slack's mrkdwn (&, < and > become entities), so text an
// attacker put into an alert cannot mention @channel, @here or a user, or
// forge a link. Text is cut on a code-point boundary, never inside an
// entity, and a cut message ends with a marker naming how much was left out.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "engine/json.hpp"
#include "filters/field_template.hpp"

namespace slipway::outputs::slack {

// Appends `text` with &, < and > written as &amp;, &lt; and &gt;, the only
// characters Slack reads as control sequences in message text.
void append_escaped(std::string_view text, std::string& out);

// Number of Unicode code points in valid UTF-8 text; Slack's text limits
// count characters, not bytes.
std::size_t count_code_points(std::string_view utf8);

// Cuts `text` to at most `max_chars` code points, marker included, when it
// is longer. The cut falls on a code-point boundary and before an entity
// such as "&amp;" that it would split, and the marker states that the
// message was truncated, how many characters were left out and `alert_id`.
std::string truncate_text(std::string_view text, std::size_t max_chars, std::string_view alert_id);

// Values a template can show besides event fields, computed from the
// alert or taken from the output's settings.
struct TemplateContext {
  std::string sensor_name;
  std::int64_t now_micros = 0;
};

// A message template: literal mrkdwn text with placeholders. A placeholder
// is `{{ PATH }}` or `{{ PATH | FORMAT }}` as in the modify filter, or one
// of these names, which never read an event field of the same name:
//   severity     Severity, threat_level, or the threat_level inside Note
//   source       first address of Source[0], with its port when it has one
//   target       first address of Target[0], with its port when it has one
//   sensor_name  the output's sensor_name setting
// A value the alert lacks is shown as "-". Values are escaped; the literal
// text is not, so a template may contain links and formatting.
class MessageTemplate {
 public:
  static std::optional<MessageTemplate> parse(std::string_view text, std::string& error);

  std::string render(const json::Value& alert, const TemplateContext& context) const;

 private:
  enum class Computed { None, Severity, Source, Target, SensorName };

  struct Piece {
    std::string literal;
    std::optional<filters::FieldTemplate> field;
    Computed computed = Computed::None;
  };

  std::vector<Piece> pieces_;
};

// The named values of one alert that the Block Kit layout shows as fields.
struct AlertSummary {
  std::string id;
  std::string severity;
  std::string category;
  std::string source;
  std::string target;
};

// Reads the values computed placeholders show; "-" for each one missing.
AlertSummary summarize_alert(const json::Value& alert);

// One message ready to post: the text, which is also the notification
// fallback when `blocks_json` is set, and the blocks as a JSON array.
struct SlackMessage {
  std::string text;
  std::string blocks_json;  // empty: text only
};

enum class Layout { Text, Blocks };

struct MessageSettings {
  Layout layout = Layout::Text;
  std::size_t max_text_chars = 4000;
  TemplateContext context;
};

// Builds the message for `alerts`, which holds one alert or, for a digest,
// several. A digest shares the character limit equally between its alerts,
// so each of them stays visible.
SlackMessage build_message(const std::vector<const json::Value*>& alerts, const MessageTemplate& message_template,
                           const MessageSettings& settings);

}  // namespace slipway::outputs::slack
