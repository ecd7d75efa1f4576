#include "config/pipeline_config.hpp"

#include <map>

#include <gtest/gtest.h>

#include "engine/output_runtime.hpp"

namespace slipway::config {
namespace {

Environment environment_of(std::map<std::string, std::string> variables) {
  return [variables = std::move(variables)](const std::string& name) -> std::optional<std::string> {
    const auto found = variables.find(name);
    if (found == variables.end()) {
      return std::nullopt;
    }
    return found->second;
  };
}

class PipelineConfigTest : public ::testing::Test {
 protected:
  std::optional<PipelineConfig> load(const std::string& yaml, std::map<std::string, std::string> variables = {}) {
    errors_ = Errors();
    return load_pipeline_text(yaml, "pipeline.yaml", environment_of(std::move(variables)), errors_);
  }

  std::vector<std::string> messages() const {
    std::vector<std::string> lines;
    for (const Problem& problem : errors_.problems()) {
      lines.push_back(problem.format());
    }
    return lines;
  }

  Errors errors_;
};

constexpr const char* kMinimalPipeline = R"(
data_dir: /tmp/slipway-test-data
inputs:
  alerts:
    type: file
    paths: [/tmp/alerts.json]
outputs:
  archive:
    type: file
    from: [alerts]
    path: /tmp/out.json
)";

// A correct file loads with its components in order and no problems.
TEST_F(PipelineConfigTest, LoadsMinimalPipeline) {
  const auto pipeline = load(kMinimalPipeline);
  ASSERT_TRUE(pipeline.has_value()) << errors_.format();
  EXPECT_TRUE(errors_.problems().empty());
  ASSERT_EQ(pipeline->components.size(), 2u);
  EXPECT_EQ(pipeline->components[0].id, "alerts");
  EXPECT_EQ(pipeline->components[1].id, "archive");
  ASSERT_EQ(pipeline->components[1].from.size(), 1u);
  EXPECT_EQ(pipeline->components[1].from[0].id, "alerts");
  EXPECT_EQ(pipeline->data_dir, "/tmp/slipway-test-data");
  EXPECT_EQ(pipeline->dead_letter_path, "/tmp/slipway-test-data/dead_letter.json");
}

// Every mistake in a file is reported in one run, each with its place, the
// key path and, for typos, the closest valid key or value.
TEST_F(PipelineConfigTest, ReportsEveryMistakeAtOnce) {
  const auto pipeline = load(R"(data_dri: ./var
inputs:
  alerts:
    type: file
    paths: [/tmp/alerts.json]
    exit_at_eof: of
    max_line_byte: 1048576
filters: {}
outputs:
  archive:
    type: file
    from: [alerts]
    path: /tmp/out.json
    format: jsonl_lines
    fsync_interval_ms: -3
  console:
    type: stdout
    from: [alerts]
    fromat: json
    fsync: never
dead_letter:
  paht: /tmp/dead.json
log_level: warning
)");
  EXPECT_FALSE(pipeline.has_value());
  const std::vector<std::string> expected = {
      "pipeline.yaml:1:1: pipeline: unknown key \"data_dri\"; did you mean \"data_dir\"?",
      "pipeline.yaml:6:18: input \"alerts\" (file): key \"exit_at_eof\": expected true or false, got \"of\"",
      "pipeline.yaml:7:5: input \"alerts\" (file): unknown key \"max_line_byte\"; did you mean \"max_line_bytes\"?",
      "pipeline.yaml:14:13: output \"archive\" (file): key \"format\": invalid value \"jsonl_lines\"; expected one of: "
      "json, alerts_log, tsv, stix_bundle (did you mean \"json\"?)",
      "pipeline.yaml:15:24: output \"archive\" (file): key \"fsync_interval_ms\": expected an integer of at least 1, "
      "got \"-3\"",
      "pipeline.yaml:19:5: output \"console\" (stdout): unknown key \"fromat\"; did you mean \"format\"?",
      "pipeline.yaml:20:5: output \"console\" (stdout): unknown key \"fsync\"; known keys: type, from, format, buffer, retry",
      "pipeline.yaml:22:3: pipeline: unknown key \"dead_letter.paht\"; did you mean \"path\"?",
      "pipeline.yaml:23:12: pipeline: key \"log_level\": invalid value \"warning\"; expected one of: trace, debug, "
      "info, warn, error, critical, off (did you mean \"warn\"?)",
  };
  std::vector<std::string> reported;
  for (const Problem& problem : errors_.problems()) {
    reported.push_back(problem.format());
  }
  std::sort(reported.begin(), reported.end(), [](const std::string& left, const std::string& right) {
    const auto line_of = [](const std::string& text) { return std::stoi(text.substr(text.find(':') + 1)); };
    return line_of(left) < line_of(right);
  });
  EXPECT_EQ(reported, expected);
}

// A component type that does not exist gets the closest known type.
TEST_F(PipelineConfigTest, SuggestsClosestComponentType) {
  load(R"(
inputs:
  alerts: {type: fiel, paths: [/tmp/a.json]}
outputs:
  archive: {type: file, from: [alerts], path: /tmp/out.json}
)");
  ASSERT_FALSE(errors_.problems().empty());
  EXPECT_EQ(errors_.problems()[0].format(),
            "pipeline.yaml:3:18: input \"alerts\": unknown input type \"fiel\"; did you mean \"file\"?");
}

// A `from` that names no component is an error with a suggestion.
TEST_F(PipelineConfigTest, RejectsUnknownUpstream) {
  load(R"(
inputs:
  alerts: {type: file, paths: [/tmp/a.json]}
outputs:
  archive: {type: file, from: [alert], path: /tmp/out.json}
)");
  const std::vector<std::string> reported = messages();
  ASSERT_FALSE(reported.empty());
  EXPECT_NE(std::find(reported.begin(), reported.end(),
                      "pipeline.yaml:5:31: output \"archive\" (file): key \"from\": no input or filter has the id "
                      "\"alert\"; did you mean \"alerts\"?"),
            reported.end())
      << errors_.format();
}

// Outputs produce nothing, so reading from one is an error.
TEST_F(PipelineConfigTest, RejectsReadingFromOutput) {
  load(R"(
inputs:
  alerts: {type: file, paths: [/tmp/a.json]}
outputs:
  first: {type: file, from: [alerts], path: /tmp/1.json}
  second: {type: file, from: [first], path: /tmp/2.json}
)");
  EXPECT_TRUE(errors_.has_errors());
  EXPECT_NE(errors_.format().find("\"first\" is an output, and outputs produce no events"), std::string::npos)
      << errors_.format();
}

// An input that no component reads is a warning, not an error.
TEST_F(PipelineConfigTest, WarnsAboutUnreadInput) {
  const auto pipeline = load(R"(
inputs:
  alerts: {type: file, paths: [/tmp/a.json]}
  spare: {type: file, paths: [/tmp/b.json]}
outputs:
  archive: {type: file, from: [alerts], path: /tmp/out.json}
)");
  ASSERT_TRUE(pipeline.has_value()) << errors_.format();
  ASSERT_EQ(errors_.problems().size(), 1u);
  EXPECT_EQ(errors_.problems()[0].format(),
            "pipeline.yaml:4:3: warning: input \"spare\" (file): no filter or output reads from it, so its events "
            "are discarded");
}

// Missing `type` and `from` are reported with the component's place.
TEST_F(PipelineConfigTest, ReportsMissingTypeAndFrom) {
  load(R"(
inputs:
  alerts: {paths: [/tmp/a.json]}
outputs:
  archive: {type: file, path: /tmp/out.json}
)");
  const std::string text = errors_.format();
  EXPECT_NE(text.find("pipeline.yaml:3:3: input \"alerts\": missing required key \"type\"; known types:"),
            std::string::npos)
      << text;
  EXPECT_NE(text.find("pipeline.yaml:5:3: output \"archive\" (file): missing required key \"from\""),
            std::string::npos)
      << text;
}

// A key written twice in one mapping is an error instead of a silent choice.
TEST_F(PipelineConfigTest, RejectsRepeatedKey) {
  load(R"(
inputs:
  alerts: {type: file, paths: [/tmp/a.json]}
outputs:
  archive: {type: file, from: [alerts], path: /tmp/1.json, path: /tmp/2.json}
)");
  EXPECT_NE(errors_.format().find("key \"outputs.archive.path\" appears more than once"), std::string::npos)
      << errors_.format();
}

// Broken YAML is reported with its line and column.
TEST_F(PipelineConfigTest, ReportsYamlSyntaxError) {
  load("inputs:\n  alerts: {type: file\n");
  ASSERT_EQ(errors_.problems().size(), 1u);
  EXPECT_EQ(errors_.problems()[0].location.line, 3);
  EXPECT_NE(errors_.problems()[0].message.find("invalid YAML"), std::string::npos);
}

// Variables expand in values; a value with a newline stays one value.
TEST_F(PipelineConfigTest, ExpandsEnvironmentVariables) {
  const auto pipeline = load(R"(
data_dir: ${STATE_DIR:-/var/lib/slipway}
inputs:
  alerts: {type: file, paths: ["${SLIPS_OUTPUT}/alerts.json"]}
outputs:
  archive: {type: file, from: [alerts], path: "${TRICKY}"}
)",
                             {{"SLIPS_OUTPUT", "/data/slips"}, {"TRICKY", "x\"\nmatch: \"*\""}});
  ASSERT_TRUE(pipeline.has_value()) << errors_.format();
  EXPECT_EQ(pipeline->data_dir, "/var/lib/slipway");
  const Section input = pipeline->components[0].settings(pipeline->file);
  EXPECT_EQ(input.strings("paths"), std::vector<std::string>{"/data/slips/alerts.json"});
  const Section output = pipeline->components[1].settings(pipeline->file);
  EXPECT_EQ(output.string("path"), "x\"\nmatch: \"*\"");
  EXPECT_FALSE(output.has("match"));
}

// An unset variable stops loading with an error naming it and its place.
TEST_F(PipelineConfigTest, RejectsUnsetVariable) {
  load(R"(
inputs:
  alerts: {type: file, paths: ["${SLIPS_OUTPUT}/alerts.json"]}
outputs:
  archive: {type: file, from: [alerts], path: /tmp/out.json}
)");
  ASSERT_EQ(errors_.problems().size(), 1u) << errors_.format();
  EXPECT_EQ(errors_.problems()[0].format(),
            "pipeline.yaml:3:32: key \"inputs.alerts.paths[0]\": environment variable \"SLIPS_OUTPUT\" is not set; "
            "set it, or write \"${SLIPS_OUTPUT:-default}\" to give a default");
}

// A disk buffer takes its own defaults: no event limit, 1 GiB of files, fsync on.
TEST_F(PipelineConfigTest, AcceptsDiskBufferWithDefaults) {
  const auto pipeline = load(R"(
inputs:
  alerts: {type: file, paths: [/tmp/a.json]}
outputs:
  archive: {type: file, from: [alerts], path: /tmp/out.json, buffer: {type: disk}}
)");
  ASSERT_TRUE(pipeline.has_value()) << errors_.format();
  const ComponentConfig* archive = pipeline->find("archive");
  ASSERT_NE(archive, nullptr);
  const OutputSettings settings =
      OutputSettings::parse(Section(archive->node, &OutputSettings::kSchema, archive->context, pipeline->file));
  EXPECT_EQ(settings.buffer.type, BufferType::Disk);
  EXPECT_EQ(settings.buffer.max_events, 0u);
  EXPECT_EQ(settings.buffer.max_bytes, std::size_t{1} << 30);
  EXPECT_TRUE(settings.buffer.fsync);
}

// A misspelt buffer key is reported with the closest known one.
TEST_F(PipelineConfigTest, RejectsUnknownBufferKey) {
  load(R"(
inputs:
  alerts: {type: file, paths: [/tmp/a.json]}
outputs:
  archive: {type: file, from: [alerts], path: /tmp/out.json, buffer: {type: disk, fsnyc: false}}
)");
  ASSERT_EQ(errors_.problems().size(), 1u) << errors_.format();
  EXPECT_EQ(errors_.problems()[0].format(),
            "pipeline.yaml:5:83: output \"archive\" (file): unknown key \"buffer.fsnyc\"; did you mean \"fsync\"?");
}

// Output buffer and retry settings are accepted on any output type.
TEST_F(PipelineConfigTest, AcceptsBufferAndRetry) {
  const auto pipeline = load(R"(
inputs:
  alerts: {type: file, paths: [/tmp/a.json]}
outputs:
  archive:
    type: file
    from: [alerts]
    path: /tmp/out.json
    buffer: {max_events: 500, when_full: drop_newest}
    retry: {max_retries: 3, initial_backoff_ms: 10}
)");
  ASSERT_TRUE(pipeline.has_value()) << errors_.format();
  EXPECT_TRUE(errors_.problems().empty()) << errors_.format();
}

}  // namespace
}  // namespace slipway::config
