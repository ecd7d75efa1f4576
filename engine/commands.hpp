// The commands of the `slipway` program, callable from tests without a
// process of their own.
#pragma once

#include <filesystem>
#include <optional>
#include <string>

#include "config/pipeline_config.hpp"
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

// Sets the log format and level: the command line's level, else the
// pipeline's `log_level` when `pipeline` is given, else info.
void configure_logging(const GlobalOptions& options, const config::PipelineConfig* pipeline);

// Loads a pipeline file and lets every component check its settings,
// without opening anything. Problems go to `errors`; the result is empty
// when any of them is an error.
std::optional<config::PipelineConfig> load_checked_pipeline(const std::filesystem::path& config_file,
                                                           config::Errors& errors);

// Checks a pipeline file and prints every problem as FILE:LINE:COL: message.
int validate(const std::filesystem::path& config_file, const GlobalOptions& options);

// Runs a pipeline until SIGINT or SIGTERM, or until every input has
// finished, then drains and prints a summary. SIGHUP reloads the file:
// a file with errors is logged and ignored; a valid one replaces the
// running pipeline after it has drained.
int run(const std::filesystem::path& config_file, const GlobalOptions& options);

// Lists component types when `type_name` is empty, else prints that type's
// settings as text or Markdown. Writes one Markdown page per type and an
// index into `pages_dir` instead when it is not empty.
int describe(const std::string& type_name, bool markdown, const std::filesystem::path& pages_dir);

// Sends the events in an output's dead-letter file to that output again,
// with its retry policy. Delivered events leave the file; events that fail
// again are written back to it. Returns 0 when every event was delivered.
int dlq_replay(const std::string& output_id, const std::filesystem::path& config_file, const GlobalOptions& options);

}  // namespace slipway::commands
