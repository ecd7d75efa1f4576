#include "filters/idea/idea_normalize.hpp"

#include <chrono>
#include <filesystem>
#include <fstream>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <gtest/gtest.h>
#include <yaml-cpp/yaml.h>

#include "engine/acknowledgement.hpp"
#include "engine/json.hpp"
#include "tests/support/fake_filter_context.hpp"
#include "tests/support/process.hpp"
#include "tests/support/temp_dir.hpp"

namespace slipway::filters {
namespace {

using slipway::testing::FakeFilterContext;
using slipway::testing::read_file;
using slipway::testing::shared_path;
using slipway::testing::TempDir;
using slipway::testing::write_file;

constexpr std::string_view kContext = "filter \"norm\" (idea_normalize)";
constexpr const char* kPython = "/usr/bin/python3";

// Validates every line of a file against the IDEA0 schema (draft-04) and
// checks the IDEA rule the schema cannot express: member names unique
// regardless of case. Prints "checked=N invalid=M" and the first problems.
constexpr std::string_view kValidatorScript = R"PY(
import json, sys
import jsonschema

def case_clash(value, path="$"):
    if isinstance(value, dict):
        seen = {}
        for key, item in value.items():
            if key.lower() in seen:
                return "%s: keys %r and %r differ only by case" % (path, seen[key.lower()], key)
            seen[key.lower()] = key
            found = case_clash(item, path + "." + key)
            if found:
                return found
    elif isinstance(value, list):
        for index, item in enumerate(value):
            found = case_clash(item, "%s[%d]" % (path, index))
            if found:
                return found
    return None

schema = json.load(open(sys.argv[1]))
validator = jsonschema.Draft4Validator(schema)
checked = invalid = 0
with open(sys.argv[2]) as records:
    for number, line in enumerate(records, 1):
        checked += 1
        record = json.loads(line)
        problems = [error.message + " at " + "/".join(map(str, error.absolute_path))
                    for error in validator.iter_errors(record)]
        clash = case_clash(record)
        if clash:
            problems.append(clash)
        if problems:
            invalid += 1
            if invalid <= 5:
                sys.stderr.write("line %d: %s\n" % (number, "; ".join(problems)))
print("checked=%d invalid=%d" % (checked, invalid))
)PY";

std::vector<std::string> read_lines(const std::filesystem::path& path) {
  std::vector<std::string> lines;
  std::ifstream stream(path);
  for (std::string line; std::getline(stream, line);) {
    if (!line.empty()) {
      lines.push_back(line);
    }
  }
  return lines;
}

json::Value parse_json(const std::string& text) {
  json::ParseResult result = json::parse(text);
  EXPECT_TRUE(result.value.has_value()) << result.error << " in " << text;
  return result.value.value_or(json::Value());
}

// The string at `path`, or "<missing>" so a failed lookup shows in the assertion.
std::string text_at(const json::Value& value, std::string_view path) {
  const json::Value* found = value.at_path(path);
  if (found == nullptr) {
    return "<missing>";
  }
  return found->is_string() ? found->as_string() : json::to_string(*found);
}

class IdeaNormalizeTest : public ::testing::Test {
 protected:
  std::unique_ptr<Filter> make(const std::string& yaml, config::Errors& errors) {
    const YAML::Node node = yaml.empty() ? YAML::Node(YAML::NodeType::Map) : YAML::Load(yaml);
    config::check_against_schema(node, IdeaNormalize::kSchema, std::string(kContext), "test.yaml", "", errors);
    return IdeaNormalize::create(config::Section(node, &IdeaNormalize::kSchema, std::string(kContext), "test.yaml"),
                                 errors);
  }

  std::unique_ptr<Filter> make(const std::string& yaml = "") {
    config::Errors errors;
    std::unique_ptr<Filter> filter = make(yaml, errors);
    EXPECT_FALSE(errors.has_errors()) << errors.format();
    return filter;
  }

  static BatchPtr batch_of(const std::vector<std::string>& lines, const std::string& source = "alerts.json") {
    auto batch = std::make_shared<Batch>();
    auto source_name = std::make_shared<const std::string>(source);
    std::uint64_t line_number = 0;
    for (const std::string& line : lines) {
      batch->events.push_back(Event{line, EventOrigin{source_name, ++line_number, 0}});
    }
    return batch;
  }

  // Runs `lines` through a filter built from `yaml` in one batch and
  // returns the emitted records.
  std::vector<std::string> run(const std::vector<std::string>& lines, const std::string& yaml = "") {
    std::unique_ptr<Filter> filter = make(yaml);
    if (filter == nullptr) {
      return {};
    }
    context_.run(*filter, batch_of(lines));
    return context_.event_texts();
  }

  json::Value run_one(const std::string& line, const std::string& yaml = "") {
    const std::vector<std::string> out = run({line}, yaml);
    EXPECT_EQ(out.size(), 1u) << "dead letters: " << read_file(context_.dead_letter_path());
    return out.empty() ? json::Value() : parse_json(out.front());
  }

  // Output of a Python script run with `arguments`, or nullopt (with a
  // failure recorded) when it did not exit 0.
  std::optional<std::string> run_python(const std::vector<std::string>& arguments) {
    const std::string name = "python-" + std::to_string(++python_runs_);
    std::vector<std::string> command{kPython};
    command.insert(command.end(), arguments.begin(), arguments.end());
    slipway::testing::ChildProcess child(command, dir_ / (name + ".out"), dir_ / (name + ".err"));
    const std::optional<int> exit_code = child.wait(std::chrono::minutes(5));
    if (exit_code != 0) {
      ADD_FAILURE() << "python3 failed: " << read_file(dir_ / (name + ".err"));
      return std::nullopt;
    }
    return read_file(dir_ / (name + ".out"));
  }

  // Asserts that every record validates against the IDEA0 schema.
  void expect_valid_idea(const std::vector<std::string>& records, const std::string& label) {
    const std::filesystem::path schema = shared_path("reference/idea.schema.json");
    ASSERT_FALSE(schema.empty()) << "reference/idea.schema.json missing from the shared tree";
    const std::filesystem::path script = dir_ / "validate_idea.py";
    const std::filesystem::path output = dir_ / (label + ".idea.jsonl");
    write_file(script, kValidatorScript);
    std::string text;
    for (const std::string& record : records) {
      text += record;
      text += '\n';
    }
    write_file(output, text);
    const std::optional<std::string> report = run_python({script.string(), schema.string(), output.string()});
    ASSERT_TRUE(report.has_value());
    EXPECT_EQ(*report, "checked=" + std::to_string(records.size()) + " invalid=0\n")
        << label << ": " << read_file(dir_ / ("python-" + std::to_string(python_runs_) + ".err"));
  }

  TempDir dir_;
  FakeFilterContext context_{dir_.path(), "idea_normalize"};
  int python_runs_ = 0;
};

// A horizontal-scan evidence line of Slips 1.1.21's alerts.json (IDMEFv2).
const std::string kIdmefHorizontalScan =
    R"({"Version": "2.0.3", "Analyzer": {"IP": "0.0.0.0", "Name": "Slips", "Model": "1.1.21", "Category": ["NIDS"], )"
    R"("Data": ["Flow", "Network"], "Method": ["Heuristic"]}, "Status": "Event", "ID": )"
    R"("babced20-57ee-45cd-a009-02c77ebff206", "Severity": "High", "StartTime": "2023-04-06T21:06:26.757219+02:00", )"
    R"("CreateTime": "2023-05-07T02:19:56.052551+02:00", "Confidence": 0.6, "Description": "Horizontal port scan to )"
    R"(port http-alt 8080/tcp. From 192.168.1.113 to 19 unique destination IPs. Total packets sent: 6. Confidence: )"
    R"(0.6. by Slips Threat level: high.", "Source": [{"IP": "192.168.1.113", "Protocol": ["TCP"]}], "Note": )"
    R"("{\"uids\": [\"CcJ2isAjIhKtJ0RlgL\", \"CKOmxgJTeKdNnFRIBX\", \"CuDL7DxtpYlSXpfKtH\"], )"
    R"(\"accumulated_threat_level\": 1.28, \"threat_level\": \"high\", \"confidence\": \"Medium\", )"
    R"(\"timewindow\": 1}"})";

// A C&C evidence line of Slips 1.1.1 (legacy IDEA0 with Slips extras).
const std::string kLegacyCommandAndControl =
    R"({"Format": "IDEA0", "ID": "1319d424-35f1-4300-ae37-9c65f21201e4", "DetectTime": )"
    R"("2023-05-07T02:19:56.730921+02:00", "EventTime": "2023-05-07T02:19:56.730941+02:00", "Category": )"
    R"(["Intrusion.Botnet"], "Confidence": 0.9605, "Source": [{"IP4": ["192.168.1.122"], "Type": ["Botnet"]}, )"
    R"({"IP4": ["104.21.137.100"], "Type": ["CC"], "Port": [443], "Proto": ["TCP"]}], "Target": [{"IP4": )"
    R"(["104.21.137.100"]}], "Attach": [{"Content": "C&C channel, client IP: 192.168.1.122 server IP: )"
    R"(104.21.137.100 port: HTTPS 443/tcp score: 0.9605. threat level: high.", "ContentType": "text/plain"}], )"
    R"("ConnCount": 1, "uids": ["CHq8xiM0OGr4hTxoF5"], "accumulated_threat_level": 2.9884, "timewindow": 1})";

// A C&C evidence line of Slips 1.1.21: client as Source, server as Target.
const std::string kIdmefCommandAndControl =
    R"({"Version": "2.0.3", "Analyzer": {"IP": "0.0.0.0", "Name": "Slips", "Model": "1.1.21", "Category": ["NIDS"], )"
    R"("Data": ["Flow", "Network"], "Method": ["AI"]}, "Status": "Event", "ID": )"
    R"("1384b9cd-4656-40cb-a223-47031e825d3c", "Severity": "High", "StartTime": "2023-04-06T21:20:29.972720+02:00", )"
    R"("CreateTime": "2023-05-07T02:19:56.569804+02:00", "Confidence": 0.9772, "Description": "C&C channel, client )"
    R"(IP: 192.168.1.122 server IP: 104.21.200.33 port: HTTPS 443/tcp score: 0.9772. Threat level: high.", )"
    R"("Source": [{"IP": "192.168.1.122", "Protocol": ["TCP"]}], "Target": [{"IP": "104.21.200.33", "Port": )"
    R"([443]}], "RelID": ["703c3e54-1cce-4371-aebc-559daa59d208"], "Note": "{\"uids\": [\"C4H6qgH8SxRXxWCsQR\"], )"
    R"(\"accumulated_threat_level\": 4.86176, \"threat_level\": \"high\", \"confidence\": \"High\", )"
    R"(\"timewindow\": 1}"})";

const std::string kIdmefIncident =
    R"({"Version": "2.0.3", "Analyzer": {"IP": "0.0.0.0", "Name": "Slips", "Model": "1.1.21", "Category": ["NIDS"], )"
    R"("Data": ["Flow", "Network"], "Method": ["Heuristic"]}, "Source": [{"IP": "192.168.1.113"}], "ID": )"
    R"("9fe5e399-43cf-4adf-9279-688cfce205cd", "Status": "Incident", "StartTime": "2023-04-06T21:04:56+02:00", )"
    R"("CreateTime": "2023-05-07T02:19:57.189439+02:00", "CorrelID": ["d3ac94af-0f21-4db6-acad-4a268d116ece", )"
    R"("babced20-57ee-45cd-a009-02c77ebff206"], "Note": "{\"accumulated_threat_level\": 15.2, \"timewindow\": 1, )"
    R"(\"EndTime\": \"2023-04-06T22:04:56+02:00\"}"})";

const std::string kLegacyAlert =
    R"j({"Format": "Json", "ID": "8b6bfeae-8d76-47a1-bb50-079e08ab4ae4", "DetectTime": )j"
    R"j("2023-05-07T02:19:57.167191+02:00", "EventTime": "2023-05-07T02:19:57.167211+02:00", "Category": "Alert", )j"
    R"j("Confidence": 1, "Source": [{"IP4": ["192.168.1.113"], "Proto": ["TCP"], "Type": ["Recon"]}], "Target": )j"
    R"j([{"IP4": ["192.168.1.157"]}], "Attach": [{"Content": "2023-04-06T21:34:43.690475+02:00: Src IP )j"
    R"j(192.168.1.113             . Generated an alert given enough evidence on timewindow 1. (real time )j"
    R"j(2023/05/07 02:19:57.187058)", "ContentType": "text/plain"}], "ConnCount": 26, "uids": [], )j"
    R"j("accumulated_threat_level": 15.2, "timewindow": 1, "profileid": "profile_192.168.1.113", "threat_level": 15.2})j";

const std::string kRedisEvidence =
    R"({"evidence_type": "PASSWORD_GUESSING", "description": "SSH password guessing to IP 147.32.80.208. Detected )"
    R"(by Slips", "attacker": {"direction": "SRC", "ioc_type": "IP", "value": "192.168.1.113", "profile": {"ip": )"
    R"("192.168.1.113"}, "TI": null, "AS": null, "rDNS": null, "SNI": null, "DNS_resolution": null, "queries": null, )"
    R"("CNAME": null}, "threat_level": "HIGH", "profile": {"ip": "192.168.1.113"}, "timewindow": {"number": 1, )"
    R"("start_time": "", "end_time": ""}, "uid": ["C0zVZomHFwUbbYrEqm"], "timestamp": 1680808325.5098865, )"
    R"("interface": "default", "victim": {"direction": "DST", "ioc_type": "IP", "value": "147.32.80.208", "TI": )"
    R"(null, "AS": {"number": "AS2852", "org": "CESNET z.s.p.o."}, "rDNS": null, "SNI": null, "DNS_resolution": )"
    R"(null, "queries": null, "CNAME": null}, "proto": "TCP", "dst_port": 22, "src_port": 40612, "method": )"
    R"("HEURISTIC", "id": "5822cb77-f4de-4c08-9aea-6429b1491e24", "confidence": 1, "rel_id": null, "version": )"
    R"("1.1.21"})";

// Every line of a real Slips 1.0.13 alerts.json normalizes, keeps its ID and category, and validates.
TEST_F(IdeaNormalizeTest, NormalizesRealLegacyFile) {
  const std::filesystem::path fixture = shared_path("fixtures/slips/alerts-2023-02-20.json");
  if (fixture.empty()) {
    GTEST_SKIP() << "fixtures/slips/alerts-2023-02-20.json is not in the shared tree";
  }
  const std::vector<std::string> lines = read_lines(fixture);
  ASSERT_EQ(lines.size(), 1731u);

  const std::vector<std::string> out = run(lines);

  ASSERT_EQ(out.size(), lines.size()) << read_file(context_.dead_letter_path());
  EXPECT_TRUE(context_.dead_letter_lines().empty());
  for (std::size_t index = 0; index < lines.size(); ++index) {
    const json::Value input = parse_json(lines[index]);
    const json::Value output = parse_json(out[index]);
    ASSERT_EQ(text_at(output, "ID"), text_at(input, "ID")) << "line " << index + 1;
    EXPECT_EQ(text_at(output, "Category"), text_at(input, "Category")) << "line " << index + 1;
    EXPECT_EQ(out[index].find("\"TCP\""), std::string::npos) << "line " << index + 1;
  }
  EXPECT_EQ(context_.metrics().received_events.load(), 1731u);
  EXPECT_EQ(context_.metrics().sent_events.load(), 1731u);
  expect_valid_idea(out, "alerts-2023-02-20");
}

// The generated IDMEFv2 alerts.json fixture (60 evidence, 1 incident) normalizes to valid IDEA0.
TEST_F(IdeaNormalizeTest, NormalizesIdmefFixture) {
  const std::filesystem::path fixture = shared_path("fixtures/slips/alerts-idmefv2-generated.json");
  if (fixture.empty()) {
    GTEST_SKIP() << "fixtures/slips/alerts-idmefv2-generated.json is not in the shared tree";
  }
  const std::vector<std::string> lines = read_lines(fixture);
  const std::vector<std::string> out = run(lines);

  ASSERT_EQ(out.size(), lines.size()) << read_file(context_.dead_letter_path());
  for (std::size_t index = 0; index < lines.size(); ++index) {
    EXPECT_EQ(text_at(parse_json(out[index]), "ID"), text_at(parse_json(lines[index]), "ID"));
  }
  expect_valid_idea(out, "alerts-idmefv2-generated");
}

// Every file format the Slips generator writes normalizes to valid IDEA0, for several seeds and host zones.
TEST_F(IdeaNormalizeTest, NormalizesGeneratedFormats) {
  const std::filesystem::path generator = shared_path("tools/gen_slips_alerts.py");
  if (generator.empty()) {
    GTEST_SKIP() << "tools/gen_slips_alerts.py is not in the shared tree";
  }
  struct Run {
    int seed;
    std::string host_zone;
  };
  const std::vector<Run> runs = {{1, "+02:00"}, {2, "+00:00"}, {3, "-05:30"}};
  const std::vector<std::pair<std::string, std::string>> files = {
      {"alerts.json", "IDMEFv2"},
      {"alerts_idea0_legacy.json", "IDEA0"},
      {"redis_evidence_added.jsonl", "Redis evidence"},
      {"redis_new_alert.jsonl", "Redis alert"},
  };
  std::unique_ptr<Filter> filter = make("zoneless_time_zone: Europe/Prague");
  ASSERT_NE(filter, nullptr);

  for (const Run& run : runs) {
    const std::filesystem::path out_dir = dir_ / ("seed-" + std::to_string(run.seed));
    ASSERT_TRUE(run_python({generator.string(), "--out", out_dir.string(), "--seed", std::to_string(run.seed),
                            "--evidence", "150", "--tz=" + run.host_zone})
                    .has_value());
    for (const auto& [file, input_format] : files) {
      SCOPED_TRACE(file + " seed " + std::to_string(run.seed) + " tz " + run.host_zone);
      const std::vector<std::string> lines = read_lines(out_dir / file);
      ASSERT_FALSE(lines.empty());
      FakeFilterContext context(dir_.path(), "idea_normalize");
      context.run(*filter, batch_of(lines, file));
      const std::vector<std::string> out = context.event_texts();

      ASSERT_EQ(out.size(), lines.size()) << read_file(context.dead_letter_path());
      for (std::size_t index = 0; index < out.size(); ++index) {
        const json::Value output = parse_json(out[index]);
        const json::Value input = parse_json(lines[index]);
        const std::string input_id = text_at(input, input_format.starts_with("Redis") ? "id" : "ID");
        const std::string output_id = text_at(output, "ID");
        const bool legacy_alert = text_at(input, "Format") == "Json";
        EXPECT_EQ(output_id, legacy_alert ? input_id + "-alert" : input_id) << "line " << index + 1;
        EXPECT_EQ(text_at(output, "_Slips.InputFormat"), input_format) << "line " << index + 1;
      }
      expect_valid_idea(out, "seed-" + std::to_string(run.seed) + "-" + file);
    }
  }
}

// An IDMEFv2 line has no category: the horizontal scan is recovered from the description.
TEST_F(IdeaNormalizeTest, RecoversIdmefScanCategory) {
  const json::Value idea = run_one(kIdmefHorizontalScan);

  EXPECT_EQ(text_at(idea, "Format"), "IDEA0");
  EXPECT_EQ(text_at(idea, "ID"), "babced20-57ee-45cd-a009-02c77ebff206");
  EXPECT_EQ(text_at(idea, "Category"), R"(["Recon.Scanning"])");
  EXPECT_EQ(text_at(idea, "Source[0].Type"), R"(["Recon"])");
  EXPECT_EQ(text_at(idea, "Source[0].Proto"), R"(["tcp"])");
  EXPECT_EQ(text_at(idea, "Source[0].IP4[0]"), "192.168.1.113");
  EXPECT_EQ(text_at(idea, "DetectTime"), "2023-05-07T00:19:56.052551Z");
  EXPECT_EQ(text_at(idea, "EventTime"), "2023-04-06T19:06:26.757219Z");
  EXPECT_EQ(text_at(idea, "Confidence"), "0.6");
  EXPECT_EQ(text_at(idea, "_Slips.EvidenceType"), "HORIZONTAL_PORT_SCAN");
  EXPECT_EQ(text_at(idea, "_Slips.ThreatLevel"), "high");
  EXPECT_EQ(text_at(idea, "_Slips.AccumulatedThreatLevel"), "1.28");
  EXPECT_EQ(text_at(idea, "_Slips.TimeWindow"), "1");
  EXPECT_EQ(text_at(idea, "_Slips.UIDs[2]"), "CuDL7DxtpYlSXpfKtH");
  EXPECT_EQ(idea.find("Target"), nullptr);
  EXPECT_EQ(idea.find("CreateTime"), nullptr);
}

// The " Threat level: x." suffix leaves the description and the attachment, in either capitalisation.
TEST_F(IdeaNormalizeTest, StripsThreatLevelSuffix) {
  const std::vector<std::string> out = run({kIdmefHorizontalScan, kLegacyCommandAndControl});
  ASSERT_EQ(out.size(), 2u);

  const json::Value current = parse_json(out[0]);
  const std::string expected =
      "Horizontal port scan to port http-alt 8080/tcp. From 192.168.1.113 to 19 unique destination IPs. Total "
      "packets sent: 6. Confidence: 0.6. by Slips";
  EXPECT_EQ(text_at(current, "Description"), expected);
  EXPECT_EQ(text_at(current, "Attach[0].Content"), expected);
  EXPECT_EQ(text_at(current, "Attach[0].ContentType"), "text/plain");

  const json::Value legacy = parse_json(out[1]);
  EXPECT_EQ(text_at(legacy, "Description"),
            "C&C channel, client IP: 192.168.1.122 server IP: 104.21.137.100 port: HTTPS 443/tcp score: 0.9605.");
  EXPECT_EQ(text_at(legacy, "_Slips.ThreatLevel"), "high");
}

// The legacy two-Source C&C form stays: client tagged Botnet, server tagged CC with port and lower-case protocol.
TEST_F(IdeaNormalizeTest, KeepsLegacyCommandAndControlSources) {
  const json::Value idea = run_one(kLegacyCommandAndControl);

  EXPECT_EQ(text_at(idea, "Category"), R"(["Intrusion.Botnet"])");
  EXPECT_EQ(text_at(idea, "Source[0].IP4[0]"), "192.168.1.122");
  EXPECT_EQ(text_at(idea, "Source[0].Type"), R"(["Botnet"])");
  EXPECT_EQ(text_at(idea, "Source[1].IP4[0]"), "104.21.137.100");
  EXPECT_EQ(text_at(idea, "Source[1].Type"), R"(["CC"])");
  EXPECT_EQ(text_at(idea, "Source[1].Port"), "[443]");
  EXPECT_EQ(text_at(idea, "Source[1].Proto"), R"(["tcp"])");
  EXPECT_EQ(text_at(idea, "Target[0].IP4[0]"), "104.21.137.100");
  EXPECT_EQ(text_at(idea, "ConnCount"), "1");
  EXPECT_EQ(text_at(idea, "_Slips.EvidenceType"), "COMMAND_AND_CONTROL_CHANNEL");
}

// A current C&C line gets the same two-Source form, the server carrying the destination port.
TEST_F(IdeaNormalizeTest, SplitsIdmefCommandAndControl) {
  const json::Value idea = run_one(kIdmefCommandAndControl);

  EXPECT_EQ(text_at(idea, "Category"), R"(["Intrusion.Botnet"])");
  EXPECT_EQ(text_at(idea, "Source[0].IP4[0]"), "192.168.1.122");
  EXPECT_EQ(text_at(idea, "Source[0].Type"), R"(["Botnet"])");
  EXPECT_EQ(text_at(idea, "Source[1].IP4[0]"), "104.21.200.33");
  EXPECT_EQ(text_at(idea, "Source[1].Type"), R"(["CC"])");
  EXPECT_EQ(text_at(idea, "Source[1].Port"), "[443]");
  EXPECT_EQ(text_at(idea, "Source[1].Proto"), R"(["tcp"])");
  EXPECT_EQ(text_at(idea, "Target[0].Proto"), R"(["tcp"])");
  EXPECT_EQ(text_at(idea, "RelID"), R"(["703c3e54-1cce-4371-aebc-559daa59d208"])");
  EXPECT_EQ(text_at(idea, "_Slips.Method"), "AI");
}

// Private and reserved addresses stay in the normalized record; only a sharing sink may drop them.
TEST_F(IdeaNormalizeTest, KeepsPrivateAddresses) {
  const json::Value idea = run_one(
      R"({"Format": "IDEA0", "ID": "2e170fe8-671a-4609-9bc0-eba72eb909f9", "DetectTime": )"
      R"("2024-05-13T13:14:49.600149+00:00", "Category": ["Recon"], "Source": [{"IP4": ["192.168.1.109"]}], )"
      R"("Target": [{"IP4": ["192.168.1.1"]}, {"IP6": ["fe80::1"]}, {"IP4": ["127.0.0.1"]}]})");

  EXPECT_EQ(text_at(idea, "Source[0].IP4[0]"), "192.168.1.109");
  EXPECT_EQ(text_at(idea, "Target[0].IP4[0]"), "192.168.1.1");
  EXPECT_EQ(text_at(idea, "Target[1].IP6[0]"), "fe80::1");
  EXPECT_EQ(text_at(idea, "Target[2].IP4[0]"), "127.0.0.1");
}

// Redis evidence gives the type, both ports and the flow time, kept to the written microsecond digits.
TEST_F(IdeaNormalizeTest, MapsRedisEvidence) {
  const json::Value idea = run_one(kRedisEvidence);

  EXPECT_EQ(text_at(idea, "ID"), "5822cb77-f4de-4c08-9aea-6429b1491e24");
  EXPECT_EQ(text_at(idea, "Category"), R"(["Attempt.Login"])");
  EXPECT_EQ(text_at(idea, "DetectTime"), "2023-04-06T19:12:05.509886Z");
  EXPECT_EQ(text_at(idea, "EventTime"), "2023-04-06T19:12:05.509886Z");
  EXPECT_EQ(text_at(idea, "Source[0].IP4[0]"), "192.168.1.113");
  EXPECT_EQ(text_at(idea, "Source[0].Port"), "[40612]");
  EXPECT_EQ(text_at(idea, "Source[0].Type"), R"(["Malware"])");
  EXPECT_EQ(text_at(idea, "Target[0].IP4[0]"), "147.32.80.208");
  EXPECT_EQ(text_at(idea, "Target[0].Port"), "[22]");
  EXPECT_EQ(text_at(idea, "Target[0].Proto"), R"(["tcp"])");
  EXPECT_EQ(text_at(idea, "Target[0].ASN"), "[2852]");
  EXPECT_EQ(text_at(idea, "_Slips.ProfileIP"), "192.168.1.113");
  EXPECT_EQ(text_at(idea, "_Slips.ThreatLevel"), "high");
  EXPECT_EQ(text_at(idea, "_Slips.EvidenceType"), "PASSWORD_GUESSING");
}

// An incident becomes an IDEA0 alert: fixed category, correlated evidence IDs and the time window bounds.
TEST_F(IdeaNormalizeTest, ConvertsIncidentToAlert) {
  const json::Value idea = run_one(kIdmefIncident);

  EXPECT_EQ(text_at(idea, "ID"), "9fe5e399-43cf-4adf-9279-688cfce205cd");
  EXPECT_EQ(text_at(idea, "Category"), R"(["Anomaly.Behaviour"])");
  EXPECT_EQ(text_at(idea, "DetectTime"), "2023-05-07T00:19:57.189439Z");
  EXPECT_EQ(text_at(idea, "WinStartTime"), "2023-04-06T19:04:56.000000Z");
  EXPECT_EQ(text_at(idea, "WinEndTime"), "2023-04-06T20:04:56.000000Z");
  EXPECT_EQ(text_at(idea, "CorrelID[1]"), "babced20-57ee-45cd-a009-02c77ebff206");
  EXPECT_EQ(text_at(idea, "Source[0].IP4[0]"), "192.168.1.113");
  EXPECT_EQ(text_at(idea, "Description"),
            "Slips alert: 192.168.1.113 detected as malicious in time window 1 with accumulated threat level 15.2.");
  EXPECT_EQ(text_at(idea, "_Slips.Kind"), "alert");
  EXPECT_EQ(text_at(idea, "_Slips.ProfileIP"), "192.168.1.113");
}

// A legacy alert line reuses its evidence's ID; the alert gets its own ID, correlated with that evidence.
TEST_F(IdeaNormalizeTest, GivesLegacyAlertItsOwnId) {
  const json::Value idea = run_one(kLegacyAlert);

  EXPECT_EQ(text_at(idea, "ID"), "8b6bfeae-8d76-47a1-bb50-079e08ab4ae4-alert");
  EXPECT_EQ(text_at(idea, "CorrelID"), R"(["8b6bfeae-8d76-47a1-bb50-079e08ab4ae4"])");
  EXPECT_EQ(text_at(idea, "Category"), R"(["Anomaly.Behaviour"])");
  EXPECT_EQ(text_at(idea, "Source"), R"([{"IP4":["192.168.1.113"]}])");
  EXPECT_EQ(idea.find("Target"), nullptr);
  EXPECT_EQ(idea.find("ConnCount"), nullptr);
  EXPECT_EQ(text_at(idea, "_Slips.Kind"), "alert");
  EXPECT_EQ(text_at(idea, "_Slips.AccumulatedThreatLevel"), "15.2");
}

// Slips 1.1.1 wrote its logging time as EventTime, after DetectTime; such an EventTime is left out and noted.
TEST_F(IdeaNormalizeTest, DropsEventTimeAfterDetectTime) {
  const json::Value idea = run_one(kLegacyCommandAndControl);

  EXPECT_EQ(text_at(idea, "DetectTime"), "2023-05-07T00:19:56.730921Z");
  EXPECT_EQ(idea.find("EventTime"), nullptr);
  EXPECT_EQ(text_at(idea, "_Slips.TimeNotes[0].Field"), "EventTime");
  EXPECT_EQ(text_at(idea, "_Slips.TimeNotes[0].Issue"), "later than DetectTime, left out");
  EXPECT_EQ(text_at(idea, "_Slips.TimeNotes[0].Raw"), "2023-05-07T00:19:56.730941Z");
}

// The field case's times normalize as its table lists; the record with no valid time is dead-lettered.
TEST_F(IdeaNormalizeTest, NormalizesFieldCaseTimes) {
  const std::filesystem::path fixture = shared_path("cases/016-timestamps-zones-fractions/alerts.json");
  if (fixture.empty()) {
    GTEST_SKIP() << "cases/016-timestamps-zones-fractions is not in the shared tree";
  }
  const std::vector<std::string> expected = {
      "2024-04-09T10:00:00.123456Z", "2024-04-09T10:00:00.000000Z", "2024-04-09T10:00:00.500000Z",
      "2024-04-09T10:00:00.000000Z", "2024-04-09T10:00:00.123456Z", "2024-04-09T10:00:00.000000Z",
      "2024-04-10T11:30:00.000000Z", "2024-04-09T10:00:00.123456Z", "2024-04-09T10:00:00.123457Z",
      "2024-04-09T10:00:00.123457Z", "2024-02-29T10:00:00.000000Z", "2024-04-09T10:00:13.000001Z",
  };
  const std::vector<std::string> out = run(read_lines(fixture), "zoneless_time_zone: UTC");

  ASSERT_EQ(out.size(), expected.size());
  for (std::size_t index = 0; index < out.size(); ++index) {
    EXPECT_EQ(text_at(parse_json(out[index]), "DetectTime"), expected[index]) << "output " << index + 1;
  }
  const json::Value zoneless = parse_json(out[7]);
  EXPECT_EQ(text_at(zoneless, "_Slips.TimeNotes[0].Issue"), "no UTC offset, read in UTC");
  EXPECT_EQ(text_at(zoneless, "_Slips.TimeNotes[0].Raw"), "2024/04/09 10:00:00.123456");
  const json::Value from_event_time = parse_json(out[11]);
  EXPECT_EQ(text_at(from_event_time, "ID"), "00000016-0000-4000-8000-000000000013");
  EXPECT_EQ(text_at(from_event_time, "_Slips.TimeNotes[0].Issue"), "DetectTime missing");
  EXPECT_EQ(text_at(from_event_time, "_Slips.TimeNotes[0].Source"), "EventTime");

  const std::vector<std::string> dead = context_.dead_letter_lines();
  ASSERT_EQ(dead.size(), 1u);
  const json::Value letter = parse_json(dead.front());
  EXPECT_EQ(text_at(letter, "reason"),
            "no valid time for DetectTime: DetectTime invalid (no such calendar date) \"2024-13-45T99:00:00Z\"; "
            "EventTime missing; CreateTime missing");
  EXPECT_EQ(text_at(letter, "line"), "12");
  EXPECT_EQ(context_.metrics().dead_lettered_events.load(), 1u);
}

// With Europe/Prague for zone-less times only the zone-less record moves, by the CEST offset.
TEST_F(IdeaNormalizeTest, AppliesConfiguredZonelessZone) {
  const std::filesystem::path fixture = shared_path("cases/016-timestamps-zones-fractions/alerts.json");
  if (fixture.empty()) {
    GTEST_SKIP() << "cases/016-timestamps-zones-fractions is not in the shared tree";
  }
  const std::vector<std::string> in_utc = run(read_lines(fixture));
  FakeFilterContext prague_context(dir_.path(), "idea_normalize");
  prague_context.run(*make("zoneless_time_zone: Europe/Prague"), batch_of(read_lines(fixture)));
  const std::vector<std::string> in_prague = prague_context.event_texts();

  ASSERT_EQ(in_prague.size(), in_utc.size());
  for (std::size_t index = 0; index < in_utc.size(); ++index) {
    const std::string utc_time = text_at(parse_json(in_utc[index]), "DetectTime");
    const std::string prague_time = text_at(parse_json(in_prague[index]), "DetectTime");
    EXPECT_EQ(prague_time, index == 7 ? "2024-04-09T08:00:00.123456Z" : utc_time) << "output " << index + 1;
  }
}

// An object in no Slips format goes to the dead-letter file with the reason, and is counted.
TEST_F(IdeaNormalizeTest, DeadLettersNonSlipsObject) {
  const std::string line = R"({"message": "hello", "level": "info"})";
  const std::vector<std::string> out = run({line});

  EXPECT_TRUE(out.empty());
  EXPECT_TRUE(context_.emitted().empty());
  const std::vector<std::string> dead = context_.dead_letter_lines();
  ASSERT_EQ(dead.size(), 1u);
  const json::Value letter = parse_json(dead.front());
  EXPECT_TRUE(text_at(letter, "reason").starts_with("not a Slips record: expected an IDMEFv2 alerts.json line"))
      << text_at(letter, "reason");
  EXPECT_EQ(text_at(letter, "raw"), line);
  EXPECT_EQ(text_at(letter, "source"), "alerts.json");
  EXPECT_EQ(context_.metrics().received_events.load(), 1u);
  EXPECT_EQ(context_.metrics().sent_events.load(), 0u);
  EXPECT_EQ(context_.metrics().dead_lettered_events.load(), 1u);
}

// Records without an ID, or with characters IDEA0 IDs cannot hold, are dead-lettered with the reason.
TEST_F(IdeaNormalizeTest, DeadLettersMissingOrInvalidId) {
  const std::vector<std::string> lines = {
      R"({"Format": "IDEA0", "DetectTime": "2024-04-09T10:00:00Z", "Category": ["Other"]})",
      R"({"Format": "IDEA0", "ID": "a b/c", "DetectTime": "2024-04-09T10:00:00Z", "Category": ["Other"]})",
      R"({"Format": "STIX", "ID": "x", "DetectTime": "2024-04-09T10:00:00Z"})",
      R"({"Version": "2.0.3", "Status": "Unknown", "ID": "x"})",
      "[1, 2]",
  };
  const std::vector<std::string> out = run(lines);

  EXPECT_TRUE(out.empty());
  const std::vector<std::string> dead = context_.dead_letter_lines();
  ASSERT_EQ(dead.size(), lines.size());
  EXPECT_EQ(text_at(parse_json(dead[0]), "reason"), "missing or empty \"ID\": IDEA0 requires an ID");
  EXPECT_EQ(text_at(parse_json(dead[1]), "reason"),
            "\"ID\" value \"a b/c\" is not a valid IDEA0 ID: only letters, digits, '.', '_' and '-' are allowed");
  EXPECT_EQ(text_at(parse_json(dead[2]), "reason"),
            "\"Format\" is \"STIX\", expected \"IDEA0\" (or \"Json\" for a Slips 1.1.1 alert line)");
  EXPECT_EQ(text_at(parse_json(dead[3]), "reason"),
            "IDMEFv2 \"Status\" is \"Unknown\", expected \"Event\" or \"Incident\"");
  EXPECT_EQ(text_at(parse_json(dead[4]), "reason"), "top-level value is not a JSON object");
  EXPECT_EQ(context_.metrics().dead_lettered_events.load(), lines.size());
}

// An unknown time zone is a configuration error naming the value.
TEST_F(IdeaNormalizeTest, RejectsUnknownZone) {
  config::Errors errors;
  const std::unique_ptr<Filter> filter = make("zoneless_time_zone: Europe/Atlantis", errors);

  EXPECT_EQ(filter, nullptr);
  ASSERT_EQ(errors.problems().size(), 1u);
  EXPECT_EQ(errors.problems()[0].format(),
            "test.yaml:1:21: filter \"norm\" (idea_normalize): key \"zoneless_time_zone\": unknown time zone "
            "\"Europe/Atlantis\"; use an IANA name such as \"Europe/Prague\", or \"UTC\"");
}

// A node name that is not a dotted identifier is a configuration error naming the value.
TEST_F(IdeaNormalizeTest, RejectsInvalidNodeName) {
  config::Errors errors;
  const std::unique_ptr<Filter> filter = make("node_name: \"slips sensor\"", errors);

  EXPECT_EQ(filter, nullptr);
  ASSERT_EQ(errors.problems().size(), 1u);
  EXPECT_EQ(errors.problems()[0].format(),
            "test.yaml:1:12: filter \"norm\" (idea_normalize): key \"node_name\": \"slips sensor\" is not a valid "
            "IDEA node name; use dot-separated labels of letters, digits, '_' and '-', such as "
            "\"cz.example.slips.sensor1\"");
}

// node_name adds a Node naming Slips, and test_category marks every record as Test.
TEST_F(IdeaNormalizeTest, AddsNodeAndTestCategory) {
  const json::Value idea = run_one(kIdmefHorizontalScan, "node_name: cz.example.slips.sensor1\ntest_category: true");

  EXPECT_EQ(text_at(idea, "Node"), R"([{"Name":"cz.example.slips.sensor1","Type":["Flow","Heuristic"],"SW":["Slips"]}])");
  EXPECT_EQ(text_at(idea, "Category"), R"(["Recon.Scanning","Test"])");
}

// The derived batch carries the input batch's acknowledgements, so checkpoints wait for the outputs.
TEST_F(IdeaNormalizeTest, KeepsBatchAcknowledgements) {
  auto tracker = std::make_shared<AckTracker>([](const std::vector<CheckpointEntry>&) {});
  auto batch = std::make_shared<Batch>();
  batch->events.push_back(Event{kIdmefHorizontalScan, {}});
  batch->acks.push_back(tracker->track({"alerts.json", "100"}));

  context_.run(*make(), batch);

  ASSERT_EQ(context_.emitted().size(), 1u);
  EXPECT_EQ(context_.emitted()[0].batch->acks, batch->acks);
}

// Redis evidence about a domain, a URL and a file lands in Hostname, URL and a hashed attachment.
TEST_F(IdeaNormalizeTest, MapsRedisIndicatorKinds) {
  const std::string evidence =
      R"({"evidence_type": "THREAT_INTELLIGENCE_MALICIOUS_URL", "description": "Connecting to a malicious URL )"
      R"(http://example.com/x.", "attacker": {"direction": "SRC", "ioc_type": "URL", "value": )"
      R"("http://example.com/x"}, "threat_level": "MEDIUM", "timewindow": {"number": 2}, "uid": [], "timestamp": )"
      R"("2023/04/06 21:20:29.972720+0200", "victim": {"direction": "DST", "ioc_type": "DOMAIN", "value": )"
      R"("example.com", "rDNS": "host.example.com"}, "proto": "UDP", "dst_port": 53, "src_port": "0x0008", )"
      R"("method": "HEURISTIC", "id": "0000000a-0000-4000-8000-000000000001", "confidence": 0.5})";
  const std::string file =
      R"({"evidence_type": "MALICIOUS_DOWNLOADED_FILE", "description": "Malicious downloaded file: )"
      R"(4b2c0c4e4a2e4b2c0c4e4a2e4b2c0c4e.", "attacker": {"ioc_type": "MD5", "value": )"
      R"("4b2c0c4e4a2e4b2c0c4e4a2e4b2c0c4e"}, "threat_level": "HIGH", "timestamp": 1680808325, "victim": false, )"
      R"("id": "0000000a-0000-4000-8000-000000000002", "confidence": 1})";
  const std::vector<std::string> out = run({evidence, file});
  ASSERT_EQ(out.size(), 2u) << read_file(context_.dead_letter_path());

  const json::Value url = parse_json(out[0]);
  EXPECT_EQ(text_at(url, "Category"), R"(["Malware"])");
  EXPECT_EQ(text_at(url, "Source[0].URL"), R"(["http://example.com/x"])");
  EXPECT_EQ(url.at_path("Source[0].Port"), nullptr);
  EXPECT_EQ(text_at(url, "Target[0].Hostname"), R"(["example.com","host.example.com"])");
  EXPECT_EQ(text_at(url, "Target[0].Port"), "[53]");
  EXPECT_EQ(text_at(url, "Target[0].Proto"), R"(["udp"])");
  EXPECT_EQ(text_at(url, "DetectTime"), "2023-04-06T19:20:29.972720Z");

  const json::Value malware = parse_json(out[1]);
  EXPECT_EQ(text_at(malware, "Category"), R"(["Malware"])");
  EXPECT_EQ(text_at(malware, "Attach[1].Hash"), R"(["md5:4b2c0c4e4a2e4b2c0c4e4a2e4b2c0c4e"])");
  EXPECT_EQ(text_at(malware, "Attach[1].Type"), R"(["Malware"])");
  EXPECT_EQ(malware.find("Source"), nullptr);
  EXPECT_EQ(text_at(malware, "DetectTime"), "2023-04-06T19:12:05.000000Z");
}

// An IPv6 attacker goes under IP6, and a value that is no address stays visible in the Source Note.
TEST_F(IdeaNormalizeTest, FilesAddressesByForm) {
  const std::string line =
      R"({"Format": "IDEA0", "ID": "x1", "DetectTime": "2024-04-09T10:00:00Z", "Category": ["Recon"], )"
      R"("Source": [{"IP4": ["2001:db8::1", "192.0.2.300"], "IP6": ["192.0.2.7"]}]})";
  const json::Value idea = run_one(line);

  EXPECT_EQ(text_at(idea, "Source[0].IP4"), R"(["192.0.2.7"])");
  EXPECT_EQ(text_at(idea, "Source[0].IP6"), R"(["2001:db8::1"])");
  EXPECT_EQ(text_at(idea, "Source[0].Note"), "address neither IPv4 nor IPv6: 192.0.2.300");
}

// Quotes, control characters and non-ASCII text in a description come out as the same string.
TEST_F(IdeaNormalizeTest, KeepsDescriptionText) {
  const std::string line =
      R"({"Format": "IDEA0", "ID": "x2", "DetectTime": "2024-04-09T10:00:00Z", "Category": ["Other"], )"
      R"("Description": "caf\u00e9 \"quoted\" back\\slash\ttab \u0001 \u2603 threat level: low."})";
  const json::Value idea = run_one(line);

  EXPECT_EQ(text_at(idea, "Description"), "caf\u00e9 \"quoted\" back\\slash\ttab \u0001 \u2603");
  EXPECT_EQ(text_at(idea, "_Slips.ThreatLevel"), "low");
}

// A Note holding only Slips extras moves into _Slips; any other Note stays as written.
TEST_F(IdeaNormalizeTest, LiftsSlipsNoteIntoExtras) {
  const std::string slips_note =
      R"({"Format": "IDEA0", "ID": "x3", "DetectTime": "2024-04-09T10:00:00Z", "Category": ["Recon.Scanning"], )"
      R"("Note": "{\"profile\":\"profile_10.7.114.37\",\"timewindow\":36,\"threat_level\":\"low\",)"
      R"(\"accumulated_threat_level\":11.727,\"evidence_type\":\"hscan\",\"uids\":[\"CclRz3AwzKsbVRJN9w\"]}"})";
  const std::string other_note =
      R"({"Format": "IDEA0", "ID": "x4", "DetectTime": "2024-04-09T10:00:00Z", "Category": ["Recon.Scanning"], )"
      R"("Note": "{\"threat_level\": \"low\", \"analyst\": \"checked\"}"})";
  const std::vector<std::string> out = run({slips_note, other_note});
  ASSERT_EQ(out.size(), 2u);

  const json::Value lifted = parse_json(out[0]);
  EXPECT_EQ(lifted.find("Note"), nullptr);
  EXPECT_EQ(text_at(lifted, "_Slips.ProfileIP"), "10.7.114.37");
  EXPECT_EQ(text_at(lifted, "_Slips.TimeWindow"), "36");
  EXPECT_EQ(text_at(lifted, "_Slips.ThreatLevel"), "low");
  EXPECT_EQ(text_at(lifted, "_Slips.AccumulatedThreatLevel"), "11.727");
  EXPECT_EQ(text_at(lifted, "_Slips.EvidenceType"), "hscan");
  EXPECT_EQ(text_at(lifted, "_Slips.UIDs"), R"(["CclRz3AwzKsbVRJN9w"])");

  const json::Value kept = parse_json(out[1]);
  EXPECT_EQ(text_at(kept, "Note"), R"({"threat_level": "low", "analyst": "checked"})");
  EXPECT_EQ(text_at(kept, "_Slips.ThreatLevel"), "low");
}

// NOTE: out-of-range confidence is clamped to [0, 1] without a note — Slips
// computes an alert's confidence from its threat level without bounds, and
// IDEA0 rejects values outside that range.
TEST_F(IdeaNormalizeTest, ClampsAlertConfidence) {
  const std::string alert =
      R"({"profile": {"ip": "192.0.2.5"}, "timewindow": {"number": 3, "start_time": 1680807896.0, "end_time": )"
      R"(1680811496.0}, "accumulated_threat_level": 30.5, "id": "0000000b-0000-4000-8000-000000000001", )"
      R"("correl_id": ["0000000b-0000-4000-8000-000000000002"], "last_flow_datetime": )"
      R"("2023-04-06T21:41:52.177802+02:00", "threat_level": "CRITICAL", "confidence": 1.2122641509433962})";
  const json::Value idea = run_one(alert);

  EXPECT_EQ(text_at(idea, "Confidence"), "1");
  EXPECT_EQ(text_at(idea, "Category"), R"(["Anomaly.Behaviour"])");
  EXPECT_EQ(text_at(idea, "DetectTime"), "2023-04-06T19:41:52.177802Z");
  EXPECT_EQ(text_at(idea, "WinStartTime"), "2023-04-06T19:04:56.000000Z");
  EXPECT_EQ(text_at(idea, "WinEndTime"), "2023-04-06T20:04:56.000000Z");
  EXPECT_EQ(text_at(idea, "_Slips.ThreatLevel"), "critical");
  EXPECT_EQ(text_at(idea, "_Slips.InputFormat"), "Redis alert");
}

// NOTE: AltNames, Ref, AggrID, PredID and members IDEA0 does not define
// are not copied (Slips never wrote them) — a non-Slips IDEA0 producer loses them here.
TEST_F(IdeaNormalizeTest, DropsUndefinedIdea0Members) {
  const std::string line =
      R"({"Format": "IDEA0", "ID": "x5", "DetectTime": "2024-04-09T10:00:00Z", "Category": ["Other"], )"
      R"("AltNames": ["ticket-1"], "Ref": ["cve:CVE-2014-0160"], "AggrID": ["a1"], "PredID": ["p1"], )"
      R"("_Other": {"x": 1}, "RelID": ["ok-1", "not ok"]})";
  const json::Value idea = run_one(line);

  for (const char* member : {"AltNames", "Ref", "AggrID", "PredID", "_Other"}) {
    EXPECT_EQ(idea.find(member), nullptr) << member;
  }
  // An ID outside the IDEA0 syntax is left out of RelID; the record stays.
  EXPECT_EQ(text_at(idea, "RelID"), R"(["ok-1"])");
}

// The output depends only on the input: the same line normalizes to the same bytes every time.
TEST_F(IdeaNormalizeTest, ProducesSameBytesForSameInput) {
  const std::vector<std::string> out = run({kIdmefIncident, kIdmefIncident, kRedisEvidence, kRedisEvidence});

  ASSERT_EQ(out.size(), 4u);
  EXPECT_EQ(out[0], out[1]);
  EXPECT_EQ(out[2], out[3]);
}

// A batch split over several workers gives the same records and dead letters, in the same order, as one worker.
TEST_F(IdeaNormalizeTest, SharedBatchKeepsRecordOrder) {
  std::vector<std::string> lines;
  for (int index = 0; index < 1000; ++index) {
    const std::string id = index % 7 == 3 ? "bad id " + std::to_string(index) : "id-" + std::to_string(index);
    lines.push_back(R"({"Format": "IDEA0", "ID": ")" + id +
                    R"(", "DetectTime": "2024-04-09T10:00:00Z", "Category": ["Other"], "Note": "record )" +
                    std::to_string(index) + R"("})");
  }
  FakeFilterContext one_worker_context(dir_ / "one", "idea_normalize");
  FakeFilterContext split_context(dir_ / "split", "idea_normalize");

  one_worker_context.run(*make("workers: 1"), batch_of(lines));
  split_context.run(*make("workers: 3"), batch_of(lines));

  const std::vector<std::string> split_records = split_context.event_texts();
  const std::vector<std::string> split_dead_letters = split_context.dead_letter_lines();
  ASSERT_EQ(split_records.size(), 857u);
  ASSERT_EQ(split_dead_letters.size(), 143u);
  EXPECT_EQ(split_records, one_worker_context.event_texts());
  // Dead letters carry the time they were written, so only their record and reason are compared.
  const std::vector<std::string> one_worker_dead_letters = one_worker_context.dead_letter_lines();
  ASSERT_EQ(one_worker_dead_letters.size(), split_dead_letters.size());
  for (std::size_t index = 0; index < split_dead_letters.size(); ++index) {
    const json::Value split_letter = parse_json(split_dead_letters[index]);
    const json::Value one_worker_letter = parse_json(one_worker_dead_letters[index]);
    EXPECT_EQ(text_at(split_letter, "raw"), text_at(one_worker_letter, "raw")) << "dead letter " << index;
    EXPECT_EQ(text_at(split_letter, "reason"), text_at(one_worker_letter, "reason")) << "dead letter " << index;
  }
  std::size_t record = 0;
  std::size_t dead_letter = 0;
  for (std::size_t index = 0; index < lines.size(); ++index) {
    if (index % 7 == 3) {
      EXPECT_EQ(text_at(parse_json(split_dead_letters[dead_letter++]), "raw"), lines[index]);
    } else {
      EXPECT_EQ(text_at(parse_json(split_records[record++]), "ID"), "id-" + std::to_string(index));
    }
  }
  EXPECT_EQ(split_context.metrics().dead_lettered_events.load(), 143u);
}

// A worker count outside 0..64 is a configuration error naming the range.
TEST_F(IdeaNormalizeTest, RejectsNegativeWorkers) {
  config::Errors errors;
  make("workers: -1", errors);

  ASSERT_TRUE(errors.has_errors());
  EXPECT_NE(errors.format().find("workers"), std::string::npos) << errors.format();
}

}  // namespace
}  // namespace slipway::filters
