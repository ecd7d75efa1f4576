// File identity and the checkpoint stored for it. A file is known by a hash
// of its first kFingerprintBytes bytes. The same content under a new name
// (rename rotation) or in a copy (copytruncate) maps to the same checkpoint,
// but a new file that reuses a deleted file's inode does not. A shorter file
// is known by device and inode until it grows. Its checkpoint also stores a
// hash of the bytes read, so a new file in a reused inode does not match it.
#pragma once

#include <sys/types.h>

#include <compare>
#include <cstddef>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>

namespace slipway::inputs::file {

// Leading bytes hashed into a fingerprint. In the Slips fixtures, IDEA
// alerts differ from byte 27 on, but IDMEFv2 alerts share their first 190
// bytes (the Analyzer block) and differ only from the ID on. A Zeek log
// header reaches its #open timestamp at byte 80. 1024 bytes leave room for
// a longer Analyzer block, and a file still gets a content identity after
// one to three records.
// NOTE: two different files with the same first 1024 bytes count as one,
// and a copy of a file shorter than that is read again as a new file.
inline constexpr std::size_t kFingerprintBytes = 1024;

// Device and inode: which file an open descriptor or a path names right now.
struct FileId {
  dev_t device = 0;
  ino_t inode = 0;

  auto operator<=>(const FileId&) const = default;
};

// 64-bit FNV-1a: fast on a few hundred bytes and stable across builds and
// hosts, which a checkpoint key read by a later run needs.
std::uint64_t hash_bytes(std::string_view bytes);

// Hash of the first `length` bytes of `fd` (at most kFingerprintBytes), or
// nullopt when the file is shorter or cannot be read.
std::optional<std::uint64_t> read_prefix_hash(int fd, std::size_t length);

// Checkpoint keys: "fingerprint:<16 hex digits>" and "inode:<device>:<inode>".
std::string fingerprint_key(std::uint64_t fingerprint);
std::string inode_key(FileId id);

// How far a file has been read, as stored in a checkpoint value:
// "OFFSET:LINES", or "OFFSET:LINES:PREFIX" for an inode identity, where
// LINES is "?" when unknown and PREFIX is 16 hex digits.
struct FilePosition {
  std::uint64_t offset = 0;                  // just after the last complete line consumed
  std::optional<std::uint64_t> lines = 0;    // complete lines before `offset`; nullopt when unknown
  std::optional<std::uint64_t> prefix_hash;  // hash of the first min(offset, kFingerprintBytes) bytes
};

std::string format_position(const FilePosition& position);
std::optional<FilePosition> parse_position(std::string_view value);

// True when `position` carries a prefix hash equal to the hash of the same
// leading bytes of `fd`, i.e. the checkpoint was taken on this content.
bool prefix_matches(int fd, const FilePosition& position);

// Positions by identity key for one run of the input: what earlier runs
// committed, updated with what this run has emitted, including files that
// are no longer open so that a copy of one resumes where it stopped. Also
// records which open file owns a key, because two files with one identity
// (the original and its copy) must not both be read.
class IdentityTable {
 public:
  explicit IdentityTable(std::map<std::string, FilePosition> committed) : positions_(std::move(committed)) {}

  const FilePosition* find(const std::string& key) const;
  void record(const std::string& key, const FilePosition& position);
  void forget(const std::string& key);

  // Makes `owner` the only reader of `key`; false when another owner has claimed it.
  bool claim(const std::string& key, const void* owner);
  void release(const std::string& key, const void* owner);
  bool is_claimed(const std::string& key) const { return owners_.contains(key); }

 private:
  std::map<std::string, FilePosition> positions_;
  std::map<std::string, const void*> owners_;
};

}  // namespace slipway::inputs::file
