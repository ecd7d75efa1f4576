// Numbered alerts for delivery tests, counting their IDs at a destination,
// and reading a running slipway's /metrics.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <string_view>

namespace slipway::testing {

// One IDEA0 alert line, newline included, whose ID ends in `number`.
// `padding` adds that many bytes to its Description.
std::string numbered_alert(std::uint64_t number, std::size_t padding = 0);
// Appends alerts `first`..`last` to `path` in one write.
void append_numbered_alerts(const std::filesystem::path& path, std::uint64_t first, std::uint64_t last,
                            std::size_t padding = 0);
// The number in the ID of an alert made by numbered_alert(), when `text`
// contains one.
std::optional<std::uint64_t> alert_number(std::string_view text);

// How often each alert number occurs in a JSON-lines text or file.
using AlertCounts = std::map<std::uint64_t, std::uint32_t>;
void count_alerts(std::string_view json_lines, AlertCounts& counts);
AlertCounts count_alerts_in_file(const std::filesystem::path& path);

// Alerts of 1..`last` missing from `counts`, and occurrences beyond the first.
std::uint64_t missing_alerts(const AlertCounts& counts, std::uint64_t last);
std::uint64_t duplicate_alerts(const AlertCounts& counts);

// The largest byte offset among the checkpoints input `component_id`
// committed in data_dir/checkpoints.db; 0 when there is none.
std::uint64_t committed_input_offset(const std::filesystem::path& data_dir, const std::string& component_id);

// The number of the alert on the last whole line of a file.
std::optional<std::uint64_t> last_alert_number(const std::filesystem::path& path);

// The port slipway's /metrics listens on, from its log; empty until logged.
std::optional<int> api_port_from_log(const std::filesystem::path& stderr_path);
// The value of `metric` for `component_id` from GET /metrics; empty when
// the endpoint or the series is not there.
std::optional<double> scrape_metric(int port, std::string_view metric, std::string_view component_id);

// Peak resident set size of a running process in KiB (VmHWM), from /proc.
std::optional<std::uint64_t> peak_rss_kib(pid_t pid);

}  // namespace slipway::testing
