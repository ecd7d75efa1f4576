#include "config/interpolate.hpp"

#include <cstdlib>

#include <fmt/format.h>

namespace slipway::config {

namespace {

bool is_name_start(char character) {
  return (character >= 'A' && character <= 'Z') || (character >= 'a' && character <= 'z') || character == '_';
}

bool is_name_character(char character) {
  return is_name_start(character) || (character >= '0' && character <= '9');
}

bool is_valid_name(std::string_view name) {
  if (name.empty() || !is_name_start(name.front())) {
    return false;
  }
  for (const char character : name) {
    if (!is_name_character(character)) {
      return false;
    }
  }
  return true;
}

}  // namespace

Environment process_environment() {
  return [](const std::string& name) -> std::optional<std::string> {
    const char* value = std::getenv(name.c_str());
    if (value == nullptr) {
      return std::nullopt;
    }
    return std::string(value);
  };
}

InterpolationResult interpolate(std::string_view text, const Environment& environment) {
  InterpolationResult result;
  std::string& out = result.value;
  out.reserve(text.size());

  std::size_t position = 0;
  while (position < text.size()) {
    const std::size_t dollar = text.find('$', position);
    if (dollar == std::string_view::npos) {
      out.append(text.substr(position));
      break;
    }
    out.append(text.substr(position, dollar - position));

    const std::string_view rest = text.substr(dollar);
    if (rest.starts_with("$$")) {
      out += '$';
      position = dollar + 2;
      continue;
    }
    if (!rest.starts_with("${")) {
      out += '$';
      position = dollar + 1;
      continue;
    }

    const std::size_t close = text.find('}', dollar + 2);
    if (close == std::string_view::npos) {
      result.error = "\"${\" without a closing \"}\"; write \"$${\" for a literal \"${\"";
      return result;
    }
    const std::string_view body = text.substr(dollar + 2, close - dollar - 2);
    const std::size_t default_marker = body.find(":-");
    const std::string_view name = body.substr(0, default_marker);

    if (!is_valid_name(name)) {
      result.error = fmt::format(
          "invalid variable name \"{}\" in \"${{...}}\"; names are letters, digits and underscores", name);
      return result;
    }

    const std::optional<std::string> value = environment(std::string(name));
    if (default_marker != std::string_view::npos) {
      const std::string_view fallback = body.substr(default_marker + 2);
      out += (value && !value->empty()) ? std::string_view(*value) : fallback;
    } else if (value) {
      out += *value;
    } else {
      result.error = fmt::format(
          "environment variable \"{}\" is not set; set it, or write \"${{{}:-default}}\" to give a default", name,
          name);
      return result;
    }
    position = close + 1;
  }
  return result;
}

}  // namespace slipway::config
