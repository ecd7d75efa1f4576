// Packing a batch of STIX events into TAXII envelopes. Each event (a
// bundle, or a single STIX object) is split into its objects. Objects that
// several events share, such as the sensor's identity, travel once per
// envelope, and envelopes stay under a byte limit. An event's objects
// always travel together, so the server's verdict maps back to whole events.
#pragma once

#include <cstddef>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "engine/event.hpp"
#include "outputs/stix_objects.hpp"

namespace slipway::outputs::taxii {

using outputs::EventObjects;
using outputs::read_event_objects;
using outputs::StixObject;

// A group of events whose objects form one envelope.
struct Envelope {
  std::vector<std::size_t> events;  // indexes into the batch
  std::vector<const StixObject*> objects;  // each id+version once
  std::string body;                        // {"objects":[...]}
};

// Packs the events at `indexes` into envelopes of at most `max_bytes`
// bytes and `max_objects` objects, in order. `skip(object)` returns true
// for objects the server already confirmed, which are left out. An event
// whose objects alone exceed the limits is returned in `oversized`, and one
// whose objects were all confirmed in `confirmed`.
struct Packing {
  std::vector<Envelope> envelopes;
  std::vector<std::size_t> oversized;
  std::vector<std::size_t> confirmed;
};

Packing pack_envelopes(const std::vector<EventObjects>& events, const std::vector<std::size_t>& indexes,
                       std::size_t max_bytes, std::size_t max_objects,
                       const std::function<bool(const StixObject&)>& skip);

// The body of an envelope holding `objects`.
std::string envelope_body(const std::vector<const StixObject*>& objects);

}  // namespace slipway::outputs::taxii
