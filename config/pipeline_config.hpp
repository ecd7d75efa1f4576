// A pipeline file, loaded and checked: top-level settings and the
// components keyed by id, wired together by their `from` lists.
#pragma once

#include <chrono>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include <yaml-cpp/yaml.h>

#include "config/errors.hpp"
#include "config/interpolate.hpp"
#include "config/schema.hpp"
#include "engine/component.hpp"

namespace slipway {
struct ComponentType;
}

namespace slipway::config {

// A reference in a `from` list: `ID` or `ID.PORT`.
struct Upstream {
  std::string id;
  std::string port;  // empty for the default port
};

struct ComponentConfig {
  ComponentKind kind = ComponentKind::Input;
  std::string id;
  const ComponentType* type = nullptr;
  std::vector<Upstream> from;
  YAML::Node node;      // the component's mapping, `type` and `from` included
  Location location;    // of the id
  std::string context;  // `output "archive" (file)`, for messages

  Section settings(const std::string& file) const;
};

struct PipelineConfig {
  std::string file;
  std::filesystem::path data_dir;
  std::filesystem::path dead_letter_path;
  std::optional<std::string> log_level;
  std::chrono::seconds shutdown_timeout{30};
  std::chrono::milliseconds checkpoint_interval{50};
  std::optional<std::string> api_address;  // host:port of /metrics and /health
  std::vector<ComponentConfig> components;  // inputs, then filters, then outputs

  const ComponentConfig* find(const std::string& id) const;
};

// The top-level keys, for validation and `slipway describe`.
const Schema& pipeline_schema();

// Reads, interpolates and checks a pipeline file. Every problem found goes
// to `errors`; the result is empty when any of them is an error.
std::optional<PipelineConfig> load_pipeline(const std::filesystem::path& file, const Environment& environment,
                                            Errors& errors);

// The same for YAML text already in memory; `file` names it in messages.
std::optional<PipelineConfig> load_pipeline_text(const std::string& text, const std::string& file,
                                                 const Environment& environment, Errors& errors);

}  // namespace slipway::config
