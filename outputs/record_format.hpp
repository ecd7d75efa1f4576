// How file-like outputs write a record: `json` (the event's JSON, one per
// line) or `alerts_log` (the human-readable line Slips writes to alerts.log).
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "engine/event.hpp"

namespace slipway::outputs {

enum class RecordFormat { Json, AlertsLog };

inline const std::vector<std::string> kRecordFormatNames = {"json", "alerts_log"};

RecordFormat parse_record_format(std::string_view name);

// Appends the batch's events to `out`, each followed by a newline.
void append_records(const Batch& batch, RecordFormat format, std::string& out);

// Appends one alerts.log line (without the newline) for an IDEA0 record.
void append_alerts_log_line(std::string_view json_text, std::string& out);

// Writes all of `data` to `fd`, retrying short writes and EINTR; returns
// errno on failure, 0 on success.
int write_fully(int fd, std::string_view data);

}  // namespace slipway::outputs
