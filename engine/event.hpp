// Events and the batches they travel in. An event is one JSON object kept as
// its text: a component that does not change an event passes the same bytes
// on, and fan-out shares a batch between consumers without copying it.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "engine/acknowledgement.hpp"

namespace slipway {

// The source of an event, for dead letters and error messages.
struct EventOrigin {
  std::shared_ptr<const std::string> source;  // e.g. the file path
  std::uint64_t line = 0;                     // 1-based line number, 0 when unknown
  std::uint64_t offset = 0;                   // byte offset of the record in the source
};

struct Event {
  std::string json;  // one JSON object: valid UTF-8, unique member names
  EventOrigin origin;
};

struct Batch {
  std::vector<Event> events;
  // Delivery of every event in this batch completes these acknowledgements.
  // A filter that derives a batch copies them, so the input's checkpoint
  // moves only when the last copy is released by the last output.
  std::vector<AckRef> acks;
};

using BatchPtr = std::shared_ptr<const Batch>;

}  // namespace slipway
