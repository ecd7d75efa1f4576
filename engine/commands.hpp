// The commands of the `slipway` program, callable from tests without a
// process of their own.
#pragma once

#include <filesystem>
#include <string>

#include "engine/logging.hpp"

namespace slipway::commands {

// Process exit codes, following sysexits(3) where one fits.
inline constexpr int kExitOk = 0;
inline constexpr int kExitFailure = 1;
inline constexpr int kExitUsage = 64;
inline constexpr int kExitConfig = 78;

struct GlobalOptions {
  std::string log_level;  // empty: the pipeline file's log_level, else info
  logging::Format log_format = logging::Format::Text;
};

// Checks a pipeline file and prints every problem as FILE:LINE:COL: message.
int validate(const std::filesystem::path& config_file, const GlobalOptions& options);

// Runs a pipeline until SIGINT or SIGTERM, or until every input has
// finished, then drains and prints a summary.
int run(const std::filesystem::path& config_file, const GlobalOptions& options);

// Lists component types when `type_name` is empty, else prints that type's
// settings as text or Markdown. Writes one Markdown page per type and an
// index into `pages_dir` instead when it is not empty.
int describe(const std::string& type_name, bool markdown, const std::filesystem::path& pages_dir);

}  // namespace slipway::commands
