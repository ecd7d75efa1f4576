// Recovery of a Zeek log's header when reading resumes in the middle of the
// file, after a restart from a checkpoint or with start_at: end. A walk
// backwards from the resume offset finds the last #fields line, every '#'
// line after it and the header lines just before it. Replaying them in file
// order rebuilds the state that a reader from the start would have.
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cstring>
#include <string>
#include <optional>
#include <utility>
#include <vector>

#include "inputs/file/zeek_log.hpp"

namespace slipway::inputs::file {

namespace {

// Bytes read per step of the backward scan.
constexpr std::size_t kScanChunkBytes = 64 * 1024;
// Bytes read per step while reading one header line.
constexpr std::size_t kLineChunkBytes = 4 * 1024;
constexpr std::string_view kFieldsDirective = "#fields";
constexpr std::string_view kUtf8Bom = "\xEF\xBB\xBF";

struct HeaderLine {
  std::uint64_t offset = 0;
  std::string text;
};

// Reads exactly `size` bytes at `offset`; returns errno, or EIO when the
// file ended early because it shrank meanwhile.
int read_exactly(int fd, char* data, std::size_t size, std::uint64_t offset) {
  while (size > 0) {
    const ssize_t count = ::pread(fd, data, size, static_cast<off_t>(offset));
    if (count < 0 && errno == EINTR) {
      continue;
    }
    if (count <= 0) {
      return count < 0 ? errno : EIO;
    }
    data += count;
    size -= static_cast<std::size_t>(count);
    offset += static_cast<std::uint64_t>(count);
  }
  return 0;
}

// Reads the line starting at `start` without its LF and the padding the
// line reader trims; the line ends at `limit` at the latest. Lines longer
// than `max_line_bytes` come back empty, as the line reader skips them.
int read_line(int fd, std::uint64_t start, std::uint64_t limit, std::size_t max_line_bytes, std::string& line) {
  line.clear();
  char chunk[kLineChunkBytes];
  for (std::uint64_t position = start; position < limit;) {
    const auto size = static_cast<std::size_t>(std::min<std::uint64_t>(kLineChunkBytes, limit - position));
    if (const int error = read_exactly(fd, chunk, size, position); error != 0) {
      return error;
    }
    const auto* newline = static_cast<const char*>(std::memchr(chunk, '\n', size));
    line.append(chunk, newline == nullptr ? size : static_cast<std::size_t>(newline - chunk));
    if (line.size() > max_line_bytes + 1) {
      line.clear();
      return 0;
    }
    if (newline != nullptr) {
      break;
    }
    position += size;
  }
  while (!line.empty() && (line.back() == '\r' || line.back() == ' ' || line.back() == '\t')) {
    line.pop_back();
  }
  if (start == 0 && line.starts_with(kUtf8Bom)) {
    line.erase(0, kUtf8Bom.size());
  }
  return 0;
}

bool is_fields_line(std::string_view line) {
  if (!line.starts_with(kFieldsDirective)) {
    return false;
  }
  // "#fieldsX" is another directive; the separator after #fields may be any byte but a name character.
  const char next = line.size() > kFieldsDirective.size() ? line[kFieldsDirective.size()] : '\t';
  return !std::isalnum(static_cast<unsigned char>(next)) && next != '_';
}

// The start of the line before the one starting at `start` (> 0), or
// nullopt when it is longer than `max_line_bytes`.
std::optional<std::uint64_t> previous_line_start(int fd, std::uint64_t start, std::size_t max_line_bytes,
                                                 std::vector<char>& buffer, int& error) {
  const std::uint64_t line_end = start - 1;  // the LF before `start`
  const std::uint64_t window = std::min<std::uint64_t>(line_end, max_line_bytes + 1);
  buffer.resize(static_cast<std::size_t>(window));
  error = read_exactly(fd, buffer.data(), buffer.size(), line_end - window);
  if (error != 0) {
    return std::nullopt;
  }
  const void* newline = ::memrchr(buffer.data(), '\n', buffer.size());
  if (newline != nullptr) {
    return line_end - window + static_cast<std::uint64_t>(static_cast<const char*>(newline) - buffer.data()) + 1;
  }
  return window == line_end ? std::optional<std::uint64_t>(0) : std::nullopt;
}

// True when the '#' at `data[index]`, file offset `position`, starts a line.
bool starts_line(const char* data, std::size_t index, std::uint64_t position) {
  if (position == 0) {
    return true;
  }
  if (position == kUtf8Bom.size() && index >= kUtf8Bom.size() &&
      std::string_view(data + index - kUtf8Bom.size(), kUtf8Bom.size()) == kUtf8Bom) {
    return true;
  }
  return data[index - 1] == '\n';
}

}  // namespace

int ZeekLogDecoder::recover_header(int fd, std::uint64_t offset, std::size_t max_line_bytes) {
  reset();
  std::vector<HeaderLine> found;  // in decreasing offset order
  std::vector<char> chunk(kScanChunkBytes + 1);
  std::string line;

  // Backwards from `offset` to the last #fields line, keeping every '#' line on the way.
  std::optional<std::uint64_t> fields_start;
  for (std::uint64_t end = offset; end > 0 && !fields_start;) {
    const std::uint64_t begin = end > kScanChunkBytes ? end - kScanChunkBytes : 0;
    // One byte before `begin` shows whether a '#' at `begin` starts a line.
    const std::uint64_t read_from = begin > 0 ? begin - 1 : 0;
    const auto size = static_cast<std::size_t>(end - read_from);
    if (const int error = read_exactly(fd, chunk.data(), size, read_from); error != 0) {
      return error;
    }
    const std::size_t search_begin = static_cast<std::size_t>(begin - read_from);
    std::size_t search_end = size;
    while (search_end > search_begin && !fields_start) {
      const void* hash = ::memrchr(chunk.data() + search_begin, '#', search_end - search_begin);
      if (hash == nullptr) {
        break;
      }
      const auto index = static_cast<std::size_t>(static_cast<const char*>(hash) - chunk.data());
      search_end = index;
      const std::uint64_t position = read_from + index;
      if (!starts_line(chunk.data(), index, position)) {
        continue;
      }
      if (const int error = read_line(fd, position, offset, max_line_bytes, line); error != 0) {
        return error;
      }
      if (line.empty()) {
        continue;
      }
      if (is_fields_line(line)) {
        fields_start = position;
      }
      found.push_back(HeaderLine{position, line});
    }
    end = begin;
  }
  if (!fields_start) {
    return 0;
  }

  // The header lines just before #fields: #separator and the others that
  // set how it and the rows are split.
  int error = 0;
  for (std::uint64_t start = *fields_start; start > 0;) {
    const std::optional<std::uint64_t> previous = previous_line_start(fd, start, max_line_bytes, chunk, error);
    if (error != 0) {
      return error;
    }
    if (!previous) {
      break;
    }
    if (error = read_line(fd, *previous, start, max_line_bytes, line); error != 0) {
      return error;
    }
    if (line.empty() || line.front() != '#') {
      break;
    }
    found.push_back(HeaderLine{*previous, line});
    start = *previous;
  }

  for (auto header_line = found.rbegin(); header_line != found.rend(); ++header_line) {
    header_.apply(header_line->text, header_line->offset);
  }
  return 0;
}

}  // namespace slipway::inputs::file
