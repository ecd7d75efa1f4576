// The `drop` filter: discards every event that matches its condition and
// counts it in dropped_events; the others pass unchanged and in order.
#pragma once

#include <memory>
#include <optional>

#include "config/errors.hpp"
#include "config/schema.hpp"
#include "engine/component.hpp"
#include "filters/condition.hpp"

namespace slipway::filters {

struct DropConfig {
  Condition condition;

  static const config::Schema kSchema;
  // Returns nullopt after adding the problems to `errors`.
  static std::optional<DropConfig> parse(const config::Section& settings, config::Errors& errors);
};

class DropFilter final : public Filter {
 public:
  explicit DropFilter(DropConfig config) : config_(std::move(config)) {}

  static std::unique_ptr<Filter> create(const config::Section& settings, config::Errors& errors);

  void process(const BatchPtr& batch, FilterContext& context) override;
  void finish(FilterContext& context) override;

  const MatchCounters& counters() const { return counters_; }

 private:
  DropConfig config_;
  MatchCounters counters_;
};

}  // namespace slipway::filters
