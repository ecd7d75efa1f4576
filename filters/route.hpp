// The `route` filter: sends each event to every named route whose
// condition it matches, and events that match none to the port
// `_unmatched`. Others read a route as `from: [ID.NAME]`. Events keep their
// bytes and their order within each port.
// NOTE: nothing goes to the default port, so `from: [ID]` without a route
// name reads no events — the config check cannot flag it yet, as a filter
// type cannot declare that it has no default port.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "config/errors.hpp"
#include "config/schema.hpp"
#include "engine/component.hpp"
#include "filters/condition.hpp"
#include "filters/filter_support.hpp"

namespace slipway::filters {

inline constexpr std::string_view kUnmatchedPort = "_unmatched";

struct Route {
  std::string name;  // the port name
  Condition condition;
};

struct RouteConfig {
  std::vector<Route> routes;  // in the order of the configuration

  static const config::Schema kSchema;
  // Returns nullopt after adding the problems to `errors`.
  static std::optional<RouteConfig> parse(const config::Section& settings, config::Errors& errors);
};

class RouteFilter final : public Filter {
 public:
  explicit RouteFilter(RouteConfig config);

  static std::unique_ptr<Filter> create(const config::Section& settings, config::Errors& errors);
  // The route names and `_unmatched`, for checking `from: [ID.PORT]`.
  static std::vector<std::string> ports(const config::Section& settings);

  void process(const BatchPtr& batch, FilterContext& context) override;
  void finish(FilterContext& context) override;

  const MatchCounters& counters() const { return counters_; }

 private:
  RouteConfig config_;
  MemberSubsetParser parser_;  // the members the routes' conditions read
  MatchCounters counters_;
};

}  // namespace slipway::filters
