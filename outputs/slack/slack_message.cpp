#include "outputs/slack/slack_message.hpp"

#include <algorithm>

#include <fmt/format.h>

namespace slipway::outputs::slack {

namespace {

constexpr std::string_view kOpen = "{{";
constexpr std::string_view kClose = "}}";
constexpr std::string_view kMissing = "-";
// Longest entity append_escaped() writes: "&amp;".
constexpr std::size_t kMaxEntityBytes = 5;
// Block Kit limits: a section's text, a field's text, a header's plain
// text. Users report msg_blocks_too_long well below the documented totals,
// so all sections of a message share a conservative total.
constexpr std::size_t kMaxSectionChars = 3000;
constexpr std::size_t kMaxFieldChars = 2000;
constexpr std::size_t kMaxHeaderChars = 150;
constexpr std::size_t kMaxBlocksChars = 12000;
// Each alert of a digest keeps at least this many characters, even when
// that makes the whole text reach the limit and be cut at the end.
constexpr std::size_t kMinDigestAlertChars = 80;

std::string_view trim(std::string_view text) {
  const std::size_t first = text.find_first_not_of(" \t");
  if (first == std::string_view::npos) {
    return {};
  }
  const std::size_t last = text.find_last_not_of(" \t");
  return text.substr(first, last - first + 1);
}

bool is_continuation_byte(char byte) { return (static_cast<unsigned char>(byte) & 0xC0) == 0x80; }

// Byte offset of the end of the first `chars` code points of `text`.
std::size_t prefix_bytes(std::string_view text, std::size_t chars) {
  std::size_t seen = 0;
  for (std::size_t pos = 0; pos < text.size(); ++pos) {
    if (!is_continuation_byte(text[pos])) {
      if (seen == chars) {
        return pos;
      }
      ++seen;
    }
  }
  return text.size();
}

// Plain text of a JSON value: strings as they are, arrays as their items
// joined by ", ", other values as compact JSON.
void append_plain(const json::Value& value, std::string& out) {
  switch (value.type()) {
    case json::Type::String:
      out += value.as_string();
      return;
    case json::Type::Array: {
      bool first = true;
      for (const json::Value& item : value.items()) {
        if (!first) {
          out += ", ";
        }
        append_plain(item, out);
        first = false;
      }
      return;
    }
    case json::Type::Null:
      out += kMissing;
      return;
    default:
      json::write(value, out);
  }
}

std::string plain(const json::Value* value) {
  std::string text;
  if (value == nullptr) {
    return std::string(kMissing);
  }
  append_plain(*value, text);
  return text.empty() ? std::string(kMissing) : text;
}

std::string severity_of(const json::Value& alert) {
  for (std::string_view key : {"Severity", "threat_level"}) {
    if (const json::Value* value = alert.find(key); value != nullptr && value->is_string()) {
      return value->as_string();
    }
  }
  // Slips writes the threat level into IDEA0's Note as a JSON document in a string.
  if (const json::Value* note = alert.find("Note"); note != nullptr && note->is_string()) {
    const json::ParseResult parsed = json::parse(note->as_string());
    if (parsed.value) {
      if (const json::Value* level = parsed.value->find("threat_level"); level != nullptr && level->is_string()) {
        return level->as_string();
      }
    }
  }
  return std::string(kMissing);
}

const json::Value* first_item(const json::Value* value) {
  if (value != nullptr && value->is_array()) {
    return value->items().empty() ? nullptr : &value->items().front();
  }
  return value;
}

// "198.51.100.7:22", "[2001:db8::7]:22" or a host name, from an IDEA0
// Source or Target entry (IP4/IP6 lists) or an IDMEFv2 one (IP string).
std::string endpoint_of(const json::Value& alert, std::string_view member) {
  const json::Value* entry = first_item(alert.find(member));
  if (entry == nullptr || !entry->is_object()) {
    return std::string(kMissing);
  }
  const json::Value* address = nullptr;
  for (std::string_view key : {"IP4", "IP6", "IP", "Hostname", "URL", "Email"}) {
    address = first_item(entry->find(key));
    if (address != nullptr && address->is_string()) {
      break;
    }
    address = nullptr;
  }
  if (address == nullptr) {
    return std::string(kMissing);
  }
  std::string text = address->as_string();
  const json::Value* port = first_item(entry->find("Port"));
  if (port != nullptr && port->is_number()) {
    const bool ipv6 = text.find(':') != std::string::npos;
    text = ipv6 ? fmt::format("[{}]:{}", text, port->number_text()) : fmt::format("{}:{}", text, port->number_text());
  }
  return text;
}

std::string escaped(std::string_view text) {
  std::string out;
  append_escaped(text, out);
  return out;
}

void append_mrkdwn_object(std::string_view text, std::string& out) {
  out += R"({"type":"mrkdwn","text":)";
  json::append_quoted(text, out);
  out += '}';
}

// A header block of plain text, which Slack shows without formatting, so
// it needs no escaping.
void append_header_block(std::string_view text, std::string& out) {
  out += R"({"type":"header","text":{"type":"plain_text","text":)";
  json::append_quoted(truncate_text(text, kMaxHeaderChars, ""), out);
  out += "}}";
}

void append_section_block(std::string_view mrkdwn, std::string& out) {
  out += R"({"type":"section","text":)";
  append_mrkdwn_object(mrkdwn, out);
  out += '}';
}

void append_fields_block(const AlertSummary& summary, std::string& out) {
  const std::pair<std::string_view, const std::string*> fields[] = {
      {"Severity", &summary.severity},
      {"Category", &summary.category},
      {"Source", &summary.source},
      {"Target", &summary.target},
  };
  out += R"({"type":"section","fields":[)";
  bool first = true;
  for (const auto& [label, value] : fields) {
    if (!first) {
      out += ',';
    }
    append_mrkdwn_object(truncate_text(fmt::format("*{}*\n{}", label, escaped(*value)), kMaxFieldChars, summary.id),
                         out);
    first = false;
  }
  out += "]}";
}

void append_context_block(std::string_view mrkdwn, std::string& out) {
  out += R"({"type":"context","elements":[)";
  append_mrkdwn_object(mrkdwn, out);
  out += "]}";
}

SlackMessage build_single(const json::Value& alert, const MessageTemplate& message_template,
                          const MessageSettings& settings) {
  const AlertSummary summary = summarize_alert(alert);
  const std::string rendered = message_template.render(alert, settings.context);
  SlackMessage message{truncate_text(rendered, settings.max_text_chars, summary.id), {}};
  if (settings.layout == Layout::Text) {
    return message;
  }

  std::string& blocks = message.blocks_json;
  blocks += '[';
  append_header_block(fmt::format("Slips alert: {} {}", summary.severity, summary.category), blocks);
  blocks += ',';
  append_section_block(truncate_text(rendered, kMaxSectionChars, summary.id), blocks);
  blocks += ',';
  append_fields_block(summary, blocks);
  blocks += ',';
  append_context_block(fmt::format("sensor {} | alert {}", escaped(settings.context.sensor_name), escaped(summary.id)),
                       blocks);
  blocks += ']';
  return message;
}

SlackMessage build_digest(const std::vector<const json::Value*>& alerts, const MessageTemplate& message_template,
                          const MessageSettings& settings) {
  const std::string heading =
      fmt::format("*{} Slips alerts* from {}", alerts.size(), escaped(settings.context.sensor_name));
  const std::size_t used = count_code_points(heading) + alerts.size();  // one line break per alert
  const std::size_t text_share =
      std::max(kMinDigestAlertChars, settings.max_text_chars > used ? (settings.max_text_chars - used) / alerts.size() : 0);
  const std::size_t section_share = std::min(kMaxSectionChars, kMaxBlocksChars / alerts.size());

  SlackMessage message;
  std::string text = heading;
  std::string& blocks = message.blocks_json;
  if (settings.layout == Layout::Blocks) {
    blocks += '[';
    append_header_block(fmt::format("{} Slips alerts", alerts.size()), blocks);
  }
  for (const json::Value* alert : alerts) {
    const std::string id = summarize_alert(*alert).id;
    const std::string rendered = message_template.render(*alert, settings.context);
    text += '\n';
    text += truncate_text(rendered, text_share, id);
    if (settings.layout == Layout::Blocks) {
      blocks += ',';
      append_section_block(truncate_text(rendered, section_share, id), blocks);
    }
  }
  if (settings.layout == Layout::Blocks) {
    blocks += ',';
    append_context_block(fmt::format("sensor {}", escaped(settings.context.sensor_name)), blocks);
    blocks += ']';
  }
  message.text = truncate_text(text, settings.max_text_chars, summarize_alert(*alerts.front()).id);
  return message;
}

}  // namespace

void append_escaped(std::string_view text, std::string& out) {
  for (char c : text) {
    switch (c) {
      case '&':
        out += "&amp;";
        break;
      case '<':
        out += "&lt;";
        break;
      case '>':
        out += "&gt;";
        break;
      default:
        out += c;
    }
  }
}

std::size_t count_code_points(std::string_view utf8) {
  return static_cast<std::size_t>(std::count_if(utf8.begin(), utf8.end(), [](char c) { return !is_continuation_byte(c); }));
}

std::string truncate_text(std::string_view text, std::size_t max_chars, std::string_view alert_id) {
  const std::size_t total = count_code_points(text);
  if (total <= max_chars) {
    return std::string(text);
  }

  // The marker's own length depends on the count it states; one more
  // digit than needed is harmless, one fewer would overflow the limit.
  const auto marker_for = [&](std::size_t left_out) {
    return alert_id.empty() ? fmt::format(" … [truncated, {} characters left out]", left_out)
                            : fmt::format(" … [truncated, {} characters left out; alert {}]", left_out,
                                          escaped(alert_id));
  };
  const std::size_t marker_chars = count_code_points(marker_for(total));
  const std::size_t keep_chars = max_chars > marker_chars ? max_chars - marker_chars : 0;

  std::size_t cut = prefix_bytes(text, keep_chars);
  // An entity cut in half would show as raw text, or as a stray "&".
  const std::size_t ampersand = text.substr(0, cut).rfind('&');
  if (ampersand != std::string_view::npos && cut - ampersand < kMaxEntityBytes &&
      text.substr(ampersand, cut - ampersand).find(';') == std::string_view::npos) {
    cut = ampersand;
  }
  std::string result(text.substr(0, cut));
  result += marker_for(total - count_code_points(result));
  return result;
}

std::optional<MessageTemplate> MessageTemplate::parse(std::string_view text, std::string& error) {
  MessageTemplate result;
  std::size_t pos = 0;
  while (pos < text.size()) {
    const std::size_t open = text.find(kOpen, pos);
    const std::size_t literal_end = open == std::string_view::npos ? text.size() : open;
    if (literal_end > pos) {
      result.pieces_.push_back(Piece{.literal = std::string(text.substr(pos, literal_end - pos))});
    }
    if (open == std::string_view::npos) {
      break;
    }
    const std::size_t close = text.find(kClose, open + kOpen.size());
    if (close == std::string_view::npos) {
      error = fmt::format("placeholder \"{}\" is not closed with \"}}}}\"", text.substr(open));
      return std::nullopt;
    }
    const std::string_view inner = trim(text.substr(open + kOpen.size(), close - open - kOpen.size()));
    pos = close + kClose.size();

    Piece piece;
    if (inner == "severity") {
      piece.computed = Computed::Severity;
    } else if (inner == "source") {
      piece.computed = Computed::Source;
    } else if (inner == "target") {
      piece.computed = Computed::Target;
    } else if (inner == "sensor_name") {
      piece.computed = Computed::SensorName;
    } else {
      piece.field = filters::FieldTemplate::parse(fmt::format("{{{{ {} }}}}", inner), error);
      if (!piece.field) {
        return std::nullopt;
      }
    }
    result.pieces_.push_back(std::move(piece));
  }
  return result;
}

std::string MessageTemplate::render(const json::Value& alert, const TemplateContext& context) const {
  std::string out;
  filters::MatchCounters ignored;
  for (const Piece& piece : pieces_) {
    switch (piece.computed) {
      case Computed::Severity:
        append_escaped(severity_of(alert), out);
        continue;
      case Computed::Source:
        append_escaped(endpoint_of(alert, "Source"), out);
        continue;
      case Computed::Target:
        append_escaped(endpoint_of(alert, "Target"), out);
        continue;
      case Computed::SensorName:
        append_escaped(context.sensor_name, out);
        continue;
      case Computed::None:
        break;
    }
    if (!piece.field) {
      out += piece.literal;
      continue;
    }
    const std::optional<json::Value> value = piece.field->render(alert, context.now_micros, ignored);
    append_escaped(value ? plain(&*value) : std::string(kMissing), out);
  }
  return out;
}

AlertSummary summarize_alert(const json::Value& alert) {
  AlertSummary summary;
  const json::Value* id = alert.find("ID");
  summary.id = id != nullptr && id->is_string() ? id->as_string() : std::string(kMissing);
  summary.severity = severity_of(alert);
  summary.category = plain(alert.find("Category"));
  summary.source = endpoint_of(alert, "Source");
  summary.target = endpoint_of(alert, "Target");
  return summary;
}

SlackMessage build_message(const std::vector<const json::Value*>& alerts, const MessageTemplate& message_template,
                           const MessageSettings& settings) {
  if (alerts.size() == 1) {
    return build_single(*alerts.front(), message_template, settings);
  }
  return build_digest(alerts, message_template, settings);
}

}  // namespace slipway::outputs::slack
