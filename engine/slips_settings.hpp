// The exporting settings of a Slips configuration file (config/slips.yaml),
// read the way Slips reads them. A missing key gets the parser's default,
// and Slips' quirks apply: a `CESNET` section before Slips 1.1.20,
// `taxii_version` read from its first character, a TAXII URL put together
// from four keys. Every setting a slipway pipeline cannot carry over as it
// was gets a note.
#pragma once

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

namespace slipway::slips {

// A Slips setting that the pipeline cannot carry over as it was, and why.
struct Note {
  std::string setting;  // e.g. "exporting_alerts.push_delay"
  std::string reason;
};

struct SlackExport {
  std::string token_file;  // absolute, or as written when Slips' directory is unknown
  std::string channel;
  std::string sensor_name;
  std::vector<Note> notes;
};

enum class TaxiiVersion { V1, V2 };

// Retry settings of Slips' direct export, in slipway's terms.
struct TaxiiRetry {
  std::int64_t initial_backoff_ms = 500;
  std::int64_t max_backoff_ms = 5000;
  std::int64_t max_retries = 0;  // 0: retry without limit
};

struct TaxiiExport {
  TaxiiVersion version = TaxiiVersion::V2;
  std::string url;  // 2: discovery URL; 1: inbox service URL
  std::string collection;
  std::string user;           // empty: no authentication
  bool has_password = false;  // the value itself is never kept
  std::int64_t timeout_ms = 10'000;
  // Slips' file mode also keeps STIX_data.json; direct mode pushes each
  // evidence through a durable queue with its own retry settings.
  bool direct_export = false;
  std::optional<TaxiiRetry> retry;  // set in direct mode
  std::string sensor_name;          // names the STIX identity
  std::vector<Note> notes;
};

struct WardenExport {
  bool send = false;
  bool receive = false;
  std::string warden_conf;
  std::int64_t poll_interval_ms = 86'400'000;
  std::vector<Note> notes;          // about the connection and sending
  std::vector<Note> receive_notes;  // about receiving
};

enum class FlowFormat { Tsv, Json };

struct LabeledFlowExport {
  FlowFormat format = FlowFormat::Json;
  std::vector<Note> notes;
};

struct ExportSettings {
  std::filesystem::path source;  // the Slips configuration file
  std::optional<SlackExport> slack;
  std::optional<TaxiiExport> taxii;
  std::optional<WardenExport> warden;  // set when sending or receiving
  std::optional<LabeledFlowExport> labeled_flows;
  std::vector<Note> notes;  // about no single exporter
};

// Reads `slips_file`. `warden_conf`, when set, replaces the path in
// cesnet.configuration_file. Returns nothing and sets `error` (naming the
// file) when the file cannot be read or is not a YAML mapping.
std::optional<ExportSettings> read_export_settings(const std::filesystem::path& slips_file,
                                                   const std::optional<std::filesystem::path>& warden_conf,
                                                   std::string& error);

}  // namespace slipway::slips
