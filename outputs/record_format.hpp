// The record formats of file-like outputs: `json` (the event's JSON, one per
// line), `alerts_log` (the human-readable line Slips writes to alerts.log)
// or `tsv` (chosen fields separated by tabs, one row per line).
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "engine/event.hpp"
#include "outputs/column_records.hpp"

namespace slipway::outputs {

enum class RecordFormat { Json, AlertsLog, Tsv };

// The formats that need nothing but their name.
inline const std::vector<std::string> kRecordFormatNames = {"json", "alerts_log"};
// The formats of outputs that also take columns.
inline const std::vector<std::string> kColumnRecordFormatNames = {"json", "alerts_log", "tsv"};

RecordFormat parse_record_format(std::string_view name);

// Appends the batch's events to `out`, each followed by a newline.
// Requires a format from kRecordFormatNames.
void append_records(const Batch& batch, RecordFormat format, std::string& out);

enum class LineEnding { Lf, CrLf };

struct RecordLayout {
  RecordFormat format = RecordFormat::Json;
  // Field paths, required for tsv. With json, each record becomes an object
  // with just these members, and empty means the whole event.
  std::vector<std::string> columns;
  bool header = true;  // tsv: the column paths as the first row of a file
  TsvEscape escape = TsvEscape::Backslash;
  LineEnding line_ending = LineEnding::Lf;
};

// Writes records in one layout. Holds scratch buffers, so each output
// thread owns its writer.
class RecordWriter {
 public:
  explicit RecordWriter(RecordLayout layout);

  // Appends the batch's events to `out`, each followed by the line ending.
  void append(const Batch& batch, std::string& out);
  // The header row with its line ending, for a file that is still empty.
  // Empty when the layout has none.
  std::string header() const;

 private:
  RecordLayout layout_;
  std::optional<ColumnRecords> columns_;
};

// Appends one alerts.log line (without the newline) for an IDEA0 record.
void append_alerts_log_line(std::string_view json_text, std::string& out);

// Writes all of `data` to `fd`, retrying short writes and EINTR; returns
// errno on failure, 0 on success.
int write_fully(int fd, std::string_view data);

}  // namespace slipway::outputs
