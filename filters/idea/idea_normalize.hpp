// The idea_normalize filter: turns every generation of Slips alert output
// (IDMEFv2 and legacy IDEA0 alerts.json lines, Redis evidence and alert
// payloads) into canonical IDEA0. Events keep their order. A record that
// cannot be normalized goes to the dead-letter file with the reason;
// none is dropped silently.
#pragma once

#include <memory>
#include <string>

#include "config/errors.hpp"
#include "config/schema.hpp"
#include "engine/component.hpp"
#include "filters/idea/normalizer.hpp"

namespace slipway::filters {

class IdeaNormalize : public Filter {
 public:
  static const config::Schema kSchema;

  // Builds the filter, adding every configuration problem to `errors`;
  // returns nullptr when there was one.
  static std::unique_ptr<Filter> create(const config::Section& settings, config::Errors& errors);

  explicit IdeaNormalize(idea::NormalizerOptions options) : normalizer_(std::move(options)) {}

  void process(const BatchPtr& batch, FilterContext& context) override;

 private:
  idea::Normalizer normalizer_;
  std::string scratch_;  // each record's output before it is copied into its event
  std::string reason_;   // why the last rejected record was rejected
};

}  // namespace slipway::filters
