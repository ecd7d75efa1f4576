#include "tests/support/alert_files.hpp"

#include <charconv>
#include <fstream>
#include <sstream>

#include <fmt/format.h>
#include <httplib.h>
#include <sqlite3.h>

#include "tests/support/temp_dir.hpp"

namespace slipway::testing {

namespace {

constexpr std::string_view kIdPrefix = "00000099-0000-4000-8000-";
constexpr std::size_t kIdDigits = 12;

}  // namespace

std::string numbered_alert(std::uint64_t number, std::size_t padding) {
  return fmt::format(
      R"({{"Format": "IDEA0", "ID": "{}{:012d}", "DetectTime": "2024-04-09T10:00:00Z", )"
      R"("Category": ["Recon.Scanning"], "Source": [{{"IP4": ["192.0.2.10"]}}], "Description": "record {}{}"}})"
      "\n",
      kIdPrefix, number, number, std::string(padding, 'p'));
}

void append_numbered_alerts(const std::filesystem::path& path, std::uint64_t first, std::uint64_t last,
                            std::size_t padding) {
  std::string content;
  for (std::uint64_t number = first; number <= last; ++number) {
    content += numbered_alert(number, padding);
  }
  append_file(path, content);
}

std::optional<std::uint64_t> alert_number(std::string_view text) {
  const std::size_t found = text.find(kIdPrefix);
  if (found == std::string_view::npos || found + kIdPrefix.size() + kIdDigits > text.size()) {
    return std::nullopt;
  }
  const char* digits = text.data() + found + kIdPrefix.size();
  std::uint64_t number = 0;
  const auto [end, error] = std::from_chars(digits, digits + kIdDigits, number);
  if (error != std::errc() || end != digits + kIdDigits) {
    return std::nullopt;
  }
  return number;
}

void count_alerts(std::string_view json_lines, AlertCounts& counts) {
  while (!json_lines.empty()) {
    const std::size_t end = json_lines.find('\n');
    const std::string_view line = json_lines.substr(0, end);
    if (const auto number = alert_number(line)) {
      ++counts[*number];
    }
    if (end == std::string_view::npos) {
      break;
    }
    json_lines.remove_prefix(end + 1);
  }
}

AlertCounts count_alerts_in_file(const std::filesystem::path& path) {
  AlertCounts counts;
  if (std::filesystem::exists(path)) {
    count_alerts(read_file(path), counts);
  }
  return counts;
}

std::uint64_t missing_alerts(const AlertCounts& counts, std::uint64_t last) {
  std::uint64_t missing = 0;
  for (std::uint64_t number = 1; number <= last; ++number) {
    if (!counts.contains(number)) {
      ++missing;
    }
  }
  return missing;
}

std::uint64_t duplicate_alerts(const AlertCounts& counts) {
  std::uint64_t duplicates = 0;
  for (const auto& [number, count] : counts) {
    duplicates += count - 1;
  }
  return duplicates;
}

// The largest byte offset among the checkpoints `component_id` committed, 0 when none.
std::uint64_t committed_input_offset(const std::filesystem::path& data_dir, const std::string& component_id) {
  sqlite3* database = nullptr;
  std::uint64_t offset = 0;
  const std::string path = (data_dir / "checkpoints.db").string();
  if (sqlite3_open_v2(path.c_str(), &database, SQLITE_OPEN_READONLY, nullptr) == SQLITE_OK) {
    sqlite3_stmt* statement = nullptr;
    if (sqlite3_prepare_v2(database, "SELECT value FROM checkpoints WHERE component_id = ?", -1, &statement,
                           nullptr) == SQLITE_OK) {
      sqlite3_bind_text(statement, 1, component_id.c_str(), -1, SQLITE_TRANSIENT);
      while (sqlite3_step(statement) == SQLITE_ROW) {
        const std::string value = reinterpret_cast<const char*>(sqlite3_column_text(statement, 0));
        offset = std::max<std::uint64_t>(offset, std::stoull(value.substr(0, value.find(':'))));
      }
    }
    sqlite3_finalize(statement);
  }
  sqlite3_close(database);
  return offset;
}

std::optional<std::uint64_t> last_alert_number(const std::filesystem::path& path) {
  constexpr std::uintmax_t kTailBytes = 4096;
  std::error_code error;
  const std::uintmax_t size = std::filesystem::file_size(path, error);
  if (error || size == 0) {
    return std::nullopt;
  }
  std::ifstream stream(path, std::ios::binary);
  const std::uintmax_t start = size > kTailBytes ? size - kTailBytes : 0;
  stream.seekg(static_cast<std::streamoff>(start));
  std::string tail(static_cast<std::size_t>(size - start), '\0');
  stream.read(tail.data(), static_cast<std::streamsize>(tail.size()));
  const std::size_t last_line = tail.rfind('\n', tail.size() >= 2 ? tail.size() - 2 : 0);
  return alert_number(std::string_view(tail).substr(last_line == std::string::npos ? 0 : last_line + 1));
}

std::optional<int> api_port_from_log(const std::filesystem::path& stderr_path) {
  const std::string log = read_file(stderr_path);
  const std::size_t line = log.find("Serving /metrics and /health.");
  if (line == std::string::npos) {
    return std::nullopt;
  }
  const std::size_t port = log.find(" port=", line);
  if (port == std::string::npos) {
    return std::nullopt;
  }
  return std::stoi(log.substr(port + 6));
}

std::optional<double> scrape_metric(int port, std::string_view metric, std::string_view component_id) {
  httplib::Client client("127.0.0.1", port);
  client.set_connection_timeout(std::chrono::seconds(2));
  const httplib::Result response = client.Get("/metrics");
  if (!response || response->status != 200) {
    return std::nullopt;
  }
  const std::string series = fmt::format("{}{{component_id=\"{}\"", metric, component_id);
  std::istringstream lines(response->body);
  std::string line;
  while (std::getline(lines, line)) {
    if (line.starts_with(series)) {
      return std::stod(line.substr(line.rfind(' ') + 1));
    }
  }
  return std::nullopt;
}

std::optional<std::uint64_t> peak_rss_kib(pid_t pid) {
  std::ifstream status(fmt::format("/proc/{}/status", pid));
  std::string line;
  while (std::getline(status, line)) {
    if (line.starts_with("VmHWM:")) {
      return std::stoull(line.substr(6));
    }
  }
  return std::nullopt;
}

}  // namespace slipway::testing
