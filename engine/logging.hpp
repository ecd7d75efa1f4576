// Process-wide logging: one sink, and one named logger per component
// (`input.file.alerts`), so every line names the component that wrote it.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include <spdlog/logger.h>

namespace slipway::logging {

enum class Format { Text, Json };

std::optional<spdlog::level::level_enum> parse_level(std::string_view name);
std::optional<Format> parse_format(std::string_view name);

// Sends every logger's output to standard error in `format`.
void configure(Format format, spdlog::level::level_enum level);
void set_level(spdlog::level::level_enum level);

// The logger for one component, e.g. component_logger("input", "file", "alerts").
std::shared_ptr<spdlog::logger> component_logger(std::string_view kind, std::string_view type, std::string_view id);

}  // namespace slipway::logging
