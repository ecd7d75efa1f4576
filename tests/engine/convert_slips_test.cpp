// `slipway convert-slips`: the pipelines it writes for Slips configurations
// pass `slipway validate`, carry Slips' settings and quirks over, note what
// they cannot carry, and never contain a secret.
#include "engine/convert_slips.hpp"

#include <map>

#include <fmt/format.h>
#include <gtest/gtest.h>
#include <yaml-cpp/yaml.h>

#include "config/interpolate.hpp"
#include "engine/registry.hpp"
#include "engine/yaml_text.hpp"
#include "tests/support/process.hpp"
#include "tests/support/temp_dir.hpp"

namespace slipway::testing {
namespace {

constexpr std::string_view kPassword = "changeme_before_installing_a_medallion_server";

// The exporting part of the config/slips.yaml that Slips ships.
constexpr std::string_view kShippedSlipsYaml = R"(
parameters:
  export_labeled_flows: false
  export_format: json
  label: normal
exporting_alerts:
  export_to: []
  slack_channel_name: proj_slips_alerting_module
  sensor_name: sensor1
  slack_api_path: config/slack_bot_token_secret
  TAXII_server: localhost
  port: 1234
  use_https: false
  discovery_path: /taxii2/
  taxii_version: 2
  collection_name: Alerts
  push_delay: 3600
  direct_export: true
  direct_export_workers: 4
  direct_export_max_workers: 12
  direct_export_retry_max: 0
  direct_export_retry_backoff: 0.5
  direct_export_retry_max_delay: 5.0
  taxii_username: admin
  taxii_password: changeme_before_installing_a_medallion_server
  taxii_timeout: 10
cesnet:
  send_alerts: false
  receive_alerts: false
  configuration_file: config/warden.conf
  receive_delay: 86400
)";

// Every exporter on; TAXII_VERSION and DIRECT_EXPORT are replaced per test.
constexpr std::string_view kEveryExporterYaml = R"(
parameters:
  export_labeled_flows: true
  export_format: tsv
exporting_alerts:
  export_to: [slack, stix]
  slack_channel_name: proj_slips_alerting_module
  sensor_name: sensor-7
  slack_api_path: config/slack_bot_token_secret
  TAXII_server: taxii.example.org
  port: 8443
  use_https: true
  discovery_path: /taxii2/
  taxii_version: TAXII_VERSION
  collection_name: Alerts
  push_delay: 3600
  direct_export: DIRECT_EXPORT
  direct_export_workers: 4
  direct_export_max_workers: 12
  direct_export_retry_max: 5
  direct_export_retry_backoff: 0.5
  direct_export_retry_max_delay: 5.0
  taxii_username: slips
  taxii_password: changeme_before_installing_a_medallion_server
  taxii_timeout: 10
cesnet:
  send_alerts: true
  receive_alerts: true
  configuration_file: config/warden.conf
  receive_delay: 3600
)";

// Slips' sample warden.conf layout, with comment lines.
constexpr std::string_view kWardenConf = R"(# Warden client settings
// registered at CESNET
{
  "url": "https://warden-hub.example.org/warden3",
  "certfile": "cert.pem",
  "keyfile": "key.pem",
  "cafile": "/etc/ssl/certs/ca-certificates.crt",
  "timeout": 600,
  "errlog": {"file": "output/warden_logs/warden.err", "level": "debug"},
  "name": "com.example.warden.test"
}
)";

std::string replace_all(const std::string& text, std::string_view from, std::string_view to) {
  std::string result;
  std::size_t start = 0;
  for (std::size_t at = text.find(from); at != std::string::npos; at = text.find(from, start)) {
    result.append(text, start, at - start);
    result.append(to);
    start = at + from.size();
  }
  result.append(text, start);
  return result;
}

bool types_registered(std::initializer_list<std::pair<ComponentKind, std::string_view>> types) {
  for (const auto& [kind, name] : types) {
    if (Registry::instance().find(kind, name) == nullptr) {
      return false;
    }
  }
  return true;
}

bool stix_and_taxii_registered() {
  return types_registered({{ComponentKind::Filter, "stix"}, {ComponentKind::Output, "taxii"}});
}

class ConvertSlipsTest : public ::testing::Test {
 protected:
  struct Result {
    int exit_code = 0;
    std::string out;
    std::string err;
  };

  // Writes `yaml` as config/slips.yaml of a Slips directory in the temp
  // dir, with the warden.conf and token file it names, and converts it.
  Result convert_yaml(std::string_view yaml, std::vector<std::string> extra_arguments = {}) {
    std::filesystem::create_directories(dir_ / "slips" / "config");
    write_file(slips_yaml(), yaml);
    write_file(dir_ / "slips" / "config" / "warden.conf", kWardenConf);
    write_file(dir_ / "slips" / "config" / "slack_bot_token_secret", "xoxb-token-value-never-copied\n");
    std::vector<std::string> arguments = {"convert-slips", slips_yaml().string()};
    arguments.insert(arguments.end(), extra_arguments.begin(), extra_arguments.end());
    return convert(arguments);
  }

  Result convert(const std::vector<std::string>& arguments) {
    Result result;
    result.exit_code = run_slipway(arguments, dir_ / "stdout", dir_ / "stderr");
    result.out = read_file(dir_ / "stdout");
    result.err = read_file(dir_ / "stderr");
    return result;
  }

  // Runs `slipway validate` on `pipeline`; returns its standard output, or the errors on failure.
  Result validate(const std::string& pipeline) {
    write_file(dir_ / "pipeline.yaml", pipeline);
    const std::map<std::string, std::string> environment = {
        {"SLIPS_OUTPUT", (dir_ / "run").string()},
        {"SLIPWAY_DATA_DIR", (dir_ / "var").string()},
    };
    Result result;
    result.exit_code =
        run_slipway({"validate", (dir_ / "pipeline.yaml").string()}, dir_ / "vout", dir_ / "verr", environment);
    result.out = read_file(dir_ / "vout");
    result.err = read_file(dir_ / "verr");
    return result;
  }

  std::filesystem::path slips_yaml() const { return dir_ / "slips" / "config" / "slips.yaml"; }
  std::string slips_path(std::string_view relative) const { return (dir_ / "slips" / relative).string(); }

  TempDir dir_;
};

// With export_to empty and CESNET off, as Slips ships, only the IDEA0 archive remains.
TEST_F(ConvertSlipsTest, ShippedConfigGivesArchiveOnly) {
  const Result converted = convert_yaml(kShippedSlipsYaml);
  ASSERT_EQ(converted.exit_code, 0) << converted.err;

  const Result validated = validate(converted.out);
  EXPECT_EQ(validated.exit_code, 0) << validated.err << converted.out;
  EXPECT_NE(validated.out.find("valid (1 inputs, 1 filters, 1 outputs)"), std::string::npos) << validated.out;
  EXPECT_EQ(converted.out.find("NOTE:"), std::string::npos) << converted.out;
  EXPECT_NE(converted.out.find("only archives the alerts"), std::string::npos) << converted.out;
}

// Slack, CESNET send and receive, and the labeled-flow export, which need no STIX components.
TEST_F(ConvertSlipsTest, SlackWardenAndFlowsValidate) {
  std::string yaml = replace_all(std::string(kEveryExporterYaml), "export_to: [slack, stix]", "export_to: [slack]");
  yaml = replace_all(yaml, "TAXII_VERSION", "2");
  yaml = replace_all(yaml, "DIRECT_EXPORT", "true");
  const Result converted = convert_yaml(yaml);
  ASSERT_EQ(converted.exit_code, 0) << converted.err;

  const Result validated = validate(converted.out);
  EXPECT_EQ(validated.exit_code, 0) << validated.err << converted.out;
  EXPECT_NE(validated.out.find("valid (3 inputs, 5 filters, 5 outputs)"), std::string::npos) << validated.out;

  const YAML::Node pipeline = YAML::Load(converted.out);
  const YAML::Node slack = pipeline["outputs"]["slack"];
  EXPECT_EQ(slack["token_file"].as<std::string>(), slips_path("config/slack_bot_token_secret"));
  EXPECT_EQ(slack["channel"].as<std::string>(), "proj_slips_alerting_module");
  EXPECT_EQ(slack["sensor_name"].as<std::string>(), "sensor-7");
  EXPECT_EQ(pipeline["outputs"]["warden"]["warden_conf"].as<std::string>(), slips_path("config/warden.conf"));
  EXPECT_EQ(pipeline["inputs"]["warden_events"]["poll_interval_ms"].as<std::int64_t>(), 3'600'000);
  EXPECT_EQ(pipeline["outputs"]["labeled_flows"]["format"].as<std::string>(), "tsv");
  EXPECT_EQ(pipeline["outputs"]["labeled_flows"]["line_ending"].as<std::string>(), "crlf");
}

// TAXII 2 with direct export: the URL is put together from four keys, and
// the direct_export_retry_* settings become the output's retry settings.
TEST_F(ConvertSlipsTest, EveryExporterWithTaxii2Validates) {
  ASSERT_TRUE(stix_and_taxii_registered());
  std::string yaml = replace_all(std::string(kEveryExporterYaml), "TAXII_VERSION", "2");
  yaml = replace_all(yaml, "DIRECT_EXPORT", "true");
  const Result converted = convert_yaml(yaml);
  ASSERT_EQ(converted.exit_code, 0) << converted.err;

  const Result validated = validate(converted.out);
  EXPECT_EQ(validated.exit_code, 0) << validated.err << converted.out;
  EXPECT_NE(validated.out.find("valid (3 inputs, 6 filters, 6 outputs)"), std::string::npos) << validated.out;

  const YAML::Node taxii = YAML::Load(converted.out)["outputs"]["taxii"];
  EXPECT_EQ(taxii["version"].as<std::string>(), "2.1");
  EXPECT_EQ(taxii["url"].as<std::string>(), "https://taxii.example.org:8443/taxii2/");
  EXPECT_EQ(taxii["collection"].as<std::string>(), "Alerts");
  EXPECT_EQ(taxii["auth"]["user"].as<std::string>(), "slips");
  EXPECT_EQ(taxii["retry"]["initial_backoff_ms"].as<int>(), 500);
  EXPECT_EQ(taxii["retry"]["max_backoff_ms"].as<int>(), 5000);
  EXPECT_EQ(taxii["retry"]["max_retries"].as<int>(), 4);
}

// taxii_version 1 posts TAXII 1.1 inbox messages to /services/inbox.
TEST_F(ConvertSlipsTest, EveryExporterWithTaxii1Validates) {
  ASSERT_TRUE(stix_and_taxii_registered());
  std::string yaml = replace_all(std::string(kEveryExporterYaml), "TAXII_VERSION", "1");
  yaml = replace_all(yaml, "DIRECT_EXPORT", "false");
  const Result converted = convert_yaml(yaml);
  ASSERT_EQ(converted.exit_code, 0) << converted.err;

  const Result validated = validate(converted.out);
  EXPECT_EQ(validated.exit_code, 0) << validated.err << converted.out;

  const YAML::Node pipeline = YAML::Load(converted.out);
  EXPECT_EQ(pipeline["outputs"]["taxii"]["version"].as<std::string>(), "1.1");
  EXPECT_EQ(pipeline["outputs"]["taxii"]["url"].as<std::string>(), "https://taxii.example.org:8443/services/inbox");
  // Version 1 always exports directly, so there is no STIX_data.json.
  EXPECT_FALSE(pipeline["outputs"]["stix_file"].IsDefined());
  EXPECT_NE(converted.out.find("# NOTE: exporting_alerts.discovery_path: not used with taxii_version 1"),
            std::string::npos)
      << converted.out;
}

// Slips' file mode keeps STIX_data.json and re-pushes every push_delay seconds.
TEST_F(ConvertSlipsTest, FileModeKeepsStixBundle) {
  ASSERT_TRUE(stix_and_taxii_registered());
  std::string yaml = replace_all(std::string(kEveryExporterYaml), "TAXII_VERSION", "2");
  yaml = replace_all(yaml, "DIRECT_EXPORT", "false");
  const Result converted = convert_yaml(yaml);
  ASSERT_EQ(converted.exit_code, 0) << converted.err;

  const Result validated = validate(converted.out);
  EXPECT_EQ(validated.exit_code, 0) << validated.err << converted.out;
  const YAML::Node pipeline = YAML::Load(converted.out);
  EXPECT_EQ(pipeline["outputs"]["stix_file"]["format"].as<std::string>(), "stix_bundle");
  EXPECT_FALSE(pipeline["outputs"]["taxii"]["retry"].IsDefined());
  EXPECT_NE(converted.out.find("# NOTE: exporting_alerts.push_delay: not needed"), std::string::npos)
      << converted.out;
}

// The TAXII password and the Slack token never reach the pipeline or the terminal.
TEST_F(ConvertSlipsTest, SecretsNeverCopied) {
  std::string yaml = replace_all(std::string(kEveryExporterYaml), "TAXII_VERSION", "2");
  yaml = replace_all(yaml, "DIRECT_EXPORT", "true");
  const Result converted = convert_yaml(yaml);
  ASSERT_EQ(converted.exit_code, 0) << converted.err;

  EXPECT_EQ(converted.out.find(kPassword), std::string::npos);
  EXPECT_EQ(converted.err.find(kPassword), std::string::npos);
  EXPECT_EQ(converted.out.find("xoxb-token-value-never-copied"), std::string::npos);
  EXPECT_NE(converted.out.find("password_file: \"${TAXII_PASSWORD_FILE:-/etc/slipway/taxii.password}\""),
            std::string::npos)
      << converted.out;
  EXPECT_NE(converted.out.find("# NOTE: exporting_alerts.taxii_password: not copied"), std::string::npos)
      << converted.out;
  EXPECT_NE(converted.out.find("password of Slips' sample configuration"), std::string::npos) << converted.out;
}

// A TAXII user without a password means no authentication in Slips.
TEST_F(ConvertSlipsTest, UserWithoutPasswordSendsNoCredentials) {
  ASSERT_TRUE(stix_and_taxii_registered());
  const Result converted = convert_yaml(R"(
exporting_alerts:
  export_to: [stix]
  TAXII_server: taxii.example.org
  use_https: true
  taxii_username: slips
)");
  ASSERT_EQ(converted.exit_code, 0) << converted.err;

  EXPECT_FALSE(YAML::Load(converted.out)["outputs"]["taxii"]["auth"].IsDefined());
  EXPECT_NE(converted.out.find("# NOTE: exporting_alerts.taxii_username: Slips authenticates only when both"),
            std::string::npos)
      << converted.out;
  EXPECT_EQ(validate(converted.out).exit_code, 0);
}

// Slips strips "www." from TAXII_server and leaves the scheme's port out of the URL.
TEST_F(ConvertSlipsTest, TaxiiUrlQuirks) {
  const Result converted = convert_yaml(R"(
exporting_alerts:
  export_to: [stix]
  TAXII_server: www.taxii.example.org
  port: 443
  use_https: true
  discovery_path: taxii2/
  direct_export: true
)");
  ASSERT_EQ(converted.exit_code, 0) << converted.err;

  EXPECT_EQ(YAML::Load(converted.out)["outputs"]["taxii"]["url"].as<std::string>(),
            "https://www.taxii.example.org/taxii2/");
  EXPECT_NE(converted.out.find("contacted taxii.example.org;"), std::string::npos) << converted.out;
}

// A full discovery URL in discovery_path wins over server, port and scheme.
TEST_F(ConvertSlipsTest, DiscoveryPathMayBeUrl) {
  const Result converted = convert_yaml(R"(
exporting_alerts:
  export_to: [stix]
  TAXII_server: localhost
  port: 1234
  discovery_path: https://taxii.example.org/discovery/
)");
  ASSERT_EQ(converted.exit_code, 0) << converted.err;

  EXPECT_EQ(YAML::Load(converted.out)["outputs"]["taxii"]["url"].as<std::string>(),
            "https://taxii.example.org/discovery/");
}

// Slips before 1.1.20 read a CESNET section; later versions ignore it.
TEST_F(ConvertSlipsTest, LegacyCesnetSectionRead) {
  const Result converted = convert_yaml(R"(
CESNET:
  send_alerts: yes
  configuration_file: config/warden.conf
)");
  ASSERT_EQ(converted.exit_code, 0) << converted.err;

  EXPECT_TRUE(YAML::Load(converted.out)["outputs"]["warden"].IsDefined()) << converted.out;
  EXPECT_NE(converted.out.find("# NOTE: CESNET: Slips 1.1.20 and later read this section only when it is named"),
            std::string::npos)
      << converted.out;
  EXPECT_EQ(validate(converted.out).exit_code, 0);
}

// --warden-conf replaces the file cesnet.configuration_file names.
TEST_F(ConvertSlipsTest, WardenConfOptionWins) {
  write_file(dir_ / "other-warden.conf", kWardenConf);
  const Result converted = convert_yaml(R"(
cesnet:
  send_alerts: true
  configuration_file: /nonexistent/warden.conf
)",
                                        {"--warden-conf", (dir_ / "other-warden.conf").string()});
  ASSERT_EQ(converted.exit_code, 0) << converted.err;

  EXPECT_EQ(YAML::Load(converted.out)["outputs"]["warden"]["warden_conf"].as<std::string>(),
            (dir_ / "other-warden.conf").string());
  EXPECT_EQ(converted.out.find("/nonexistent/warden.conf"), std::string::npos) << converted.out;
}

// warden.conf keys that Slips' client reads differently are noted.
TEST_F(ConvertSlipsTest, WardenConfDifferencesNoted) {
  const Result converted = convert_yaml("cesnet:\n  send_alerts: true\n");
  ASSERT_EQ(converted.exit_code, 0) << converted.err;

  EXPECT_NE(converted.out.find("# NOTE: warden.conf certfile: Slips' Warden client reads \"cert.pem\""),
            std::string::npos)
      << converted.out;
  EXPECT_NE(converted.out.find("# NOTE: warden.conf cafile:"), std::string::npos) << converted.out;
  EXPECT_NE(converted.out.find("# NOTE: warden.conf errlog: not used"), std::string::npos) << converted.out;
  EXPECT_NE(converted.out.find("# NOTE: cesnet.configuration_file: missing"), std::string::npos) << converted.out;
}

// Unknown keys and exporters are named, not silently dropped.
TEST_F(ConvertSlipsTest, UnknownSettingsNoted) {
  const Result converted = convert_yaml(R"(
exporting_alerts:
  export_to: [slack, warden]
  slack_chanel_name: typo
)");
  ASSERT_EQ(converted.exit_code, 0) << converted.err;

  EXPECT_NE(converted.out.find("# NOTE: exporting_alerts.export_to: \"warden\" is not an exporter Slips knows"),
            std::string::npos)
      << converted.out;
  EXPECT_NE(converted.out.find("# NOTE: exporting_alerts.slack_chanel_name: not a setting"), std::string::npos)
      << converted.out;
  EXPECT_NE(converted.out.find("# NOTE: exporting_alerts.slack_channel_name: missing"), std::string::npos)
      << converted.out;
}

// Values from the Slips file keep quotes, line breaks and ${...} literally.
TEST_F(ConvertSlipsTest, HostileValuesStayLiteral) {
  const std::string channel = "alerts\" # not a comment\n${HOME} $$";
  const Result converted = convert_yaml(fmt::format(R"(
exporting_alerts:
  export_to: [slack]
  slack_channel_name: "{}"
  slack_api_path: /etc/slipway/slack.token
  sensor_name: "a: b"
)",
                                                    replace_all(replace_all(channel, "\"", "\\\""), "\n", "\\n")));
  ASSERT_EQ(converted.exit_code, 0) << converted.err;

  const std::string written = YAML::Load(converted.out)["outputs"]["slack"]["channel"].as<std::string>();
  const config::InterpolationResult read =
      config::interpolate(written, [](const std::string&) { return std::optional<std::string>("expanded"); });
  EXPECT_EQ(read.error, "");
  EXPECT_EQ(read.value, channel);
  EXPECT_EQ(validate(converted.out).exit_code, 0);
}

TEST_F(ConvertSlipsTest, MissingFileExits78) {
  const Result converted = convert({"convert-slips", (dir_ / "missing.yaml").string()});

  EXPECT_EQ(converted.exit_code, 78);
  EXPECT_EQ(converted.out, "");
  EXPECT_NE(converted.err.find((dir_ / "missing.yaml").string() + ": cannot be read: No such file or directory"),
            std::string::npos)
      << converted.err;
}

TEST_F(ConvertSlipsTest, InvalidYamlExits78WithPosition) {
  const Result converted = convert_yaml("exporting_alerts:\n  export_to: [slack\n");

  EXPECT_EQ(converted.exit_code, 78);
  EXPECT_NE(converted.err.find(slips_yaml().string() + ":3:1: invalid YAML"), std::string::npos) << converted.err;
}

// The INI slips.conf of older Slips versions gets a hint.
TEST_F(ConvertSlipsTest, IniFileExits78WithHint) {
  const Result converted = convert_yaml("[ExportingAlerts]\nexport_to = [slack]\n");

  EXPECT_EQ(converted.exit_code, 78);
  EXPECT_NE(converted.err.find(slips_yaml().string()), std::string::npos) << converted.err;
  EXPECT_NE(converted.err.find("INI slips.conf"), std::string::npos) << converted.err;
}

TEST_F(ConvertSlipsTest, NonMappingExits78) {
  const Result converted = convert_yaml("- slack\n- stix\n");

  EXPECT_EQ(converted.exit_code, 78);
  EXPECT_NE(converted.err.find(slips_yaml().string() + ": not a Slips configuration"), std::string::npos)
      << converted.err;
}

TEST_F(ConvertSlipsTest, MissingArgumentExits64) {
  EXPECT_EQ(convert({"convert-slips"}).exit_code, 64);
}

TEST(YamlQuoteTest, EscapesQuotesBackslashesAndControls) {
  EXPECT_EQ(yaml_quote("a\"b\\c\nd\x01"), "\"a\\\"b\\\\c\\nd\\x01\"");
  EXPECT_EQ(escape_interpolation("${A} $$"), "$${A} $$$$");
}

}  // namespace
}  // namespace slipway::testing
