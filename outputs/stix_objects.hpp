// Reading the STIX objects out of an event, for the outputs that send or
// store STIX objects one by one (taxii, and the file output's stix_bundle
// format). An event is a STIX bundle, as the `stix` filter emits, or a
// single STIX object.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace slipway::outputs {

struct StixObject {
  std::string id;
  std::string version;  // `modified`, else `created`, else empty (observables)
  std::string json;     // compact JSON text
};

// The objects of one event, or why it has none.
struct EventObjects {
  std::vector<StixObject> objects;
  std::string error;  // set when the event is not a STIX object or bundle
};

// Reads the STIX objects of an event: the `objects` of a bundle, or the
// event itself when it is one object with `type` and `id`.
EventObjects read_event_objects(std::string_view json);

}  // namespace slipway::outputs
