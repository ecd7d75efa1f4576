// `slipway convert-slips`: turns the exporting settings of a Slips
// configuration into a pipeline that does the same work. The pipeline tails
// Slips' alerts.json, normalizes it to IDEA0 and archives it. It has one
// output per exporter Slips has turned on (Slack, STIX/TAXII, Warden, the
// labeled-flow export). Each setting that cannot be carried over as it was gets a
// `# NOTE:` comment in the pipeline. Secrets are never copied: a password
// becomes a *_file key naming a file the user fills in.
#pragma once

#include <filesystem>
#include <optional>
#include <string>

#include "engine/slips_settings.hpp"

namespace slipway::convert_slips {

// Returns the pipeline file's text.
std::string write_pipeline(const slips::ExportSettings& settings);

// Prints the pipeline for `slips_file` to standard output, or an error
// naming the file to standard error; returns the process exit code.
int run(const std::filesystem::path& slips_file, const std::optional<std::filesystem::path>& warden_conf);

}  // namespace slipway::convert_slips
