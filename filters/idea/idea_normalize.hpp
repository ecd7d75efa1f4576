// The idea_normalize filter: turns every generation of Slips alert output
// (IDMEFv2 and legacy IDEA0 alerts.json lines, Redis evidence and alert
// payloads) into canonical IDEA0 that validates against the IDEA0 schema.
// Events keep their order. A record that cannot be normalized goes to the
// dead-letter file with the reason, so none is dropped silently. Up to
// `workers` threads, each with its own normalizer, share a large batch.
//
// Slips data that IDEA0 has no key for goes in one object member, _Slips:
// InputFormat ("IDMEFv2", "IDEA0", "Redis evidence", "Redis alert"), Kind
// ("evidence" or "alert"), EvidenceType, ThreatLevel, AccumulatedThreatLevel,
// TimeWindow, ProfileIP, UIDs, ThreatIntel (feed names), Method, and
// TimeNotes. Each time note names a time member that was missing, invalid,
// read in the configured zone or left out, with the value as written.
#pragma once

#include <cstddef>
#include <memory>

#include "config/errors.hpp"
#include "config/schema.hpp"
#include "engine/component.hpp"
#include "filters/idea/normalizer.hpp"
#include "filters/record_workers.hpp"

namespace slipway::filters {

class IdeaNormalize : public Filter {
 public:
  static const config::Schema kSchema;

  // Builds the filter, adding every configuration problem to `errors`;
  // returns nullptr when there was one.
  static std::unique_ptr<Filter> create(const config::Section& settings, config::Errors& errors);

  // Up to `workers` threads, at least one, normalize a large batch together.
  explicit IdeaNormalize(const idea::NormalizerOptions& options, std::size_t workers = 1);

  void process(const BatchPtr& batch, FilterContext& context) override;

 private:
  RecordWorkers<idea::Normalizer, bool> workers_;
};

}  // namespace slipway::filters
