// The table of component types. Each component registers itself with one
// line at the bottom of its .cpp file; the engine and `slipway describe`
// find types only here.
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "config/errors.hpp"
#include "config/schema.hpp"
#include "engine/component.hpp"

namespace slipway {

template <typename Component>
using Factory = std::function<std::unique_ptr<Component>(const config::Section& settings, config::Errors& errors)>;

struct ComponentType {
  ComponentKind kind;
  std::string name;     // what users write as `type:`
  std::string summary;  // one line for `slipway describe`
  const config::Schema* schema;  // component keys, without `type` and `from`
  Factory<Input> make_input;
  Factory<Filter> make_filter;
  Factory<Output> make_output;
  // Names of the ports a filter emits on besides the default one, read by
  // others as `from: [ID.PORT]`; unset when it has none.
  std::function<std::vector<std::string>(const config::Section& settings)> ports;
};

class Registry {
 public:
  static Registry& instance();

  void add(ComponentType type);
  const ComponentType* find(ComponentKind kind, std::string_view name) const;
  std::vector<const ComponentType*> all(ComponentKind kind) const;

 private:
  std::vector<ComponentType> types_;
};

struct Registration {
  explicit Registration(ComponentType type) { Registry::instance().add(std::move(type)); }
};

}  // namespace slipway

#define SLIPWAY_CONCAT_INNER(a, b) a##b
#define SLIPWAY_CONCAT(a, b) SLIPWAY_CONCAT_INNER(a, b)

// Registers a component type: SLIPWAY_REGISTER_INPUT("file", "Reads ...", kSchema, &FileInput::create);
// A filter with named ports registers with SLIPWAY_REGISTER_FILTER_WITH_PORTS(..., &ports_function).
#define SLIPWAY_REGISTER_INPUT(name, summary, schema, factory)                            \
  static const ::slipway::Registration SLIPWAY_CONCAT(slipway_registration_, __LINE__){ \
      ::slipway::ComponentType{::slipway::ComponentKind::Input, name, summary, &(schema), factory, {}, {}}}
#define SLIPWAY_REGISTER_FILTER(name, summary, schema, factory)                           \
  static const ::slipway::Registration SLIPWAY_CONCAT(slipway_registration_, __LINE__){ \
      ::slipway::ComponentType{::slipway::ComponentKind::Filter, name, summary, &(schema), {}, factory, {}}}
#define SLIPWAY_REGISTER_FILTER_WITH_PORTS(name, summary, schema, factory, ports_function)                  \
  static const ::slipway::Registration SLIPWAY_CONCAT(slipway_registration_, __LINE__){                   \
      ::slipway::ComponentType{::slipway::ComponentKind::Filter, name, summary, &(schema), {}, factory, {}, \
                               ports_function}}
#define SLIPWAY_REGISTER_OUTPUT(name, summary, schema, factory)                           \
  static const ::slipway::Registration SLIPWAY_CONCAT(slipway_registration_, __LINE__){ \
      ::slipway::ComponentType{::slipway::ComponentKind::Output, name, summary, &(schema), {}, {}, factory}}
