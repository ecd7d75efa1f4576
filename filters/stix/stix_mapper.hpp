// Builds the STIX 2.1 objects for one IDEA0 record: an indicator per
// attacker IoC (each Source IP4, IP6, Hostname and URL value), an identity
// for the sensor that all of them name as created_by_ref, and optionally a
// sighting per indicator and one observed-data with its cyber-observables.
// Every id is a UUIDv5 of the record's ID and the object, and every time
// comes from the record, so mapping the same record twice gives the same
// bytes and a TAXII server stores the objects once.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

namespace slipway::stix {

struct MapperOptions {
  bool sighting = false;       // one sighting per indicator
  bool observed_data = false;  // one observed-data per record, with its observables
  std::string identity_name = "slipway";
  std::string identity_class = "system";  // STIX identity-class vocabulary
  bool slips_properties = true;           // x_slips_* custom properties on indicators
};

enum class MapOutcome {
  Mapped,       // `out` holds one bundle
  NoIndicator,  // a valid record without any attacker IoC: nothing to share
  Invalid,      // not an IDEA0 record; `reason` says why
};

class StixMapper {
 public:
  explicit StixMapper(MapperOptions options);
  ~StixMapper();
  StixMapper(const StixMapper&) = delete;
  StixMapper& operator=(const StixMapper&) = delete;

  // Appends to `out` one bundle `{"type":"bundle","id":...,"objects":[...]}`
  // holding the objects of `idea_json`. Not thread-safe: one mapper per thread.
  MapOutcome map(std::string_view idea_json, std::string& out, std::string& reason);

  // The id of the identity every object names as created_by_ref.
  const std::string& identity_id() const;

 private:
  struct State;
  std::unique_ptr<State> state_;
};

}  // namespace slipway::stix
