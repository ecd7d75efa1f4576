#include "engine/registry.hpp"

namespace slipway {

Registry& Registry::instance() {
  // A function-local static is built on first use, so registrations from
  // static initializers in any translation unit find it ready.
  static Registry registry;
  return registry;
}

void Registry::add(ComponentType type) { types_.push_back(std::move(type)); }

const ComponentType* Registry::find(ComponentKind kind, std::string_view name) const {
  for (const ComponentType& type : types_) {
    if (type.kind == kind && type.name == name) {
      return &type;
    }
  }
  return nullptr;
}

std::vector<const ComponentType*> Registry::all(ComponentKind kind) const {
  std::vector<const ComponentType*> found;
  for (const ComponentType& type : types_) {
    if (type.kind == kind) {
      found.push_back(&type);
    }
  }
  return found;
}

}  // namespace slipway
