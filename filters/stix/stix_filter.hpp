// The `stix` filter: turns each IDEA0 record (the output of idea_normalize)
// into one STIX 2.1 bundle event holding an identity for the sensor, one
// indicator per attacker IoC and, when configured, sightings and an
// observed-data with its observables. Ids and times derive from the record
// alone, so a re-sent alert yields the same objects. A record without an
// attacker IoC is dropped and counted; a record that is not IDEA0 goes to
// the dead-letter file. Up to `workers` threads share a large batch, and
// records keep their order.
#pragma once

#include <cstddef>
#include <memory>

#include "config/errors.hpp"
#include "config/schema.hpp"
#include "engine/component.hpp"
#include "filters/record_workers.hpp"
#include "filters/stix/stix_mapper.hpp"

namespace slipway::filters {

class StixFilter final : public Filter {
 public:
  static const config::Schema kSchema;

  // Builds the filter, adding every configuration problem to `errors`;
  // returns nullptr when there was one.
  static std::unique_ptr<Filter> create(const config::Section& settings, config::Errors& errors);

  // Up to `workers` threads, at least one, map a large batch together.
  StixFilter(const stix::MapperOptions& options, std::size_t workers);

  void process(const BatchPtr& batch, FilterContext& context) override;

 private:
  RecordWorkers<stix::StixMapper, stix::MapOutcome> workers_;
};

}  // namespace slipway::filters
