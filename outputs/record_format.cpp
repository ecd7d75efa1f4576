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

// Slips' own values: in the `_Slips` member that idea_normalize writes
// (e.g. "TimeWindow"), or as the top-level extras of Slips' legacy lines
// (e.g. "timewindow").
const json::Value* slips_value(const json::Value& record, std::string_view normalized_key,
                               std::string_view legacy_key) {
  if (const json::Value* extras = record.find("_Slips"); extras != nullptr && extras->is_object()) {
    if (const json::Value* value = extras->find(normalized_key)) {
      return value;
    }
  }
  return record.find(legacy_key);
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
  if (name == "tsv") {
    return RecordFormat::Tsv;
  }
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
  const std::string timewindow = text_of(slips_value(record, "TimeWindow", "timewindow"));
  const bool is_alert = text_of(slips_value(record, "Kind", "Kind")) == "alert" ||
                        text_of(record.find("Status")) == "Incident" || text_of(record.find("Format")) == "Json";

  std::string line = time;
  if (is_alert) {
    fmt::format_to(std::back_inserter(line), ": Src IP {}. Generated an alert given enough evidence", padded);
    line += timewindow.empty() ? "." : fmt::format(" on timewindow {}.", timewindow);
  } else {
    if (!timewindow.empty()) {
      fmt::format_to(std::back_inserter(line), " (TW {})", timewindow);
    }
    fmt::format_to(std::back_inserter(line), ": Src IP {}. Detected {}", padded, description_of(record));
    const std::string threat_level = text_of(slips_value(record, "ThreatLevel", "threat_level"));
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

RecordWriter::RecordWriter(RecordLayout layout) : layout_(std::move(layout)) {
  if (!layout_.columns.empty() && layout_.format != RecordFormat::AlertsLog) {
    columns_.emplace(layout_.columns);
  }
}

void RecordWriter::append(const Batch& batch, std::string& out) {
  const std::string_view line_ending = layout_.line_ending == LineEnding::CrLf ? "\r\n" : "\n";
  for (const Event& event : batch.events) {
    if (layout_.format == RecordFormat::Tsv && columns_) {
      columns_->append_tsv_row(event.json, layout_.escape, out);
    } else if (layout_.format == RecordFormat::Json && columns_) {
      columns_->append_json_object(event.json, out);
    } else if (layout_.format == RecordFormat::AlertsLog) {
      append_alerts_log_line(event.json, out);
    } else {
      out += event.json;
    }
    out += line_ending;
  }
}

std::string RecordWriter::header() const {
  std::string row;
  if (layout_.format != RecordFormat::Tsv || !layout_.header || !columns_) {
    return row;
  }
  columns_->append_tsv_header(layout_.escape, row);
  row += layout_.line_ending == LineEnding::CrLf ? "\r\n" : "\n";
  return row;
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
