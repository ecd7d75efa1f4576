// Environment variable interpolation in configuration values. Only the
// `${NAME}` and `${NAME:-default}` forms expand, and `$$` is a literal `$`;
// any other `$` stays as written, so regex references such as `$1` and
// passwords containing `$` survive. Expansion runs once, on parsed values,
// so a variable's value can never change the structure of the file.
#pragma once

#include <functional>
#include <optional>
#include <string>
#include <string_view>

namespace slipway::config {

// Looks a variable up; std::nullopt when it is unset.
using Environment = std::function<std::optional<std::string>(const std::string& name)>;

Environment process_environment();

struct InterpolationResult {
  std::string value;
  std::string error;  // empty on success; names the variable, never its value
};

// Expands `text`. `${NAME:-default}` uses the default when NAME is unset or
// empty, as the shell does; the default itself is not expanded.
InterpolationResult interpolate(std::string_view text, const Environment& environment);

}  // namespace slipway::config
