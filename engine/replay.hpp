// `slipway replay`: runs a pipeline over archived alert files instead of
// the paths of its file input, one file after another from the oldest, to
// the end. Its state (checkpoints, dead letters, files unpacked from gzip)
// lives in its own directory under data_dir/replays, so a replay never
// moves a live shipper's checkpoints, and an interrupted replay run again
// with the same files continues where it stopped.
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include "engine/commands.hpp"

namespace slipway::replay {

struct ReplayOptions {
  std::filesystem::path config_file;
  std::string input_id;             // empty: the pipeline's only file input
  std::vector<std::string> files;   // paths or glob patterns
  std::string speed = "0";          // as for the time_window filter
  std::string since;                // RFC 3339, empty for no lower bound
  std::string until;                // RFC 3339, empty for no upper bound
  bool restart = false;             // forget an interrupted replay of the same files
  bool progress_bar = false;        // redraw a progress line instead of logging one every few seconds
};

// Expands glob patterns and orders the files oldest first: by name with
// rotation suffixes (`.1`, `.2.gz`) removed, then from the highest rotation
// number to the file without one. Throws std::runtime_error naming a
// pattern that matches nothing or a path that does not exist.
std::vector<std::filesystem::path> order_files(const std::vector<std::string>& patterns);

// Returns the name of the replay's state directory: a hash of the input, the files and the time window.
std::string state_key(const ReplayOptions& options, const std::vector<std::filesystem::path>& files);

// Writes the uncompressed content of a gzip file to `target`, through a
// temporary file renamed at the end, so a partly written copy is never
// mistaken for a whole one. Throws std::runtime_error on a corrupt archive.
void gunzip_file(const std::filesystem::path& source, const std::filesystem::path& target);

// Runs the replay and prints its summary; returns the process exit code.
int run(const ReplayOptions& options, const commands::GlobalOptions& global_options);

}  // namespace slipway::replay
