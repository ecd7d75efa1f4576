#include "inputs/file/fingerprint.hpp"

#include <unistd.h>

#include <array>
#include <cerrno>
#include <charconv>

#include <fmt/format.h>

namespace slipway::inputs::file {

namespace {

constexpr std::uint64_t kFnvOffsetBasis = 0xcbf29ce484222325ULL;
constexpr std::uint64_t kFnvPrime = 0x100000001b3ULL;
constexpr int kHexBase = 16;
constexpr std::string_view kUnknownLines = "?";

template <typename Number>
std::optional<Number> parse_number(std::string_view text, int base = 10) {
  Number value = 0;
  const char* end = text.data() + text.size();
  const auto [stop, error] = std::from_chars(text.data(), end, value, base);
  if (text.empty() || error != std::errc() || stop != end) {
    return std::nullopt;
  }
  return value;
}

// Splits "a:b:c" at the first colon; the rest keeps any later colons.
std::pair<std::string_view, std::string_view> split_field(std::string_view text) {
  const std::size_t colon = text.find(':');
  if (colon == std::string_view::npos) {
    return {text, {}};
  }
  return {text.substr(0, colon), text.substr(colon + 1)};
}

}  // namespace

std::uint64_t hash_bytes(std::string_view bytes) {
  std::uint64_t hash = kFnvOffsetBasis;
  for (const char byte : bytes) {
    hash ^= static_cast<unsigned char>(byte);
    hash *= kFnvPrime;
  }
  return hash;
}

std::optional<std::uint64_t> read_prefix_hash(int fd, std::size_t length) {
  std::array<char, kFingerprintBytes> bytes{};
  if (length > bytes.size()) {
    return std::nullopt;
  }
  std::size_t filled = 0;
  while (filled < length) {
    const ssize_t count = ::pread(fd, bytes.data() + filled, length - filled, static_cast<off_t>(filled));
    if (count < 0 && errno == EINTR) {
      continue;
    }
    if (count <= 0) {
      return std::nullopt;
    }
    filled += static_cast<std::size_t>(count);
  }
  return hash_bytes(std::string_view(bytes.data(), length));
}

std::string fingerprint_key(std::uint64_t fingerprint) { return fmt::format("fingerprint:{:016x}", fingerprint); }

std::string inode_key(FileId id) { return fmt::format("inode:{}:{}", id.device, id.inode); }

std::string format_position(const FilePosition& position) {
  std::string value = fmt::format("{}:", position.offset);
  if (position.lines) {
    value += fmt::format("{}", *position.lines);
  } else {
    value += kUnknownLines;
  }
  if (position.prefix_hash) {
    value += fmt::format(":{:016x}", *position.prefix_hash);
  }
  return value;
}

std::optional<FilePosition> parse_position(std::string_view value) {
  const auto [offset_text, after_offset] = split_field(value);
  const auto [lines_text, prefix_text] = split_field(after_offset);

  FilePosition position;
  const auto offset = parse_number<std::uint64_t>(offset_text);
  if (!offset) {
    return std::nullopt;
  }
  position.offset = *offset;

  if (lines_text == kUnknownLines) {
    position.lines = std::nullopt;
  } else if (const auto lines = parse_number<std::uint64_t>(lines_text)) {
    position.lines = *lines;
  } else {
    return std::nullopt;
  }

  if (!prefix_text.empty()) {
    const auto prefix = parse_number<std::uint64_t>(prefix_text, kHexBase);
    if (!prefix) {
      return std::nullopt;
    }
    position.prefix_hash = *prefix;
  }
  return position;
}

bool prefix_matches(int fd, const FilePosition& position) {
  if (!position.prefix_hash) {
    return false;
  }
  const std::size_t length = position.offset < kFingerprintBytes ? position.offset : kFingerprintBytes;
  const auto actual = read_prefix_hash(fd, length);
  return actual && *actual == *position.prefix_hash;
}

const FilePosition* IdentityTable::find(const std::string& key) const {
  const auto found = positions_.find(key);
  return found == positions_.end() ? nullptr : &found->second;
}

void IdentityTable::record(const std::string& key, const FilePosition& position) { positions_[key] = position; }

void IdentityTable::forget(const std::string& key) { positions_.erase(key); }

bool IdentityTable::claim(const std::string& key, const void* owner) {
  const auto [entry, inserted] = owners_.emplace(key, owner);
  return inserted || entry->second == owner;
}

void IdentityTable::release(const std::string& key, const void* owner) {
  const auto found = owners_.find(key);
  if (found != owners_.end() && found->second == owner) {
    owners_.erase(found);
  }
}

}  // namespace slipway::inputs::file
