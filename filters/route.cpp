#include "filters/route.hpp"

#include <algorithm>
#include <cctype>

#include <fmt/format.h>

#include "engine/registry.hpp"
#include "filters/filter_support.hpp"

namespace slipway::filters {

namespace {

// Route names become the PORT of `from: [ID.PORT]`, so they follow the
// rules of component ids: a dot would split the reference in two.
std::optional<std::string> check_route_name(const std::string& name) {
  const bool valid_characters = !name.empty() && std::all_of(name.begin(), name.end(), [](char character) {
    return std::isalnum(static_cast<unsigned char>(character)) || character == '_' || character == '-';
  });
  if (!valid_characters) {
    return fmt::format("invalid route name \"{}\"; use letters, digits, \"_\" and \"-\", as others read it as "
                       "\"ID.NAME\"",
                       name);
  }
  if (name.front() == '_') {
    return fmt::format("invalid route name \"{}\"; names starting with \"_\" are reserved for ports the filter "
                       "defines itself, such as \"{}\"",
                       name, kUnmatchedPort);
  }
  return std::nullopt;
}

}  // namespace

const config::Schema RouteConfig::kSchema{{
    config::Field{.name = "routes",
                  .type = config::FieldType::Object,
                  .doc = "Route names mapped to conditions, e.g. incidents: {field: Status, equals: Incident}; "
                         "each event goes to every route it matches, and to port _unmatched when it matches none",
                  .required = true},
}};

std::optional<RouteConfig> RouteConfig::parse(const config::Section& settings, config::Errors& errors) {
  if (!settings.has("routes")) {
    return std::nullopt;  // the schema check reports the missing key
  }
  const YAML::Node routes = settings.node()["routes"];
  if (!routes.IsMap() || routes.size() == 0) {
    errors.add(location_of(routes, settings),
               fmt::format("{}: key \"routes\": expected a mapping of route names to conditions, e.g. "
                           "{{incidents: {{field: Status, equals: Incident}}}}",
                           settings.context()));
    return std::nullopt;
  }

  RouteConfig config;
  bool valid = true;
  for (const auto& entry : routes) {
    const std::string name = entry.first.Scalar();
    if (const auto problem = check_route_name(name)) {
      errors.add(location_of(entry.first, settings),
                 fmt::format("{}: key \"routes.{}\": {}", settings.context(), name, *problem));
      valid = false;
    }
    std::optional<Condition> condition = Condition::parse(entry.second, "routes." + name, settings, errors);
    if (!condition) {
      valid = false;
      continue;
    }
    config.routes.push_back(Route{name, std::move(*condition)});
  }
  if (!valid) {
    return std::nullopt;
  }
  return config;
}

std::unique_ptr<Filter> RouteFilter::create(const config::Section& settings, config::Errors& errors) {
  std::optional<RouteConfig> config = RouteConfig::parse(settings, errors);
  if (!config) {
    return nullptr;
  }
  return std::make_unique<RouteFilter>(std::move(*config));
}

std::vector<std::string> RouteFilter::ports(const config::Section& settings) {
  std::vector<std::string> names;
  if (settings.has("routes")) {
    const YAML::Node routes = settings.node()["routes"];
    if (routes.IsMap()) {
      for (const auto& entry : routes) {
        names.push_back(entry.first.Scalar());
      }
    }
  }
  names.emplace_back(kUnmatchedPort);
  return names;
}

namespace {

std::vector<std::string> names_read_by(const RouteConfig& config) {
  std::vector<std::string> names;
  for (const Route& route : config.routes) {
    route.condition.add_top_level_names(names);
  }
  return names;
}

}  // namespace

RouteFilter::RouteFilter(RouteConfig config) : config_(std::move(config)), parser_(names_read_by(config_)) {}

void RouteFilter::process(const BatchPtr& batch, FilterContext& context) {
  // One batch per route, then one for `_unmatched`.
  std::vector<Batch> outgoing(config_.routes.size() + 1);
  for (const Event& event : batch->events) {
    const std::optional<json::Value> document = parser_.parse(event, context);
    if (!document) {
      continue;
    }
    bool matched = false;
    for (std::size_t route_idx = 0; route_idx < config_.routes.size(); ++route_idx) {
      if (config_.routes[route_idx].condition.matches(*document, counters_)) {
        outgoing[route_idx].events.push_back(event);
        matched = true;
      }
    }
    if (!matched) {
      outgoing.back().events.push_back(event);
    }
  }

  for (std::size_t port_idx = 0; port_idx < outgoing.size(); ++port_idx) {
    Batch& port_batch = outgoing[port_idx];
    if (port_batch.events.empty()) {
      continue;
    }
    port_batch.acks = batch->acks;
    const std::string_view port =
        port_idx < config_.routes.size() ? std::string_view(config_.routes[port_idx].name) : kUnmatchedPort;
    context.emit_to(port, std::move(port_batch));
  }
}

void RouteFilter::finish(FilterContext& context) { log_match_counters(counters_, context); }

SLIPWAY_REGISTER_FILTER_WITH_PORTS("route",
                                   "Sends each event to every named route whose condition it matches, the rest to "
                                   "port _unmatched",
                                   RouteConfig::kSchema, &RouteFilter::create, &RouteFilter::ports);

}  // namespace slipway::filters
