#include "outputs/taxii/envelope.hpp"

#include <algorithm>

namespace slipway::outputs::taxii {

namespace {

constexpr std::string_view kEnvelopeOpen = "{\"objects\":[";
constexpr std::string_view kEnvelopeClose = "]}";

bool contains(const std::vector<const StixObject*>& objects, const StixObject& object) {
  return std::any_of(objects.begin(), objects.end(), [&](const StixObject* other) {
    return other->id == object.id && other->version == object.version;
  });
}

}  // namespace

std::string envelope_body(const std::vector<const StixObject*>& objects) {
  std::string body(kEnvelopeOpen);
  for (std::size_t index = 0; index < objects.size(); ++index) {
    if (index > 0) {
      body += ',';
    }
    body += objects[index]->json;
  }
  body += kEnvelopeClose;
  return body;
}

Packing pack_envelopes(const std::vector<EventObjects>& events, const std::vector<std::size_t>& indexes,
                       std::size_t max_bytes, std::size_t max_objects,
                       const std::function<bool(const StixObject&)>& skip) {
  Packing packing;
  Envelope current;
  std::size_t current_bytes = kEnvelopeOpen.size() + kEnvelopeClose.size();

  const auto close_current = [&] {
    if (!current.events.empty()) {
      current.body = envelope_body(current.objects);
      packing.envelopes.push_back(std::move(current));
    }
    current = Envelope{};
    current_bytes = kEnvelopeOpen.size() + kEnvelopeClose.size();
  };
  // The objects of `event` that the current envelope lacks, and their bytes
  // with separating commas.
  const auto missing = [&](const EventObjects& event, std::vector<const StixObject*>& added) {
    std::size_t bytes = 0;
    for (const StixObject& object : event.objects) {
      if (skip(object) || contains(current.objects, object) || contains(added, object)) {
        continue;
      }
      added.push_back(&object);
      bytes += object.json.size() + 1;
    }
    return bytes;
  };

  for (const std::size_t index : indexes) {
    const std::vector<StixObject>& objects = events[index].objects;
    if (std::all_of(objects.begin(), objects.end(), skip)) {
      packing.confirmed.push_back(index);
      continue;
    }
    std::vector<const StixObject*> added;
    std::size_t bytes = missing(events[index], added);
    const bool fits = current_bytes + bytes <= max_bytes && current.objects.size() + added.size() <= max_objects;
    if (!fits && !current.events.empty()) {
      close_current();
      added.clear();
      bytes = missing(events[index], added);
    }
    if (current_bytes + bytes > max_bytes || added.size() > max_objects) {
      packing.oversized.push_back(index);
      continue;
    }
    current.events.push_back(index);
    current.objects.insert(current.objects.end(), added.begin(), added.end());
    current_bytes += bytes;
  }
  close_current();
  return packing;
}

}  // namespace slipway::outputs::taxii
