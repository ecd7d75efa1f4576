#include "config/graph_check.hpp"

#include <algorithm>
#include <functional>
#include <map>
#include <set>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "engine/registry.hpp"

namespace slipway::config {

namespace {

Location location_of(const YAML::Node& node, const Location& fallback) {
  if (!node.IsDefined()) {
    return fallback;
  }
  const YAML::Mark mark = node.Mark();
  if (mark.is_null()) {
    return fallback;
  }
  return Location{fallback.file, mark.line + 1, mark.column + 1};
}

void check_presence(const PipelineConfig& pipeline, const YAML::Node& root, Errors& errors) {
  bool has_input = false;
  bool has_output = false;
  for (const ComponentConfig& component : pipeline.components) {
    has_input = has_input || component.kind == ComponentKind::Input;
    has_output = has_output || component.kind == ComponentKind::Output;
  }
  const Location top = location_of(root, Location{pipeline.file, 1, 1});
  if (!has_input) {
    errors.add(top, "the pipeline has no inputs; add at least one under \"inputs\"");
  }
  if (!has_output) {
    errors.add(top, "the pipeline has no outputs; add at least one under \"outputs\"");
  }
}

void check_port(const PipelineConfig& pipeline, const ComponentConfig& reader, const ComponentConfig& target,
                const Upstream& upstream, const Location& location, Errors& errors) {
  std::vector<std::string> ports;
  if (target.type != nullptr && target.type->ports) {
    ports = target.type->ports(target.settings(pipeline.file));
  }
  if (std::find(ports.begin(), ports.end(), upstream.port) != ports.end()) {
    return;
  }
  std::string message = fmt::format("{}: key \"from\": {} \"{}\" has no port \"{}\"", reader.context,
                                    component_kind_name(target.kind), upstream.id, upstream.port);
  if (ports.empty()) {
    message += fmt::format("; read it as \"{}\"", upstream.id);
  } else if (const auto suggestion = closest_name(upstream.port, ports)) {
    message += fmt::format("; did you mean \"{}.{}\"?", upstream.id, *suggestion);
  } else {
    message += fmt::format("; its ports are: {}", fmt::join(ports, ", "));
  }
  errors.add(location, std::move(message));
}

void check_references(const PipelineConfig& pipeline, Errors& errors) {
  std::vector<std::string> producers;
  for (const ComponentConfig& component : pipeline.components) {
    if (component.kind != ComponentKind::Output) {
      producers.push_back(component.id);
    }
  }

  for (const ComponentConfig& component : pipeline.components) {
    const Location from_location = location_of(component.node["from"], component.location);
    for (const Upstream& upstream : component.from) {
      const ComponentConfig* target = pipeline.find(upstream.id);
      if (target == nullptr) {
        std::string message =
            fmt::format("{}: key \"from\": no input or filter has the id \"{}\"", component.context, upstream.id);
        if (const auto suggestion = closest_name(upstream.id, producers)) {
          message += fmt::format("; did you mean \"{}\"?", *suggestion);
        }
        errors.add(from_location, std::move(message));
        continue;
      }
      if (target->kind == ComponentKind::Output) {
        errors.add(from_location, fmt::format("{}: key \"from\": \"{}\" is an output, and outputs produce no events",
                                              component.context, upstream.id));
      } else if (!upstream.port.empty()) {
        check_port(pipeline, component, *target, upstream, from_location, errors);
      }
    }
  }
}

// Depth-first search over filter-to-filter edges; a node met again while
// still on the stack closes a cycle.
void check_cycles(const PipelineConfig& pipeline, Errors& errors) {
  enum class Mark { Unvisited, OnStack, Done };
  std::map<std::string, Mark> marks;
  std::vector<std::string> stack;

  std::function<void(const ComponentConfig&)> visit = [&](const ComponentConfig& component) {
    marks[component.id] = Mark::OnStack;
    stack.push_back(component.id);
    for (const Upstream& upstream : component.from) {
      const ComponentConfig* target = pipeline.find(upstream.id);
      if (target == nullptr || target->kind != ComponentKind::Filter) {
        continue;
      }
      const Mark mark = marks[target->id];
      if (mark == Mark::OnStack) {
        std::string cycle;
        bool in_cycle = false;
        for (const std::string& id : stack) {
          in_cycle = in_cycle || id == target->id;
          if (in_cycle) {
            cycle += id + " -> ";
          }
        }
        cycle += target->id;
        errors.add(component.location,
                   fmt::format("{}: the \"from\" lists form a cycle ({}); events would loop for ever",
                               component.context, cycle));
      } else if (mark == Mark::Unvisited) {
        visit(*target);
      }
    }
    stack.pop_back();
    marks[component.id] = Mark::Done;
  };

  for (const ComponentConfig& component : pipeline.components) {
    if (component.kind == ComponentKind::Filter && marks[component.id] == Mark::Unvisited) {
      visit(component);
    }
  }
}

void warn_unread(const PipelineConfig& pipeline, Errors& errors) {
  std::set<std::string> read;
  for (const ComponentConfig& component : pipeline.components) {
    for (const Upstream& upstream : component.from) {
      read.insert(upstream.id);
    }
  }
  for (const ComponentConfig& component : pipeline.components) {
    if (component.kind != ComponentKind::Output && read.count(component.id) == 0) {
      errors.warn(component.location,
                  fmt::format("{}: no filter or output reads from it, so its events are discarded",
                              component.context));
    }
  }
}

}  // namespace

void check_graph(const PipelineConfig& pipeline, const YAML::Node& root, Errors& errors) {
  check_presence(pipeline, root, errors);
  check_references(pipeline, errors);
  check_cycles(pipeline, errors);
  warn_unread(pipeline, errors);
}

}  // namespace slipway::config
