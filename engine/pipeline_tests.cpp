#include "engine/pipeline_tests.hpp"

#include <stdlib.h>

#include <algorithm>
#include <cstdio>
#include <map>

#include <fmt/format.h>
#include <fmt/ranges.h>
#include <spdlog/sinks/null_sink.h>
#include <yaml-cpp/yaml.h>

#include "config/pipeline_config.hpp"
#include "engine/command_support.hpp"
#include "engine/dead_letter.hpp"
#include "engine/json.hpp"
#include "engine/registry.hpp"
#include "filters/filter_support.hpp"

namespace slipway::pipeline_tests {

namespace {

const std::vector<std::string> kCaseKeys = {"name", "component", "input", "expected", "expected_ports"};

// A filter context that keeps what the filter sends, per port.
class RecordingContext final : public FilterContext {
 public:
  RecordingContext(const config::ComponentConfig& component, std::filesystem::path data_dir)
      : FilterContext(ComponentKind::Filter, component.id, component.type->name,
                      std::make_shared<spdlog::logger>(component.id, std::make_shared<spdlog::sinks::null_sink_mt>()),
                      data_dir, std::make_shared<DeadLetterQueue>(data_dir / "dead_letter.json")) {}

  void emit(Batch batch) override { emit_to("", std::move(batch)); }
  void forward(const BatchPtr& batch) override { record("", *batch); }
  void emit_to(std::string_view port, Batch batch) override { record(port, batch); }

  std::map<std::string, std::vector<std::string>, std::less<>> events_by_port;

 private:
  void record(std::string_view port, const Batch& batch) {
    std::vector<std::string>& events = events_by_port[std::string(port)];
    for (const Event& event : batch.events) {
      events.push_back(event.json);
    }
  }
};

// A directory for the filter's state, removed when the case ends.
class ScratchDir {
 public:
  ScratchDir() {
    std::string pattern = (std::filesystem::temp_directory_path() / "slipway-test-XXXXXX").string();
    if (::mkdtemp(pattern.data()) == nullptr) {
      throw std::runtime_error("failed to create a temporary directory for a test case");
    }
    path_ = pattern;
  }
  ~ScratchDir() {
    std::error_code ignored;
    std::filesystem::remove_all(path_, ignored);
  }
  const std::filesystem::path& path() const { return path_; }

 private:
  std::filesystem::path path_;
};

// "FILE:LINE:COL" of a node, for messages.
std::string where(const YAML::Node& node, const std::string& file) {
  const YAML::Mark mark = node.Mark();
  return mark.is_null() ? file : fmt::format("{}:{}:{}", file, mark.line + 1, mark.column + 1);
}

// Writes YAML as JSON. Quoted scalars stay strings; plain ones that read as
// JSON numbers, true, false or null become those.
void append_yaml_as_json(const YAML::Node& node, std::string& out) {
  switch (node.Type()) {
    case YAML::NodeType::Map: {
      out += '{';
      bool first = true;
      for (const auto& member : node) {
        if (!first) {
          out += ',';
        }
        first = false;
        json::append_quoted(member.first.Scalar(), out);
        out += ':';
        append_yaml_as_json(member.second, out);
      }
      out += '}';
      return;
    }
    case YAML::NodeType::Sequence: {
      out += '[';
      for (std::size_t index = 0; index < node.size(); ++index) {
        if (index > 0) {
          out += ',';
        }
        append_yaml_as_json(node[index], out);
      }
      out += ']';
      return;
    }
    case YAML::NodeType::Scalar: {
      const std::string& text = node.Scalar();
      const bool quoted = node.Tag() == "!";
      if (!quoted && (text == "true" || text == "false" || text == "null" || filters::is_json_number(text))) {
        out += text;
      } else {
        json::append_quoted(text, out);
      }
      return;
    }
    default:
      out += "null";
  }
}

// An event as JSON text: a scalar is taken as JSON text, a mapping converted.
std::optional<std::string> event_text(const YAML::Node& item, const std::string& file, std::string& errors) {
  std::string text;
  if (item.IsScalar()) {
    text = item.Scalar();
  } else {
    append_yaml_as_json(item, text);
  }
  const json::ParseResult parsed = json::parse(text);
  if (!parsed.value || !parsed.value->is_object()) {
    errors += fmt::format("{}: an event must be a mapping or a JSON object; {}\n",
                          where(item, file), parsed.error.empty() ? "got another value" : parsed.error);
    return std::nullopt;
  }
  return text;
}

void sort_members(json::Value& value) {
  if (value.is_object()) {
    std::stable_sort(value.members().begin(), value.members().end(),
                     [](const json::Value::Member& left, const json::Value::Member& right) {
                       return left.first < right.first;
                     });
    for (json::Value::Member& member : value.members()) {
      sort_members(member.second);
    }
  } else if (value.is_array()) {
    for (json::Value& item : value.items()) {
      sort_members(item);
    }
  }
}

// The text two events with equal content share, whatever their member order.
std::string canonical(const std::string& text) {
  json::ParseResult parsed = json::parse(text);
  if (!parsed.value) {
    return text;
  }
  sort_members(*parsed.value);
  return json::to_string(*parsed.value);
}

void collect_differences(const json::Value* expected, const json::Value* actual, const std::string& path,
                         std::vector<std::string>& lines) {
  const std::string name = path.empty() ? "event" : path;
  if (expected == nullptr) {
    lines.push_back(fmt::format("{}: not expected, got {}", name, json::to_string(*actual)));
    return;
  }
  if (actual == nullptr) {
    lines.push_back(fmt::format("{}: missing, expected {}", name, json::to_string(*expected)));
    return;
  }
  if (expected->is_object() && actual->is_object()) {
    for (const json::Value::Member& member : expected->members()) {
      collect_differences(&member.second, actual->find(member.first),
                          path.empty() ? member.first : path + "." + member.first, lines);
    }
    for (const json::Value::Member& member : actual->members()) {
      if (expected->find(member.first) == nullptr) {
        collect_differences(nullptr, &member.second, path.empty() ? member.first : path + "." + member.first, lines);
      }
    }
    return;
  }
  if (expected->is_array() && actual->is_array()) {
    const std::size_t count = std::max(expected->items().size(), actual->items().size());
    for (std::size_t index = 0; index < count; ++index) {
      const json::Value* expected_item = index < expected->items().size() ? &expected->items()[index] : nullptr;
      const json::Value* actual_item = index < actual->items().size() ? &actual->items()[index] : nullptr;
      collect_differences(expected_item, actual_item, fmt::format("{}[{}]", path, index), lines);
    }
    return;
  }
  if (!(*expected == *actual)) {
    lines.push_back(fmt::format("{}: expected {}, got {}", name, json::to_string(*expected), json::to_string(*actual)));
  }
}

void compare_port(const std::string& port, const std::vector<std::string>& expected,
                  const std::vector<std::string>& actual, std::string& diff) {
  const std::string port_name = port.empty() ? "default port" : "port " + port;
  if (expected.size() != actual.size()) {
    diff += fmt::format("  {}: expected {} events, got {}\n", port_name, expected.size(), actual.size());
  }
  const std::size_t count = std::max(expected.size(), actual.size());
  for (std::size_t index = 0; index < count; ++index) {
    if (index >= actual.size()) {
      diff += fmt::format("  {}, event {}: missing, expected {}\n", port_name, index + 1, expected[index]);
      continue;
    }
    if (index >= expected.size()) {
      diff += fmt::format("  {}, event {}: not expected, got {}\n", port_name, index + 1, actual[index]);
      continue;
    }
    if (canonical(expected[index]) == canonical(actual[index])) {
      continue;
    }
    const std::string difference = describe_difference(expected[index], actual[index]);
    std::size_t start = 0;
    while (start < difference.size()) {
      const std::size_t end = std::min(difference.find('\n', start), difference.size());
      diff += fmt::format("  {}, event {}: {}\n", port_name, index + 1, difference.substr(start, end - start));
      start = end + 1;
    }
  }
}

std::optional<std::vector<std::string>> event_list(const YAML::Node& node, const std::string& file,
                                                   std::string& errors) {
  if (!node.IsSequence()) {
    errors += fmt::format("{}: expected a list of events\n", where(node, file));
    return std::nullopt;
  }
  std::vector<std::string> events;
  for (const YAML::Node& item : node) {
    std::optional<std::string> text = event_text(item, file, errors);
    if (!text) {
      return std::nullopt;
    }
    events.push_back(std::move(*text));
  }
  return events;
}

std::optional<CaseResult> run_case(const config::PipelineConfig& pipeline, const YAML::Node& test,
                                   const std::string& file, std::string& errors) {
  for (const auto& member : test) {
    const std::string key = member.first.Scalar();
    if (std::find(kCaseKeys.begin(), kCaseKeys.end(), key) == kCaseKeys.end()) {
      const std::optional<std::string> closest = config::closest_name(key, kCaseKeys);
      errors += fmt::format("{}: unknown key \"{}\" in a test case{}\n", where(member.first, file),
                            key, closest ? fmt::format("; did you mean \"{}\"?", *closest) : "");
      return std::nullopt;
    }
  }
  for (const char* key : {"name", "component", "input"}) {
    if (!test[key]) {
      errors += fmt::format("{}: missing key \"{}\" in a test case\n", where(test, file), key);
      return std::nullopt;
    }
  }

  CaseResult result;
  result.name = test["name"].Scalar();
  const std::string component_id = test["component"].Scalar();
  const config::ComponentConfig* component = pipeline.find(component_id);
  if (component == nullptr || component->kind != ComponentKind::Filter) {
    errors += fmt::format("{}: \"{}\" is not a filter of {}; slipway test runs the pipeline's filters\n",
                          where(test["component"], file), component_id, pipeline.file);
    return std::nullopt;
  }

  std::optional<std::vector<std::string>> input = event_list(test["input"], file, errors);
  std::map<std::string, std::vector<std::string>> expected;
  if (test["expected"]) {
    std::optional<std::vector<std::string>> events = event_list(test["expected"], file, errors);
    if (!events) {
      return std::nullopt;
    }
    expected[""] = std::move(*events);
  }
  if (test["expected_ports"]) {
    for (const auto& port : test["expected_ports"]) {
      std::optional<std::vector<std::string>> events = event_list(port.second, file, errors);
      if (!events) {
        return std::nullopt;
      }
      expected[port.first.Scalar()] = std::move(*events);
    }
  }
  if (!input) {
    return std::nullopt;
  }

  // A fresh filter and state directory per case, so cases never see each other's state.
  ScratchDir scratch;
  config::Errors config_errors;
  std::unique_ptr<Filter> filter = component->type->make_filter(component->settings(pipeline.file), config_errors);
  if (!filter) {
    errors += config_errors.format();
    return std::nullopt;
  }
  RecordingContext context(*component, scratch.path());
  auto batch = std::make_shared<Batch>();
  for (std::string& text : *input) {
    batch->events.push_back(Event{std::move(text), {}});
  }
  filter->process(batch, context);
  filter->finish(context);

  for (const auto& [port, events] : expected) {
    const auto found = context.events_by_port.find(port);
    compare_port(port, events, found == context.events_by_port.end() ? std::vector<std::string>{} : found->second,
                 result.diff);
  }
  result.passed = result.diff.empty();
  return result;
}

}  // namespace

std::string describe_difference(const std::string& expected, const std::string& actual) {
  const json::ParseResult expected_value = json::parse(expected);
  const json::ParseResult actual_value = json::parse(actual);
  if (!expected_value.value || !actual_value.value) {
    return fmt::format("expected {}, got {}", expected, actual);
  }
  std::vector<std::string> lines;
  collect_differences(&*expected_value.value, &*actual_value.value, "", lines);
  return fmt::format("{}", fmt::join(lines, "\n"));
}

std::vector<CaseResult> run_file(const std::filesystem::path& pipeline_file, const std::filesystem::path& test_file,
                                 std::string& errors) {
  config::Errors config_errors;
  std::optional<config::PipelineConfig> pipeline =
      config::load_pipeline(pipeline_file, config::process_environment(), config_errors);
  if (!pipeline) {
    errors += config_errors.format();
    return {};
  }

  YAML::Node root;
  try {
    root = YAML::LoadFile(test_file.string());
  } catch (const YAML::Exception& error) {
    errors += fmt::format("{}:{}:{}: invalid YAML: {}\n", test_file.string(), error.mark.line + 1,
                          error.mark.column + 1, error.msg);
    return {};
  }
  const std::string file = test_file.string();
  if (!root.IsMap() || !root["tests"] || !root["tests"].IsSequence()) {
    errors += fmt::format("{}:1:1: expected a mapping with a list under \"tests\"\n", file);
    return {};
  }

  std::vector<CaseResult> results;
  for (const YAML::Node& test : root["tests"]) {
    if (!test.IsMap()) {
      errors += fmt::format("{}: expected a test case mapping\n", where(test, file));
      return {};
    }
    std::optional<CaseResult> result = run_case(*pipeline, test, file, errors);
    if (!result) {
      return {};
    }
    results.push_back(std::move(*result));
  }
  return results;
}

int run(const std::filesystem::path& pipeline_file, const std::vector<std::filesystem::path>& test_files,
        const commands::GlobalOptions& options) {
  commands::configure_logging(options, nullptr);
  std::size_t passed = 0;
  std::size_t failed = 0;
  for (const std::filesystem::path& test_file : test_files) {
    std::string errors;
    const std::vector<CaseResult> results = run_file(pipeline_file, test_file, errors);
    if (!errors.empty()) {
      std::fputs(errors.c_str(), stderr);
      return commands::kExitConfig;
    }
    for (const CaseResult& result : results) {
      if (result.passed) {
        ++passed;
        std::printf("PASS %s: %s\n", test_file.c_str(), result.name.c_str());
      } else {
        ++failed;
        std::printf("FAIL %s: %s\n%s", test_file.c_str(), result.name.c_str(), result.diff.c_str());
      }
    }
  }
  std::printf("%zu passed, %zu failed\n", passed, failed);
  return failed == 0 ? commands::kExitOk : commands::kExitFailure;
}

}  // namespace slipway::pipeline_tests
