#include "engine/convert_slips.hpp"

#include <cstdio>
#include <vector>

#include <fmt/format.h>

#include "engine/commands.hpp"
#include "engine/yaml_text.hpp"

namespace slipway::convert_slips {

namespace {

using slips::ExportSettings;
using slips::Note;

// Component ids of the generated pipeline.
constexpr std::string_view kAlertsInput = "slips_alerts";
constexpr std::string_view kWardenInput = "warden_events";
constexpr std::string_view kFlowsInput = "flows_db";
constexpr std::string_view kIdeaFilter = "idea";
constexpr std::string_view kWardenFilter = "no_info_evidence";
constexpr std::string_view kStixFilter = "to_stix";

// Categories Slips' CESNET module requests from the Warden server.
const std::vector<std::string> kWardenCategories = {"Availability", "Abusive.Spam", "Attempt.Login",
                                                    "Attempt",      "Information",  "Fraud.Scam"};
const std::vector<std::string> kFlowColumns = {"uid", "flow", "label", "profileid", "twid", "aid"};

void write_notes(YamlText& out, const std::vector<Note>& notes) {
  for (const Note& note : notes) {
    out.note(note.setting, note.reason);
  }
}

std::vector<std::string> ids(std::initializer_list<std::string_view> names) {
  return {names.begin(), names.end()};
}

void write_header(YamlText& out, const ExportSettings& settings) {
  out.comment(fmt::format("Converted by `slipway convert-slips` from the exporting settings of {}. Read every "
                          "NOTE, then check the pipeline and start it:",
                          std::filesystem::absolute(settings.source).lexically_normal().string()));
  out.comment("  slipway validate pipeline.yaml");
  out.comment("  SLIPS_OUTPUT=/opt/Slips/output/my_run slipway run pipeline.yaml");
  out.comment("Slips writes each run into a new directory under output/ unless it runs with -o DIR: run it with "
              "-o and set SLIPS_OUTPUT to that directory.");
  if (!settings.slack && !settings.taxii && !settings.warden && !settings.labeled_flows) {
    out.comment("Slips exports nothing with these settings (export_to is empty, cesnet sends and receives nothing, "
                "export_labeled_flows is off), so this pipeline only archives the alerts.");
  }
  write_notes(out, settings.notes);
  out.interpolated("data_dir", "${SLIPWAY_DATA_DIR:-/var/lib/slipway}");
}

void write_inputs(YamlText& out, const ExportSettings& settings) {
  out.blank_line();
  out.open("inputs");
  out.open(kAlertsInput);
  out.string("type", "file");
  out.comment("Slips 1.1.20 and later write alerts/alerts.json; earlier versions alerts.json.");
  out.strings("paths", {"${SLIPS_OUTPUT}/alerts.json", "${SLIPS_OUTPUT}/alerts/alerts.json"}, true);
  out.string("start_at", "beginning");
  out.interpolated("exit_at_eof", "${SLIPWAY_EXIT_AT_EOF:-false}");
  out.close();

  if (settings.warden && settings.warden->receive) {
    out.blank_line();
    if (!settings.warden->send) {
      write_notes(out, settings.warden->notes);
    }
    out.note("cesnet.receive_alerts",
             "Slips stores the source addresses of received events in its Redis cache (IoC_ips) for its "
             "threat-intelligence module. The pipeline has no output for that cache, so the received IDEA events "
             "are kept in a JSON-lines file (output warden_events_archive).");
    write_notes(out, settings.warden->receive_notes);
    out.open(kWardenInput);
    out.string("type", "warden");
    out.string("warden_conf", settings.warden->warden_conf);
    out.strings("categories", kWardenCategories);
    out.integer("poll_interval_ms", settings.warden->poll_interval_ms);
    out.close();
  }

  if (settings.labeled_flows) {
    out.blank_line();
    write_notes(out, settings.labeled_flows->notes);
    out.note("parameters.export_labeled_flows",
             "Slips exports once, at shutdown, after alerts have relabeled their flows as malicious. The sqlite "
             "input follows flows.sqlite while Slips runs and exports a row when it first reads it, so a later "
             "relabel is missed; for Slips' final labels run this pipeline after Slips stopped, with "
             "SLIPWAY_FLOWS_EXIT_AT_EOF=true and a fresh data_dir.");
    out.open(kFlowsInput);
    out.string("type", "sqlite");
    out.comment("Slips 1.1.20 and later keep flows.sqlite in databases/ of the run directory; earlier versions in "
                "the run directory itself.");
    out.interpolated("path", "${SLIPS_OUTPUT}/databases/flows.sqlite");
    out.strings("tables", {"flows", "altflows"});
    out.comment("Keeps the flow column's JSON text for the flow column of the export.");
    out.string("flow_text_field", "flow");
    out.interpolated("exit_at_eof", "${SLIPWAY_FLOWS_EXIT_AT_EOF:-false}");
    out.close();
  }
  out.close();
}

void write_labeled_flow_filters(YamlText& out) {
  out.blank_line();
  out.open("by_table");
  out.string("type", "route");
  out.strings("from", ids({kFlowsInput}));
  out.open("routes");
  out.comment("altflows rows (DNS, HTTP, ...) carry flow_type and have no five-tuple; flows rows do not.");
  out.open("conn");
  out.string("field", "flow_type");
  out.boolean("exists", false);
  out.close();
  out.close();
  out.close();

  out.blank_line();
  out.comment("The AID Slips stores, also for databases of Slips versions that stored none.");
  out.open("aid");
  out.string("type", "aid");
  out.strings("from", {"by_table.conn"});
  out.string("field_names", "slips");
  out.boolean("slips_compatible", true);
  out.close();

  out.blank_line();
  out.open("no_tuple");
  out.string("type", "modify");
  out.strings("from", {"by_table._unmatched"});
  out.open("set");
  out.string("aid", "");
  out.close();
  out.close();
}

void write_filters(YamlText& out, const ExportSettings& settings) {
  out.blank_line();
  out.open("filters");
  out.open(kIdeaFilter);
  out.string("type", "idea_normalize");
  out.strings("from", ids({kAlertsInput}));
  out.comment("Zone of times Slips wrote without an offset: the Slips host's zone.");
  out.string("zoneless_time_zone", "UTC");
  out.close();

  if (settings.warden && settings.warden->send) {
    out.blank_line();
    out.comment("Slips sends no evidence of threat level info to Warden.");
    out.open(kWardenFilter);
    out.string("type", "drop");
    out.strings("from", ids({kIdeaFilter}));
    out.open("condition");
    out.string("field", "_Slips.ThreatLevel");
    out.string("equals", "info");
    out.close();
    out.close();
  }

  if (settings.taxii) {
    out.blank_line();
    out.open(kStixFilter);
    out.string("type", "stix");
    out.strings("from", ids({kIdeaFilter}));
    out.comment("Slips shares indicators only; sighting and observed_data add the context of each alert.");
    out.strings("objects", {"indicator"});
    out.open("identity");
    out.string("name", settings.taxii->sensor_name);
    out.string("identity_class", "system");
    out.close();
    out.comment("x_slips_evidence_id and x_slips_threat_level, as Slips' exporter adds them.");
    out.boolean("slips_properties", true);
    out.close();
  }

  if (settings.labeled_flows) {
    write_labeled_flow_filters(out);
  }
  out.close();
}

void write_slack(YamlText& out, const slips::SlackExport& slack) {
  out.blank_line();
  write_notes(out, slack.notes);
  out.open("slack");
  out.string("type", "slack");
  out.strings("from", ids({kIdeaFilter}));
  out.string("mode", "web_api");
  out.string("token_file", slack.token_file);
  out.string("channel", slack.channel);
  out.string("sensor_name", slack.sensor_name);
  out.comment("Slack accepts about one message per second per channel.");
  out.integer("min_message_interval_ms", 1000);
  out.close();
}

void write_taxii(YamlText& out, const slips::TaxiiExport& taxii) {
  out.blank_line();
  write_notes(out, taxii.notes);
  out.open("taxii");
  out.string("type", "taxii");
  out.strings("from", ids({kStixFilter}));
  out.string("version", taxii.version == slips::TaxiiVersion::V1 ? "1.1" : "2.1");
  out.comment(taxii.version == slips::TaxiiVersion::V1 ? "The inbox service Slips posts to."
                                                       : "The discovery URL Slips starts from.");
  out.string("url", taxii.url);
  out.string("collection", taxii.collection);
  if (!taxii.user.empty()) {
    out.open("auth");
    out.string("strategy", "basic");
    out.string("user", taxii.user);
    out.comment("Holds exporting_alerts.taxii_password: see the NOTE above.");
    out.interpolated("password_file", "${TAXII_PASSWORD_FILE:-/etc/slipway/taxii.password}");
    out.close();
  }
  out.integer("timeout_ms", taxii.timeout_ms);
  if (taxii.retry) {
    out.comment("Slips' direct_export_retry_* settings.");
    out.open("retry");
    out.integer("initial_backoff_ms", taxii.retry->initial_backoff_ms);
    out.integer("max_backoff_ms", taxii.retry->max_backoff_ms);
    out.integer("max_retries", taxii.retry->max_retries);
    out.close();
  }
  out.close();

  if (!taxii.direct_export) {
    out.blank_line();
    out.note("exporting_alerts.direct_export",
             "false: Slips also keeps the indicators in STIX_data.json of its run directory. This pipeline writes "
             "that bundle under /var/log/slipway, because the service does not write into Slips' directory.");
    out.open("stix_file");
    out.string("type", "file");
    out.strings("from", ids({kStixFilter}));
    out.interpolated("path", "${SLIPWAY_STIX_FILE:-/var/log/slipway/STIX_data.json}");
    out.string("format", "stix_bundle");
    out.close();
  }
}

void write_warden(YamlText& out, const slips::WardenExport& warden) {
  if (warden.send) {
    out.blank_line();
    write_notes(out, warden.notes);
    out.note("cesnet.send_alerts",
             "Slips replaces the Category of every event with Test. The output keeps the real categories and adds "
             "Test, which the server requires while the client is registered in test mode; set add_test_category "
             "to false when it is not.");
    out.open("warden");
    out.string("type", "warden");
    out.strings("from", ids({kWardenFilter}));
    out.string("warden_conf", warden.warden_conf);
    out.comment("Slips removes private addresses from Source and Target and sends no event that has neither left.");
    out.boolean("drop_private_addresses", true);
    out.boolean("add_test_category", true);
    out.close();
  }
  if (warden.receive) {
    out.blank_line();
    out.open("warden_events_archive");
    out.string("type", "file");
    out.strings("from", ids({kWardenInput}));
    out.interpolated("path", "${SLIPWAY_WARDEN_EVENTS:-/var/log/slipway/warden-events.idea.json}");
    out.string("format", "json");
    out.close();
  }
}

void write_labeled_flows(YamlText& out, const slips::LabeledFlowExport& flows) {
  const bool tsv = flows.format == slips::FlowFormat::Tsv;
  out.blank_line();
  out.comment("Slips writes labeled_flows.* into its run directory; this pipeline writes into SLIPWAY_EXPORT_DIR. "
              "The columns are those Slips intends; its own export has written only a header (TSV) or nothing "
              "(JSON) since Slips 1.0.7.");
  out.open("labeled_flows");
  out.string("type", "file");
  out.strings("from", {"aid", "no_tuple"});
  out.interpolated("path", fmt::format("${{SLIPWAY_EXPORT_DIR:-/var/lib/slipway/export}}/labeled_flows.{}",
                                       tsv ? "tsv" : "json"));
  out.string("format", tsv ? "tsv" : "json");
  out.strings("columns", kFlowColumns);
  if (tsv) {
    out.comment("Quoted and ended as Python's csv module writes them, as in Slips' own file.");
    out.string("escape", "csv");
    out.string("line_ending", "crlf");
  }
  out.close();
}

void write_outputs(YamlText& out, const ExportSettings& settings) {
  out.blank_line();
  out.open("outputs");
  out.comment("Slips keeps its alerts in alerts.json; this archive keeps them normalized to IDEA0.");
  out.open("idea_archive");
  out.string("type", "file");
  out.strings("from", ids({kIdeaFilter}));
  out.interpolated("path", "${SLIPWAY_ARCHIVE:-/var/log/slipway/alerts.idea.json}");
  out.string("format", "json");
  out.string("fsync", "interval");
  out.close();

  if (settings.slack) {
    write_slack(out, *settings.slack);
  }
  if (settings.taxii) {
    write_taxii(out, *settings.taxii);
  }
  if (settings.warden) {
    write_warden(out, *settings.warden);
  }
  if (settings.labeled_flows) {
    write_labeled_flows(out, *settings.labeled_flows);
  }
  out.close();
}

}  // namespace

std::string write_pipeline(const ExportSettings& settings) {
  YamlText out;
  write_header(out, settings);
  write_inputs(out, settings);
  write_filters(out, settings);
  write_outputs(out, settings);
  return out.text();
}

int run(const std::filesystem::path& slips_file, const std::optional<std::filesystem::path>& warden_conf) {
  std::string error;
  const std::optional<slips::ExportSettings> settings = slips::read_export_settings(slips_file, warden_conf, error);
  if (!settings) {
    std::fprintf(stderr, "%s\n", error.c_str());
    return commands::kExitConfig;
  }
  const std::string pipeline = write_pipeline(*settings);
  std::fwrite(pipeline.data(), 1, pipeline.size(), stdout);
  return std::fflush(stdout) == 0 ? commands::kExitOk : commands::kExitFailure;
}

}  // namespace slipway::convert_slips
