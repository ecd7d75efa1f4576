// The `stix` filter: turns each IDEA0 record (the output of idea_normalize)
// into one STIX 2.1 bundle event holding an identity for the sensor, one
// indicator per attacker IoC and, when configured, sightings and an
// observed-data with its observables. Ids and times derive from the record
// alone, so a re-sent alert yields the same objects. A record without an
// attacker IoC is dropped and counted; a record that is not IDEA0 goes to
// the dead-letter file.
#pragma once

#include <memory>
#include <string>

#include "config/errors.hpp"
#include "config/schema.hpp"
#include "engine/component.hpp"
#include "filters/stix/stix_mapper.hpp"

namespace slipway::filters {

class StixFilter final : public Filter {
 public:
  static const config::Schema kSchema;

  // Builds the filter, adding every configuration problem to `errors`;
  // returns nullptr when there was one.
  static std::unique_ptr<Filter> create(const config::Section& settings, config::Errors& errors);

  explicit StixFilter(stix::MapperOptions options) : mapper_(std::move(options)) {}

  void process(const BatchPtr& batch, FilterContext& context) override;

 private:
  stix::StixMapper mapper_;
  std::string scratch_;  // each record's bundle before it is copied into its event
  std::string reason_;   // why the last rejected record was rejected
};

}  // namespace slipway::filters
