// Reference text for component types, generated from the same schemas the
// validator checks: `slipway describe` prints it and the pages in
// docs/components/ are written from it, so neither can drift from the code.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "engine/registry.hpp"

namespace slipway::describe {

enum class Format { Text, Markdown };

// Every registered type, grouped by kind, one line each.
std::string list_types();

// Finds the types registered under `name`. A name can be both an input and
// an output (`file`), so there may be more than one.
std::vector<const ComponentType*> find_types(std::string_view name);

// One type's settings: key, type, default, whether required, meaning.
// Nested objects are listed with dotted keys (`retry.max_retries`).
std::string describe_type(const ComponentType& type, Format format);

// The file name of a type's page under docs/components/, e.g. "output-file.md".
std::string page_name(const ComponentType& type);

// Returns the known type name closest to `name`, for a did-you-mean hint,
// or an empty string when none is close.
std::string closest_type_name(std::string_view name);

}  // namespace slipway::describe
