// The exclusive lock on a data directory: one slipway process at a time
// may use its checkpoints, buffers and dead-letter files.
#pragma once

#include <filesystem>

namespace slipway {

// Creates `data_dir` when missing and takes the lock on data_dir/lock.
// Returns the descriptor holding it; the kernel releases the lock when
// the descriptor is closed or the process ends. Throws std::runtime_error
// naming the directory when it is missing and cannot be created, or when
// another process holds the lock.
int lock_data_dir(const std::filesystem::path& data_dir);

}  // namespace slipway
