// Notes on the keys of a Slips warden.conf that the warden components read
// differently from Slips' bundled Warden client, or not at all.
#pragma once

#include <filesystem>
#include <vector>

#include "engine/slips_settings.hpp"

namespace slipway::slips {

// Adds a note for each such key, or one saying the file cannot be read
// or parsed, since validating the pipeline reads it.
void note_warden_conf(const std::filesystem::path& warden_conf, std::vector<Note>& notes);

}  // namespace slipway::slips
