#include "outputs/stix_objects.hpp"

#include "engine/json.hpp"

namespace slipway::outputs {

namespace {

std::string string_member(const json::Value& object, std::string_view key) {
  const json::Value* value = object.find(key);
  return value != nullptr && value->is_string() ? value->as_string() : std::string();
}

bool add_object(const json::Value& value, EventObjects& out) {
  if (!value.is_object()) {
    out.error = "an entry of \"objects\" is not a JSON object";
    return false;
  }
  StixObject object;
  object.id = string_member(value, "id");
  if (object.id.empty() || string_member(value, "type").empty()) {
    out.error = "a STIX object has no \"type\" or \"id\"";
    return false;
  }
  object.version = string_member(value, "modified");
  if (object.version.empty()) {
    object.version = string_member(value, "created");
  }
  json::write(value, object.json);
  out.objects.push_back(std::move(object));
  return true;
}

}  // namespace

EventObjects read_event_objects(std::string_view json) {
  EventObjects out;
  json::ParseResult parsed = json::parse(json);
  if (!parsed.value || !parsed.value->is_object()) {
    out.error = "not a JSON object";
    return out;
  }
  const json::Value& document = *parsed.value;
  if (string_member(document, "type") != "bundle") {
    add_object(document, out);
    return out;
  }
  const json::Value* objects = document.find("objects");
  if (objects == nullptr || !objects->is_array()) {
    out.error = "a bundle without an \"objects\" list";
    return out;
  }
  for (const json::Value& value : objects->items()) {
    if (!add_object(value, out)) {
      out.objects.clear();
      return out;
    }
  }
  if (out.objects.empty()) {
    out.error = "an empty bundle";
  }
  return out;
}

}  // namespace slipway::outputs
