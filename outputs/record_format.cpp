#include "outputs/record_format.hpp"

#include <unistd.h>

#include <cerrno>

#include <fmt/format.h>

#include "engine/json.hpp"

namespace slipway::outputs {

namespace {

// Slips left-aligns the source address in a field this wide.
constexpr std::size_t kAddressFieldWidth = 26;

const json::Value* first_item(const json::Value* list) {
  if (list == nullptr || !list->is_array() || list->items().empty()) {
    return nullptr;
  }
  return &list->items().front();
}

std::string text_of(const json::Value* value) {
  if (value == nullptr) {
    return {};
  }
  if (value->is_string()) {
    return value->as_string();
  }
  if (value->is_number()) {
    return value->number_text();
  }
  return {};
}

std::string source_address(const json::Value& record) {
  const json::Value* source = first_item(record.find("Source"));
  if (source == nullptr) {
    return "-";
  }
  for (const char* key : {"IP4", "IP6", "Hostname", "URL"}) {
    if (const json::Value* value = first_item(source->find(key))) {
      return text_of(value);
    }
  }
  return "-";
}

// Slips-specific values that the normalizer keeps beside the IDEA keys.
const json::Value* slips_value(const json::Value& record, std::string_view key) {
  for (const char* container : {"Slips", "_slips", "slips"}) {
    if (const json::Value* extras = record.find(container); extras != nullptr && extras->is_object()) {
      if (const json::Value* value = extras->find(key)) {
        return value;
      }
    }
  }
  return record.find(key);
}

std::string description_of(const json::Value& record) {
  if (const json::Value* description = record.find("Description"); description != nullptr) {
    return text_of(description);
  }
  if (const json::Value* attachment = first_item(record.find("Attach"))) {
    return text_of(attachment->find("Content"));
  }
  return {};
}

}  // namespace

RecordFormat parse_record_format(std::string_view name) {
  return name == "alerts_log" ? RecordFormat::AlertsLog : RecordFormat::Json;
}

void append_alerts_log_line(std::string_view json_text, std::string& out) {
  json::ParseResult parsed = json::parse(json_text);
  if (!parsed.value || !parsed.value->is_object()) {
    json::append_sanitized_utf8(json_text, out);
    return;
  }
  const json::Value& record = *parsed.value;

  std::string time = text_of(record.find("EventTime"));
  if (time.empty()) {
    time = text_of(record.find("DetectTime"));
  }
  const std::string address = source_address(record);
  const std::string padded = address.size() < kAddressFieldWidth
                                 ? address + std::string(kAddressFieldWidth - address.size(), ' ')
                                 : address;
  const std::string timewindow = text_of(slips_value(record, "timewindow"));
  const std::string status = text_of(record.find("Status"));

  std::string line = time;
  if (status == "Incident" || text_of(record.find("Format")) == "Json") {
    fmt::format_to(std::back_inserter(line), ": Src IP {}. Generated an alert given enough evidence", padded);
    line += timewindow.empty() ? "." : fmt::format(" on timewindow {}.", timewindow);
  } else {
    if (!timewindow.empty()) {
      fmt::format_to(std::back_inserter(line), " (TW {})", timewindow);
    }
    fmt::format_to(std::back_inserter(line), ": Src IP {}. Detected {}", padded, description_of(record));
    const std::string threat_level = text_of(slips_value(record, "threat_level"));
    if (!threat_level.empty()) {
      fmt::format_to(std::back_inserter(line), " Threat level: {}.", threat_level);
    }
    line += ' ';
  }

  // The line is text for people, but a control character in a value must
  // not split it into two lines.
  for (char& character : line) {
    if (character == '\n' || character == '\r') {
      character = ' ';
    }
  }
  json::append_sanitized_utf8(line, out);
}

void append_records(const Batch& batch, RecordFormat format, std::string& out) {
  for (const Event& event : batch.events) {
    if (format == RecordFormat::Json) {
      out += event.json;
    } else {
      append_alerts_log_line(event.json, out);
    }
    out += '\n';
  }
}

int write_fully(int fd, std::string_view data) {
  while (!data.empty()) {
    const ssize_t written = ::write(fd, data.data(), data.size());
    if (written < 0) {
      if (errno == EINTR) {
        continue;
      }
      return errno;
    }
    data.remove_prefix(static_cast<std::size_t>(written));
  }
  return 0;
}

}  // namespace slipway::outputs
