#include "inputs/file/file_set.hpp"

#include <fcntl.h>
#include <glob.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

namespace slipway::inputs::file {

namespace {

IdentityTable load_identities(InputContext& context) {
  std::map<std::string, FilePosition> positions;
  for (const auto& [key, value] : context.load_checkpoints()) {
    if (const auto position = parse_position(value)) {
      positions.emplace(key, *position);
    } else {
      context.log().warn("Ignoring a checkpoint whose value cannot be read; its file is read from the start. key={} "
                         "value=\"{}\"",
                         key, value);
    }
  }
  return IdentityTable(std::move(positions));
}

TailSettings tail_settings(const FileInputConfig& config) {
  return TailSettings{config.max_line_bytes, config.batch_max_events, config.batch_timeout,
                      config.codec == Codec::Zeek ? std::optional(config.zeek_unset_fields) : std::nullopt};
}

}  // namespace

FileSet::FileSet(InputContext& context, const FileInputConfig& config)
    : context_(context), config_(config), shared_(context, tail_settings(config), load_identities(context)) {}

// TODO: a file that a configured path still names stays open while idle —
// a glob over many rotated files keeps one descriptor per file.
void FileSet::scan(Clock::time_point now, bool first) {
  std::set<FileId> seen;
  for (const std::string& path : expand_patterns()) {
    struct stat status {};
    if (::stat(path.c_str(), &status) != 0 || !S_ISREG(status.st_mode)) {
      continue;
    }
    const FileId id{status.st_dev, status.st_ino};
    if (files_.contains(id)) {
      seen.insert(id);
      continue;
    }
    if (!seen.contains(id)) {
      open_file(path, first, seen);
    }
  }

  for (auto& [id, file] : files_) {
    const bool named = seen.contains(id);
    if (named) {
      file.unnamed_since.reset();
    } else if (!file.unnamed_since) {
      file.unnamed_since = now;
      context_.log().info("File renamed or deleted; reading it until it stays unchanged for rotate_wait_ms. path={}",
                          file.tailer->path());
    }
    file.tailer->check_content(now);
  }
}

bool FileSet::read(Clock::time_point now) {
  bool moved = false;
  for (auto& [id, file] : files_) {
    if (context_.stop_requested()) {
      break;
    }
    moved = file.tailer->poll(now, kReadBudgetBytes) || moved;
  }

  // Bytes written to the watched files and not read yet, as of each file's last size check.
  std::int64_t lag = 0;
  for (const auto& [id, file] : files_) {
    const std::uint64_t size = file.tailer->size();
    const std::uint64_t offset = file.tailer->position().offset;
    lag += size > offset ? static_cast<std::int64_t>(size - offset) : 0;
  }
  context_.metrics().lag_bytes.store(lag, std::memory_order_relaxed);
  return moved;
}

void FileSet::tidy(Clock::time_point now) {
  for (auto file = files_.begin(); file != files_.end();) {
    file->second.tailer->flush(now, false);
    const auto& unnamed_since = file->second.unnamed_since;
    if (unnamed_since && now >= std::max(*unnamed_since, file->second.tailer->last_change()) + config_.rotate_wait) {
      file = close(file, now);
    } else {
      ++file;
    }
  }
}

void FileSet::flush_all(Clock::time_point now) {
  for (auto& [id, file] : files_) {
    file.tailer->flush(now, true);
  }
}

void FileSet::report_unterminated_lines() {
  for (const auto& [id, file] : files_) {
    const Tailer& tailer = *file.tailer;
    if (tailer.parked_key().empty() && tailer.size() > tailer.position().offset) {
      context_.log().warn("File ends without a newline; its last line is read once the newline is appended. path={} "
                          "offset={} length={}",
                          tailer.path(), tailer.position().offset, tailer.size() - tailer.position().offset);
    }
  }
}

Clock::time_point FileSet::next_deadline() const {
  Clock::time_point deadline = Clock::time_point::max();
  for (const auto& [id, file] : files_) {
    deadline = std::min(deadline, file.tailer->flush_deadline());
    if (file.unnamed_since) {
      deadline = std::min(deadline, std::max(*file.unnamed_since, file.tailer->last_change()) + config_.rotate_wait);
    }
  }
  return deadline;
}

std::vector<std::string> FileSet::expand_patterns() {
  std::vector<std::string> paths;
  for (const std::string& pattern : config_.paths) {
    glob_t matches{};
    if (::glob(pattern.c_str(), 0, nullptr, &matches) == 0) {
      paths.insert(paths.end(), matches.gl_pathv, matches.gl_pathv + matches.gl_pathc);
      unmatched_patterns_.erase(pattern);
    } else if (unmatched_patterns_.insert(pattern).second) {
      context_.log().info("No file matches a configured path yet; looking again every poll_interval_ms. path={}",
                          pattern);
    }
    ::globfree(&matches);
  }
  return paths;
}

void FileSet::open_file(const std::string& path, bool first, std::set<FileId>& seen) {
  UniqueFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK));
  if (fd.get() < 0) {
    if (unopenable_paths_.insert(path).second) {
      context_.log().warn("Opening file failed; trying again at every scan. path={} error=\"{}\"", path,
                          std::strerror(errno));
    }
    return;
  }
  unopenable_paths_.erase(path);

  // The path may have been renamed over between stat() and open(), so the
  // descriptor, not the earlier stat, identifies the file.
  struct stat status {};
  if (::fstat(fd.get(), &status) != 0 || !S_ISREG(status.st_mode)) {
    return;
  }
  const FileId id{status.st_dev, status.st_ino};
  seen.insert(id);
  if (files_.contains(id)) {
    return;
  }

  ::posix_fadvise(fd.get(), 0, 0, POSIX_FADV_SEQUENTIAL);
  const auto size = static_cast<std::uint64_t>(status.st_size);
  const FilePosition start = start_position(fd.get(), id, size, first);
  context_.log().info("Reading file. path={} offset={} size={}", path, start.offset, size);
  auto tailer = std::make_unique<Tailer>(shared_, id, std::move(fd), path, start);
  files_.emplace(id, OpenFile{std::move(tailer), std::nullopt});
}

FilePosition FileSet::start_position(int fd, FileId id, std::uint64_t size, bool first) {
  const std::string by_inode = inode_key(id);
  const FilePosition* inode_position = shared_.identities.find(by_inode);

  std::optional<std::string> by_content;
  if (size >= kFingerprintBytes) {
    if (const auto fingerprint = read_prefix_hash(fd, kFingerprintBytes)) {
      by_content = fingerprint_key(*fingerprint);
    }
  }
  if (by_content && shared_.identities.find(*by_content) != nullptr) {
    // The tailer's first poll moves to the position known for this content.
    // A device-and-inode checkpoint of the same file predates it.
    if (inode_position != nullptr) {
      context_.remove_checkpoint(by_inode);
      shared_.identities.forget(by_inode);
    }
    return FilePosition{};
  }
  if (inode_position != nullptr && prefix_matches(fd, *inode_position)) {
    return *inode_position;
  }

  if (first && config_.start_at == StartAt::End) {
    // NOTE: line numbers of a file started at its end stay unknown (0) —
    // counting them would mean reading the whole backlog start_at: end skips.
    return FilePosition{end_of_last_line(fd, size), std::nullopt, std::nullopt};
  }
  return FilePosition{};
}

std::uint64_t FileSet::end_of_last_line(int fd, std::uint64_t size) {
  char* data = shared_.buffer.data();
  std::uint64_t end = size;
  while (end > 0) {
    const auto length = static_cast<std::size_t>(std::min<std::uint64_t>(end, kReadChunkBytes));
    const std::uint64_t begin = end - length;
    if (::pread(fd, data, length, static_cast<off_t>(begin)) != static_cast<ssize_t>(length)) {
      // Reading from the start repeats old lines but loses none.
      return 0;
    }
    if (const void* newline = ::memrchr(data, '\n', length)) {
      return begin + static_cast<std::uint64_t>(static_cast<const char*>(newline) - data) + 1;
    }
    end = begin;
  }
  return 0;
}

FileSet::Files::iterator FileSet::close(Files::iterator file, Clock::time_point now) {
  Tailer& tailer = *file->second.tailer;
  tailer.flush(now, true);
  const std::uint64_t offset = tailer.position().offset;
  if (tailer.parked_key().empty() && tailer.size() > offset) {
    context_.log().warn("Closing a file whose last line has no newline; that line is not read. path={} offset={} "
                        "length={}",
                        tailer.path(), offset, tailer.size() - offset);
  }
  context_.log().info("Closed file: no configured path names it and it stayed unchanged for rotate_wait_ms. path={} "
                      "offset={}",
                      tailer.path(), offset);

  // NOTE: checkpoints are removed only for a file deleted while open, so the
  // store keeps one entry per rotated file. A batch still in flight also
  // stores its key again on commit. Stale keys are harmless because a
  // fingerprint matches only the same content, an inode key only the same prefix.
  if (tailer.deleted() && !is_wanted_by_parked_file(tailer.identity_key())) {
    for (const std::string& key : {tailer.identity_key(), inode_key(tailer.id())}) {
      context_.remove_checkpoint(key);
      shared_.identities.forget(key);
    }
  }
  return files_.erase(file);
}

bool FileSet::is_wanted_by_parked_file(const std::string& key) const {
  return std::any_of(files_.begin(), files_.end(),
                     [&](const auto& entry) { return entry.second.tailer->parked_key() == key; });
}

}  // namespace slipway::inputs::file
