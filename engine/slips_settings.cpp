#include "engine/slips_settings.hpp"

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstring>
#include <fstream>
#include <sstream>

#include <fmt/format.h>
#include <yaml-cpp/yaml.h>

#include "engine/slips_section.hpp"
#include "engine/warden_conf_notes.hpp"

namespace slipway::slips {

namespace {

// Values of Slips' shipped config/slips.yaml, used where a key is missing
// and the parser's own default (False) leaves the exporter without a value.
constexpr std::string_view kShippedChannel = "proj_slips_alerting_module";
constexpr std::string_view kShippedSensorName = "sensor1";
constexpr std::string_view kShippedTokenPath = "config/slack_bot_token_secret";
constexpr std::string_view kShippedTaxiiServer = "localhost";
constexpr std::string_view kShippedDiscoveryPath = "/taxii2/";
constexpr std::string_view kShippedCollection = "Alerts";
constexpr std::string_view kShippedWardenConf = "config/warden.conf";
constexpr std::string_view kShippedExportFormat = "json";
// Passwords of Slips' current and older sample configurations.
constexpr std::string_view kShippedPasswords[] = {"changeme_before_installing_a_medallion_server", "admin"};

// Parser defaults that Slips uses when a key is missing.
constexpr double kDefaultTaxiiTimeoutSecs = 10;
constexpr double kDefaultRetryBackoffSecs = 0.5;
constexpr double kDefaultRetryMaxDelaySecs = 5.0;
constexpr std::int64_t kDefaultReceiveDelaySecs = 86'400;

// Slips rejects a TAXII timeout under a second.
constexpr double kMinTaxiiTimeoutSecs = 1;
constexpr std::int64_t kMillisPerSecond = 1000;
// The warden input polls at least once a day.
constexpr std::int64_t kMaxPollIntervalMs = 86'400'000;
constexpr std::int64_t kMaxPort = 65'535;

const std::vector<std::string_view> kExportingKeys = {
    "export_to", "slack_channel_name", "sensor_name", "slack_api_path", "TAXII_server", "port", "use_https",
    "discovery_path", "taxii_version", "collection_name", "push_delay", "direct_export", "direct_export_workers",
    "direct_export_max_workers", "direct_export_retry_max", "direct_export_retry_backoff",
    "direct_export_retry_max_delay", "taxii_username", "taxii_password", "taxii_timeout", "inbox_path",
    "jwt_auth_path"};
const std::vector<std::string_view> kCesnetKeys = {"send_alerts", "receive_alerts", "configuration_file",
                                                   "receive_delay"};

std::string lower_trimmed(std::string_view text) {
  while (!text.empty() && (text.front() == ' ' || text.front() == '\'' || text.front() == '"')) {
    text.remove_prefix(1);
  }
  while (!text.empty() && (text.back() == ' ' || text.back() == '\'' || text.back() == '"')) {
    text.remove_suffix(1);
  }
  std::string lowered(text);
  std::transform(lowered.begin(), lowered.end(), lowered.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return lowered;
}

std::string missing_reason(std::string_view shipped) {
  return fmt::format("missing, so Slips' exporter has no value for it; using {}, the value Slips ships", shipped);
}

std::int64_t to_millis(double seconds) { return std::llround(seconds * kMillisPerSecond); }

// The exporters named in export_to: a YAML list, or the text form older
// configurations used ("[slack, stix]").
std::vector<std::string> export_targets(const Section& exporting, std::vector<Note>& notes) {
  std::vector<std::string> targets;
  const YAML::Node node = exporting.node("export_to");
  if (node.IsSequence()) {
    for (const YAML::Node& item : node) {
      if (item.IsScalar()) {
        targets.push_back(lower_trimmed(item.Scalar()));
      }
    }
  } else if (const std::optional<std::string> text = exporting.text("export_to", notes)) {
    std::string items = *text;
    std::erase(items, '[');
    std::erase(items, ']');
    std::stringstream stream(items);
    for (std::string item; std::getline(stream, item, ',');) {
      if (std::string target = lower_trimmed(item); !target.empty()) {
        targets.push_back(std::move(target));
      }
    }
  }

  std::vector<std::string> known;
  for (const std::string& target : targets) {
    if (target == "slack" || target == "stix") {
      known.push_back(target);
      continue;
    }
    std::string reason = fmt::format("\"{}\" is not an exporter Slips knows (slack, stix); ignored", target);
    if (target == "warden" || target == "cesnet") {
      reason += ". Slips sends to Warden when cesnet.send_alerts is true";
    }
    notes.push_back({exporting.setting("export_to"), std::move(reason)});
  }
  return known;
}

std::string text_or_shipped(const Section& section, std::string_view key, std::string_view shipped,
                            std::vector<Note>& notes) {
  if (std::optional<std::string> value = section.text(key, notes)) {
    return *value;
  }
  notes.push_back({section.setting(key), missing_reason(shipped)});
  return std::string(shipped);
}

SlackExport read_slack(const Section& exporting, const std::filesystem::path& slips_file) {
  SlackExport slack;
  const std::string token_path = text_or_shipped(exporting, "slack_api_path", kShippedTokenPath, slack.notes);
  slack.token_file = resolve_slips_path(token_path, slips_file, exporting.setting("slack_api_path"), slack.notes);
  slack.channel = text_or_shipped(exporting, "slack_channel_name", kShippedChannel, slack.notes);
  slack.sensor_name = text_or_shipped(exporting, "sensor_name", kShippedSensorName, slack.notes);
  return slack;
}

// http(s)://TAXII_server[:port], with the port left out when it is the scheme's own.
std::string taxii_base_url(const Section& exporting, std::vector<Note>& notes) {
  std::string server = text_or_shipped(exporting, "TAXII_server", kShippedTaxiiServer, notes);
  if (server.find("www.") != std::string::npos) {
    std::string stripped = server;
    for (std::size_t at; (at = stripped.find("www.")) != std::string::npos;) {
      stripped.erase(at, 4);
    }
    notes.push_back({exporting.setting("TAXII_server"),
                     fmt::format("Slips removes every \"www.\" from the host name, so it contacted {}; this pipeline "
                                 "uses the host as written, {}",
                                 stripped, server)});
  }

  const bool https = exporting.flag("use_https", notes).value_or(false);
  const std::int64_t scheme_port = https ? 443 : 80;
  std::int64_t port = scheme_port;
  if (const std::optional<double> value = exporting.number("port", notes)) {
    if (*value >= 1 && *value <= kMaxPort && std::floor(*value) == *value) {
      port = static_cast<std::int64_t>(*value);
    } else {
      notes.push_back({exporting.setting("port"), fmt::format("{} is not a TCP port; using {}", *value, scheme_port)});
    }
  }
  std::string base = fmt::format("{}://{}", https ? "https" : "http", server);
  if (port != scheme_port) {
    base += fmt::format(":{}", port);
  }
  return base;
}

void read_taxii_credentials(const Section& exporting, bool https, TaxiiExport& taxii) {
  const std::optional<std::string> user = exporting.text("taxii_username", taxii.notes);
  const std::optional<std::string> password = exporting.text("taxii_password", taxii.notes);
  const bool has_user = user && !user->empty();
  const bool has_password = password && !password->empty();

  if (has_password) {
    std::string reason =
        "not copied, because a pipeline file holds no secrets. Write the password to the file that "
        "auth.password_file names, as its only line, readable by the slipway user alone (chmod 600)";
    if (std::find(std::begin(kShippedPasswords), std::end(kShippedPasswords), *password) !=
        std::end(kShippedPasswords)) {
      reason += ". It is the password of Slips' sample configuration: change it on the TAXII server first";
    }
    taxii.notes.push_back({exporting.setting("taxii_password"), std::move(reason)});
  }
  if (has_user != has_password) {
    taxii.notes.push_back({exporting.setting(has_user ? "taxii_username" : "taxii_password"),
                           "Slips authenticates only when both taxii_username and taxii_password are set, so this "
                           "pipeline sends no credentials"});
    return;
  }
  if (!has_user) {
    return;
  }
  taxii.user = *user;
  taxii.has_password = true;
  if (!https) {
    taxii.notes.push_back({exporting.setting("use_https"),
                           "false, so the password travels unencrypted over http; set use_https (here: an https url) "
                           "when the server offers it"});
  }
}

TaxiiRetry read_direct_retry(const Section& exporting, std::vector<Note>& notes) {
  TaxiiRetry retry;
  const double backoff = exporting.number("direct_export_retry_backoff", notes).value_or(kDefaultRetryBackoffSecs);
  const double max_delay =
      exporting.number("direct_export_retry_max_delay", notes).value_or(kDefaultRetryMaxDelaySecs);
  retry.initial_backoff_ms = std::max<std::int64_t>(1, to_millis(backoff));
  retry.max_backoff_ms = std::max<std::int64_t>(retry.initial_backoff_ms, to_millis(max_delay));

  // Slips gives up after retry_max attempts, which are retry_max - 1 retries.
  const double attempts = exporting.number("direct_export_retry_max", notes).value_or(0);
  if (attempts >= 2) {
    retry.max_retries = static_cast<std::int64_t>(attempts) - 1;
  } else if (attempts >= 1) {
    retry.max_retries = 1;
    notes.push_back({exporting.setting("direct_export_retry_max"),
                     "1 makes Slips try once without retrying; slipway cannot turn retries off, so a failed batch "
                     "is retried once before it is dead-lettered"});
  }

  for (const std::string_view key : {"direct_export_workers", "direct_export_max_workers"}) {
    if (exporting.has(key)) {
      notes.push_back({exporting.setting(key),
                       "not needed: the taxii output sends batches of events on its own thread and retries each "
                       "failed batch with backoff, so there is no worker pool to size"});
    }
  }
  return retry;
}

void note_legacy_taxii_keys(const Section& exporting, std::vector<Note>& notes) {
  if (exporting.has("inbox_path")) {
    notes.push_back({exporting.setting("inbox_path"),
                     "read only by Slips before 1.1.16; later versions post TAXII 1.1 inbox messages to "
                     "/services/inbox, as this pipeline does with taxii_version 1"});
  }
  if (const std::optional<std::string> path = exporting.text("jwt_auth_path", notes); path && !path->empty()) {
    notes.push_back({exporting.setting("jwt_auth_path"),
                     "JWT login was used only by Slips before 1.1.16 and the taxii output has none; get a token "
                     "from the server and use auth strategy bearer with token_file"});
  }
}

TaxiiExport read_taxii(const Section& exporting, const std::string& sensor_name) {
  TaxiiExport taxii;
  taxii.sensor_name = sensor_name;
  const std::optional<std::string> version = exporting.text("taxii_version", taxii.notes);
  taxii.version = version && !version->empty() && version->front() == '1' ? TaxiiVersion::V1 : TaxiiVersion::V2;

  const std::string base = taxii_base_url(exporting, taxii.notes);
  const bool https = base.starts_with("https://");
  if (taxii.version == TaxiiVersion::V1) {
    taxii.url = base + "/services/inbox";
    if (exporting.has("discovery_path")) {
      taxii.notes.push_back({exporting.setting("discovery_path"),
                             "not used with taxii_version 1: Slips posts TAXII 1.1 inbox messages to "
                             "/services/inbox of the server"});
    }
  } else {
    const std::string path = text_or_shipped(exporting, "discovery_path", kShippedDiscoveryPath, taxii.notes);
    if (path.starts_with("http://") || path.starts_with("https://")) {
      taxii.url = path;
    } else {
      taxii.url = base + (path.starts_with('/') ? "" : "/") + path;
    }
  }
  taxii.collection = text_or_shipped(exporting, "collection_name", kShippedCollection, taxii.notes);
  read_taxii_credentials(exporting, https, taxii);

  double timeout = exporting.number("taxii_timeout", taxii.notes).value_or(kDefaultTaxiiTimeoutSecs);
  if (timeout < kMinTaxiiTimeoutSecs) {
    taxii.notes.push_back({exporting.setting("taxii_timeout"),
                           fmt::format("{} is below the 1 second Slips accepts; using 1 second", timeout)});
    timeout = kMinTaxiiTimeoutSecs;
  }
  taxii.timeout_ms = to_millis(timeout);

  const std::optional<bool> direct = exporting.flag("direct_export", taxii.notes);
  taxii.direct_export = direct.value_or(false) || taxii.version == TaxiiVersion::V1;
  if (!direct && taxii.version == TaxiiVersion::V2) {
    taxii.notes.push_back({exporting.setting("direct_export"),
                           "missing: Slips' parser then uses false (file mode), although its shipped file sets true"});
  }
  if (taxii.direct_export) {
    taxii.retry = read_direct_retry(exporting, taxii.notes);
  } else {
    taxii.notes.push_back({exporting.setting("push_delay"),
                           "not needed: Slips pushed again every push_delay seconds what had failed, while the taxii "
                           "output retries each failed batch with backoff (retry)"});
  }
  note_legacy_taxii_keys(exporting, taxii.notes);
  return taxii;
}

// The cesnet section, named CESNET before Slips 1.1.20.
Section cesnet_section(const YAML::Node& root, std::vector<Note>& notes) {
  const Section current(root["cesnet"], "cesnet");
  const Section legacy(root["CESNET"], "CESNET");
  if (legacy.exists() && current.exists()) {
    notes.push_back({"CESNET", "ignored: the file also has a cesnet section, which Slips 1.1.20 and later read instead"});
  } else if (legacy.exists()) {
    notes.push_back({"CESNET", "Slips 1.1.20 and later read this section only when it is named cesnet and ignore "
                               "CESNET; it is read here for the Slips versions before that"});
    return legacy;
  }
  return current;
}

std::optional<WardenExport> read_warden(const YAML::Node& root, const std::filesystem::path& slips_file,
                                        const std::optional<std::filesystem::path>& warden_conf,
                                        std::vector<Note>& notes) {
  const Section cesnet = cesnet_section(root, notes);
  cesnet.note_unknown_keys(kCesnetKeys, "Slips' CESNET module", notes);
  WardenExport warden;
  warden.send = cesnet.flag("send_alerts", notes).value_or(false);
  warden.receive = cesnet.flag("receive_alerts", notes).value_or(false);
  if (!warden.send && !warden.receive) {
    return std::nullopt;
  }

  if (warden_conf) {
    warden.warden_conf = std::filesystem::absolute(*warden_conf).lexically_normal().string();
  } else {
    const std::string path = text_or_shipped(cesnet, "configuration_file", kShippedWardenConf, warden.notes);
    warden.warden_conf = resolve_slips_path(path, slips_file, cesnet.setting("configuration_file"), warden.notes);
  }
  note_warden_conf(warden.warden_conf, warden.notes);

  std::int64_t delay_secs = kDefaultReceiveDelaySecs;
  if (const std::optional<double> delay = cesnet.number("receive_delay", warden.receive_notes)) {
    delay_secs = std::max<std::int64_t>(1, std::llround(*delay));
  }
  warden.poll_interval_ms = delay_secs * kMillisPerSecond;
  if (warden.poll_interval_ms > kMaxPollIntervalMs) {
    warden.receive_notes.push_back(
        {cesnet.setting("receive_delay"),
         fmt::format("{} s is longer than the warden input's longest poll interval; polling once a day", delay_secs)});
    warden.poll_interval_ms = kMaxPollIntervalMs;
  }
  return warden;
}

std::optional<LabeledFlowExport> read_labeled_flows(const YAML::Node& root) {
  const Section parameters(root["parameters"], "parameters");
  LabeledFlowExport export_settings;
  if (!parameters.flag("export_labeled_flows", export_settings.notes).value_or(false)) {
    return std::nullopt;
  }
  // Slips picks the format by substring, case-insensitively, TSV first.
  const std::string format = lower_trimmed(
      text_or_shipped(parameters, "export_format", kShippedExportFormat, export_settings.notes));
  if (format.find("tsv") != std::string::npos) {
    export_settings.format = FlowFormat::Tsv;
  } else if (format.find("json") == std::string::npos) {
    export_settings.notes.push_back(
        {parameters.setting("export_format"),
         fmt::format("\"{}\" names neither tsv nor json, so Slips writes nothing; this pipeline writes json", format)});
  }
  return export_settings;
}

std::optional<std::string> read_text(const std::filesystem::path& file, std::string& error) {
  std::ifstream stream(file, std::ios::binary);
  if (!stream) {
    error = fmt::format("{}: cannot be read: {}; check the path and permissions", file.string(),
                        std::strerror(errno));
    return std::nullopt;
  }
  std::ostringstream content;
  content << stream.rdbuf();
  return content.str();
}

// Slips configurations before the YAML file were INI files with [section] lines.
bool looks_like_ini(std::string_view text) {
  std::istringstream stream{std::string(text)};
  for (std::string line; std::getline(stream, line);) {
    if (line.empty() || line.front() == '#' || line.front() == ';') {
      continue;
    }
    return line.front() == '[' && line.find(']') != std::string::npos && line.find(',') == std::string::npos;
  }
  return false;
}

std::optional<YAML::Node> parse_yaml(const std::string& text, const std::filesystem::path& file, std::string& error) {
  const std::string ini_hint =
      looks_like_ini(text) ? " This looks like the INI slips.conf of older Slips versions; convert-slips reads the "
                             "YAML config/slips.yaml."
                           : "";
  YAML::Node root;
  try {
    root = YAML::Load(text);
  } catch (const YAML::Exception& exception) {
    error = fmt::format("{}:{}:{}: invalid YAML: {}.{}", file.string(), exception.mark.line + 1,
                        exception.mark.column + 1, exception.msg, ini_hint);
    return std::nullopt;
  }
  if (!root.IsMap()) {
    error = fmt::format("{}: not a Slips configuration: expected a YAML mapping with sections such as "
                        "exporting_alerts and cesnet.{}",
                        file.string(), ini_hint);
    return std::nullopt;
  }
  return root;
}

}  // namespace

std::optional<ExportSettings> read_export_settings(const std::filesystem::path& slips_file,
                                                   const std::optional<std::filesystem::path>& warden_conf,
                                                   std::string& error) {
  const std::optional<std::string> text = read_text(slips_file, error);
  if (!text) {
    return std::nullopt;
  }
  const std::optional<YAML::Node> root = parse_yaml(*text, slips_file, error);
  if (!root) {
    return std::nullopt;
  }

  ExportSettings settings;
  settings.source = slips_file;
  const Section exporting((*root)["exporting_alerts"], "exporting_alerts");
  exporting.note_unknown_keys(kExportingKeys, "Slips' exporting module", settings.notes);

  const std::vector<std::string> targets = export_targets(exporting, settings.notes);
  const auto enabled = [&targets](std::string_view name) {
    return std::find(targets.begin(), targets.end(), name) != targets.end();
  };
  std::string sensor_name;
  if (enabled("slack")) {
    settings.slack = read_slack(exporting, slips_file);
    sensor_name = settings.slack->sensor_name;
  }
  if (enabled("stix")) {
    std::vector<Note> ignored;
    if (sensor_name.empty()) {
      sensor_name = exporting.text("sensor_name", ignored).value_or(std::string(kShippedSensorName));
    }
    settings.taxii = read_taxii(exporting, sensor_name);
  }
  settings.warden = read_warden(*root, slips_file, warden_conf, settings.notes);
  settings.labeled_flows = read_labeled_flows(*root);
  return settings;
}

}  // namespace slipway::slips
