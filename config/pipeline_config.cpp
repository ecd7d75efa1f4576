#include "config/pipeline_config.hpp"

#include <algorithm>
#include <fstream>
#include <map>
#include <set>
#include <sstream>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "config/graph_check.hpp"
#include "engine/output_runtime.hpp"
#include "engine/registry.hpp"

namespace slipway::config {

namespace {

const Schema kDeadLetterSchema{{
    Field{.name = "path",
          .type = FieldType::String,
          .doc = "File that records no component could process are appended to, as JSON lines "
                 "(default: dead_letter.json in data_dir)"},
}};

const Schema kApiSchema{{
    Field{.name = "address",
          .type = FieldType::String,
          .doc = "host:port to serve /metrics (Prometheus text) and /health on, e.g. 127.0.0.1:9580",
          .required = true},
}};

const Schema kPipelineSchema{{
    Field{.name = "data_dir",
          .type = FieldType::String,
          .doc = "Directory for checkpoints and other state, relative to the working directory; created if missing",
          .default_text = "./var"},
    Field{.name = "log_level",
          .type = FieldType::Enum,
          .doc = "Least severe log level written; the --log-level option overrides it",
          .default_text = "info",
          .choices = {"trace", "debug", "info", "warn", "error", "critical", "off"}},
    Field{.name = "shutdown_timeout_secs",
          .type = FieldType::Integer,
          .doc = "Seconds a stop waits for outputs to deliver events in flight; what is left is read again "
                 "at the next start",
          .default_text = "30",
          .min = 0},
    Field{.name = "checkpoint_interval_ms",
          .type = FieldType::Integer,
          .doc = "Shortest time between two commits of input checkpoints, in milliseconds. After a crash the "
                 "events delivered in this time are sent again; 0 commits after every delivered batch, which "
                 "costs throughput",
          .default_text = "50",
          .min = 0},
    Field{.name = "api",
          .type = FieldType::Object,
          .doc = "Serve metrics and health over HTTP; off when absent",
          .nested = &kApiSchema},
    Field{.name = "dead_letter",
          .type = FieldType::Object,
          .doc = "Where records that cannot be processed are kept",
          .nested = &kDeadLetterSchema},
}};

const std::vector<std::string> kComponentSections = {"inputs", "filters", "outputs"};
const std::vector<std::string> kComponentReservedKeys = {"type", "from"};

Location location_of(const YAML::Node& node, const std::string& file) {
  if (!node.IsDefined()) {
    return Location{file, 0, 0};
  }
  const YAML::Mark mark = node.Mark();
  if (mark.is_null()) {
    return Location{file, 0, 0};
  }
  return Location{file, mark.line + 1, mark.column + 1};
}

bool is_valid_component_id(const std::string& id) {
  if (id.empty()) {
    return false;
  }
  return std::all_of(id.begin(), id.end(), [](char character) {
    return std::isalnum(static_cast<unsigned char>(character)) || character == '_' || character == '-';
  });
}

// Expands `${VAR}` in every scalar value of the tree in place and rejects
// repeated keys in a mapping, which YAML parsers otherwise resolve silently.
class TreePreparer {
 public:
  TreePreparer(const std::string& file, const Environment& environment, Errors& errors)
      : file_(file), environment_(environment), errors_(errors) {}

  void prepare(YAML::Node node, const std::string& path) {
    switch (node.Type()) {
      case YAML::NodeType::Scalar:
        expand_scalar(node, path);
        return;
      case YAML::NodeType::Sequence:
        for (std::size_t index = 0; index < node.size(); ++index) {
          prepare(node[index], fmt::format("{}[{}]", path, index));
        }
        return;
      case YAML::NodeType::Map:
        prepare_mapping(node, path);
        return;
      default:
        return;
    }
  }

 private:
  void prepare_mapping(YAML::Node node, const std::string& path) {
    std::set<std::string> seen;
    for (auto entry : node) {
      const std::string key = entry.first.Scalar();
      const std::string child_path = path.empty() ? key : path + "." + key;
      if (!seen.insert(key).second) {
        errors_.add(location_of(entry.first, file_),
                    fmt::format("key \"{}\" appears more than once; keep one", child_path));
      }
      prepare(entry.second, child_path);
    }
  }

  void expand_scalar(YAML::Node node, const std::string& path) {
    const std::string& text = node.Scalar();
    if (text.find('$') == std::string::npos) {
      return;
    }
    InterpolationResult result = interpolate(text, environment_);
    if (!result.error.empty()) {
      errors_.add(location_of(node, file_), fmt::format("key \"{}\": {}", path, result.error));
      return;
    }
    node = result.value;
  }

  const std::string& file_;
  const Environment& environment_;
  Errors& errors_;
};

std::vector<Upstream> parse_upstreams(const YAML::Node& from, const std::string& context, const std::string& file,
                                      Errors& errors) {
  std::vector<Upstream> upstreams;
  std::vector<YAML::Node> items;
  if (from.IsScalar()) {
    items.push_back(from);
  } else if (from.IsSequence()) {
    for (const auto& item : from) {
      items.push_back(item);
    }
  } else {
    errors.add(location_of(from, file),
               fmt::format("{}: key \"from\": expected a list of component ids, e.g. [alerts]", context));
    return upstreams;
  }

  for (const YAML::Node& item : items) {
    if (!item.IsScalar() || item.Scalar().empty()) {
      errors.add(location_of(item, file), fmt::format("{}: key \"from\": expected a component id", context));
      continue;
    }
    const std::string& text = item.Scalar();
    const std::size_t dot = text.find('.');
    Upstream upstream;
    upstream.id = text.substr(0, dot);
    if (dot != std::string::npos) {
      upstream.port = text.substr(dot + 1);
    }
    upstreams.push_back(std::move(upstream));
  }
  if (items.empty()) {
    errors.add(location_of(from, file),
               fmt::format("{}: key \"from\" is empty; name the component ids to read from", context));
  }
  return upstreams;
}

class ComponentLoader {
 public:
  ComponentLoader(const std::string& file, Errors& errors) : file_(file), errors_(errors) {}

  void load_section(const YAML::Node& root, ComponentKind kind, const std::string& section,
                    std::vector<ComponentConfig>& components) {
    const YAML::Node node = root[section];
    if (!node.IsDefined() || node.IsNull()) {
      return;
    }
    if (!node.IsMap()) {
      errors_.add(location_of(node, file_),
                  fmt::format("\"{}\" must be a mapping from component id to its settings", section));
      return;
    }
    for (const auto& entry : node) {
      if (auto component = load_component(kind, entry.first, entry.second)) {
        components.push_back(std::move(*component));
      }
    }
  }

 private:
  std::optional<ComponentConfig> load_component(ComponentKind kind, const YAML::Node& key, const YAML::Node& value) {
    ComponentConfig component;
    component.kind = kind;
    component.id = key.Scalar();
    component.node = value;
    component.location = location_of(key, file_);
    const char* kind_name = component_kind_name(kind);

    if (!is_valid_component_id(component.id)) {
      errors_.add(component.location,
                  fmt::format("{} id \"{}\" is invalid; use letters, digits, \"_\" and \"-\"", kind_name,
                              component.id));
      return std::nullopt;
    }
    if (!ids_.insert(component.id).second) {
      errors_.add(component.location,
                  fmt::format("{} id \"{}\" is already used by another component; ids are unique across "
                              "inputs, filters and outputs",
                              kind_name, component.id));
      return std::nullopt;
    }
    if (!value.IsMap()) {
      errors_.add(component.location,
                  fmt::format("{} \"{}\": expected a mapping with at least \"type\"", kind_name, component.id));
      return std::nullopt;
    }

    const YAML::Node type_node = value["type"];
    if (!type_node.IsDefined() || !type_node.IsScalar()) {
      errors_.add(component.location, fmt::format("{} \"{}\": missing required key \"type\"; known types: {}",
                                                  kind_name, component.id, known_type_names(kind)));
      component.context = fmt::format("{} \"{}\"", kind_name, component.id);
      load_from(component, value);
      return component;
    }
    const std::string type_name = type_node.Scalar();
    component.context = fmt::format("{} \"{}\" ({})", kind_name, component.id, type_name);
    component.type = Registry::instance().find(kind, type_name);
    load_from(component, value);
    if (component.type == nullptr) {
      // Kept without a type, so references to its id do not add errors of their own.
      report_unknown_type(kind, component.id, type_name, location_of(type_node, file_));
      return component;
    }
    if (kind == ComponentKind::Output) {
      // Outputs also take the engine's `buffer` and `retry` keys.
      Schema output_schema = *component.type->schema;
      output_schema.fields.insert(output_schema.fields.end(), OutputSettings::kSchema.fields.begin(),
                                  OutputSettings::kSchema.fields.end());
      check_against_schema(value, output_schema, component.context, file_, "", errors_, kComponentReservedKeys);
    } else {
      check_against_schema(value, *component.type->schema, component.context, file_, "", errors_,
                           kComponentReservedKeys);
    }
    return component;
  }

  void load_from(ComponentConfig& component, const YAML::Node& value) {
    const YAML::Node from = value["from"];
    const bool has_from = from.IsDefined() && !from.IsNull();
    if (component.kind == ComponentKind::Input) {
      if (has_from) {
        errors_.add(location_of(from, file_),
                    fmt::format("{}: inputs do not read from other components; remove \"from\"", component.context));
      }
      return;
    }
    if (!has_from) {
      errors_.add(component.location,
                  fmt::format("{}: missing required key \"from\" (the ids of the components it reads from)",
                              component.context));
      return;
    }
    component.from = parse_upstreams(from, component.context, file_, errors_);
  }

  static std::string known_type_names(ComponentKind kind) {
    std::vector<std::string> names;
    for (const ComponentType* type : Registry::instance().all(kind)) {
      names.push_back(type->name);
    }
    std::sort(names.begin(), names.end());
    return fmt::format("{}", fmt::join(names, ", "));
  }

  void report_unknown_type(ComponentKind kind, const std::string& id, const std::string& type_name,
                           Location location) {
    std::vector<std::string> names;
    for (const ComponentType* type : Registry::instance().all(kind)) {
      names.push_back(type->name);
    }
    std::string message = fmt::format("{} \"{}\": unknown {} type \"{}\"", component_kind_name(kind), id,
                                      component_kind_name(kind), type_name);
    if (const auto suggestion = closest_name(type_name, names)) {
      message += fmt::format("; did you mean \"{}\"?", *suggestion);
    } else {
      message += fmt::format("; known types: {}", known_type_names(kind));
    }
    errors_.add(location, std::move(message));
  }

  const std::string& file_;
  Errors& errors_;
  std::set<std::string> ids_;
};

}  // namespace

Section ComponentConfig::settings(const std::string& file) const {
  return Section(node, type != nullptr ? type->schema : nullptr, context, file);
}

const ComponentConfig* PipelineConfig::find(const std::string& id) const {
  for (const ComponentConfig& component : components) {
    if (component.id == id) {
      return &component;
    }
  }
  return nullptr;
}

const Schema& pipeline_schema() { return kPipelineSchema; }

std::optional<PipelineConfig> load_pipeline_text(const std::string& text, const std::string& file,
                                                 const Environment& environment, Errors& errors) {
  YAML::Node root;
  try {
    root = YAML::Load(text);
  } catch (const YAML::Exception& error) {
    errors.add(Location{file, error.mark.line + 1, error.mark.column + 1},
               fmt::format("invalid YAML: {}", error.msg));
    return std::nullopt;
  }
  if (!root.IsMap()) {
    errors.add(Location{file, 1, 1},
               "a pipeline file is a mapping with \"inputs\", \"filters\" and \"outputs\"; this file is not");
    return std::nullopt;
  }

  TreePreparer(file, environment, errors).prepare(root, "");
  check_against_schema(root, kPipelineSchema, "pipeline", file, "", errors, kComponentSections);

  PipelineConfig pipeline;
  pipeline.file = file;
  const Section settings(root, &kPipelineSchema, "pipeline", file);
  pipeline.data_dir = settings.string("data_dir");
  pipeline.dead_letter_path = settings.object("dead_letter").has("path")
                                  ? std::filesystem::path(settings.object("dead_letter").string("path"))
                                  : pipeline.data_dir / "dead_letter.json";
  pipeline.shutdown_timeout = std::chrono::seconds(settings.integer("shutdown_timeout_secs"));
  pipeline.checkpoint_interval = std::chrono::milliseconds(settings.integer("checkpoint_interval_ms"));
  if (settings.has("api")) {
    const Section api = settings.object("api");
    const std::string address = api.string("address");
    const std::size_t colon = address.rfind(':');
    const std::string port = colon == std::string::npos ? "" : address.substr(colon + 1);
    const bool valid_port = !port.empty() && port.size() <= 5 &&
                            port.find_first_not_of("0123456789") == std::string::npos && std::stoi(port) <= 65535;
    if (!valid_port) {
      errors.add(api.location("address"),
                 fmt::format("pipeline: key \"api.address\": invalid address \"{}\"; write host:port, e.g. "
                             "127.0.0.1:9580",
                             address));
    }
    pipeline.api_address = address;
  }
  if (settings.has("log_level")) {
    pipeline.log_level = settings.string("log_level");
  }

  ComponentLoader loader(file, errors);
  loader.load_section(root, ComponentKind::Input, "inputs", pipeline.components);
  loader.load_section(root, ComponentKind::Filter, "filters", pipeline.components);
  loader.load_section(root, ComponentKind::Output, "outputs", pipeline.components);

  check_graph(pipeline, root, errors);
  if (errors.has_errors()) {
    return std::nullopt;
  }
  return pipeline;
}

std::optional<PipelineConfig> load_pipeline(const std::filesystem::path& file, const Environment& environment,
                                            Errors& errors) {
  std::ifstream stream(file, std::ios::binary);
  if (!stream) {
    errors.add(Location{file.string(), 0, 0}, "cannot open the pipeline file; check the path and permissions");
    return std::nullopt;
  }
  std::ostringstream text;
  text << stream.rdbuf();
  return load_pipeline_text(text.str(), file.string(), environment, errors);
}

}  // namespace slipway::config
