// Checks of the wiring between components: every `from` names a component
// that produces events, the graph has no cycle, and nothing is left unread.
#pragma once

#include <yaml-cpp/yaml.h>

#include "config/errors.hpp"
#include "config/pipeline_config.hpp"

namespace slipway::config {

void check_graph(const PipelineConfig& pipeline, const YAML::Node& root, Errors& errors);

}  // namespace slipway::config
