// The files one input reads. A scan expands the configured paths and glob
// patterns, opens files that appeared and notes open files that no path
// names any more (renamed or deleted by rotation). Such a file is still
// read, because its writer may still append to it, and is closed once it
// has not changed for rotate_wait.
#pragma once

#include <sys/stat.h>

#include <chrono>
#include <cstddef>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "engine/component.hpp"
#include "inputs/file/file_input.hpp"
#include "inputs/file/fingerprint.hpp"
#include "inputs/file/tailer.hpp"

namespace slipway::inputs::file {

// Bytes read from one file before the next file gets its turn, so a large
// backlog in one file does not hold back the others.
inline constexpr std::size_t kReadBudgetBytes = 4 * 1024 * 1024;

class FileSet {
 public:
  // Loads the checkpoints committed by earlier runs.
  FileSet(InputContext& context, const FileInputConfig& config);

  // Finds new, renamed and deleted files. start_at: end applies only when
  // `first` is set, i.e. to the files present at startup.
  void scan(Clock::time_point now, bool first);
  // Reads from every open file once; true when any read position moved.
  bool read(Clock::time_point now);
  // Emits batches that have waited long enough and closes rotated files
  // that stayed unchanged for rotate_wait.
  void tidy(Clock::time_point now);
  // Emits every batch still being filled.
  void flush_all(Clock::time_point now);
  // Logs each file whose last line still lacks its LF, so it was not read.
  void report_unterminated_lines();

  // The earliest time tidy() has something to do.
  Clock::time_point next_deadline() const;
  std::size_t open_files() const { return files_.size(); }

 private:
  struct OpenFile {
    std::unique_ptr<Tailer> tailer;
    std::optional<Clock::time_point> unnamed_since;  // when no configured path named it any more
  };
  using Files = std::map<FileId, OpenFile>;

  std::vector<std::string> expand_patterns();
  void open_file(const std::string& path, bool first, std::set<FileId>& seen);
  FilePosition start_position(int fd, FileId id, std::uint64_t size, bool first);
  std::uint64_t end_of_last_line(int fd, std::uint64_t size);
  Files::iterator close(Files::iterator file, Clock::time_point now);
  bool is_wanted_by_parked_file(const std::string& key) const;

  InputContext& context_;
  const FileInputConfig& config_;
  TailShared shared_;
  Files files_;
  std::set<std::string> unmatched_patterns_;  // logged once until they match
  std::set<std::string> unopenable_paths_;    // logged once until they open
};

}  // namespace slipway::inputs::file
