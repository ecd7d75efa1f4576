#include "inputs/file/line_reader.hpp"

#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

namespace slipway::inputs::file {

namespace {

constexpr std::string_view kUtf8Bom = "\xEF\xBB\xBF";

ssize_t pread_retrying(int fd, char* data, std::size_t size, std::uint64_t offset) {
  for (;;) {
    const ssize_t count = ::pread(fd, data, size, static_cast<off_t>(offset));
    if (count >= 0 || errno != EINTR) {
      return count;
    }
  }
}

bool is_padding(char byte) { return byte == ' ' || byte == '\t' || byte == '\r'; }

std::size_t count_leading_nuls(const char* data, std::size_t size) {
  const char* first_other = std::find_if(data, data + size, [](char byte) { return byte != '\0'; });
  return static_cast<std::size_t>(first_other - data);
}

// Passes `text` on without surrounding padding, unless nothing else is left.
void send_trimmed(std::string_view text, std::uint64_t offset, std::uint64_t line, LineSink& sink) {
  while (!text.empty() && is_padding(text.front())) {
    text.remove_prefix(1);
    ++offset;
  }
  while (!text.empty() && is_padding(text.back())) {
    text.remove_suffix(1);
  }
  if (!text.empty()) {
    sink.on_record(Record{text, offset, line});
  }
}

}  // namespace

ReadBuffer::ReadBuffer(std::size_t max_line_bytes)
    // The extra byte is room for the CR of a CR LF line of exactly max_line_bytes.
    : capacity_(max_line_bytes + 1 + kReadChunkBytes), data_(std::make_unique_for_overwrite<char[]>(capacity_)) {}

LineReader::LineReader(std::size_t max_line_bytes, FilePosition start)
    : max_line_bytes_(max_line_bytes), position_(start) {
  // The prefix hash belongs to a stored checkpoint and goes stale as soon as the position moves.
  position_.prefix_hash.reset();
}

std::uint64_t LineReader::read_offset() const {
  return skipped_ ? skipped_->offset + skipped_->length : position_.offset;
}

void LineReader::restart(const FilePosition& position) {
  position_ = position;
  position_.prefix_hash.reset();
  skipped_.reset();
}

std::uint64_t LineReader::next_line_number() const { return position_.lines ? *position_.lines + 1 : 0; }

ReadResult LineReader::read(int fd, std::uint64_t file_size, ReadBuffer& buffer, LineSink& sink,
                            std::size_t max_bytes) {
  char* data = buffer.data();
  std::uint64_t base = read_offset();  // file offset of data[0]
  std::size_t carried = 0;             // bytes of an unterminated line, carried over to data[0]
  std::size_t total = 0;

  for (;;) {
    if (base + carried >= file_size) {
      return {ReadStatus::EndOfData, 0};
    }
    const auto requested =
        static_cast<std::size_t>(std::min<std::uint64_t>(kReadChunkBytes, file_size - base - carried));
    const ssize_t count = pread_retrying(fd, data + carried, requested, base + carried);
    if (count < 0) {
      return {ReadStatus::Failed, errno};
    }
    if (count == 0) {
      return {ReadStatus::EndOfData, 0};
    }
    const auto got = static_cast<std::size_t>(count);
    total += got;

    const std::size_t available = carried + got;
    std::size_t begin = 0;
    if (skipped_) {
      begin = skip_through_newline(data, available, sink);
    }
    if (!skipped_) {
      begin += frame_lines(data + begin, available - begin, base + begin, sink);
    }
    base += begin;
    carried = available - begin;
    if (carried > 0 && begin > 0) {
      std::memmove(data, data + begin, carried);
    }

    // An unterminated line that already exceeds the limit (one more byte
    // may be the CR of a CR LF) cannot become valid: skip it from here on
    // instead of holding it. A NUL run before it is padding, not line.
    if (carried > max_line_bytes_ + 1) {
      const std::size_t nuls = count_leading_nuls(data, carried);
      if (nuls > 0) {
        position_.offset += nuls;
        base += nuls;
        carried -= nuls;
        std::memmove(data, data + nuls, carried);
      }
    }
    if (carried > max_line_bytes_ + 1) {
      skipped_ = SkippedLine{base, next_line_number(), carried, data[carried - 1] == '\r',
                             std::string(data, std::min(carried, kOversizedHeadBytes))};
      base += carried;
      carried = 0;
    }

    // A short read means the file shrank meanwhile. The caller's next fstat() detects that.
    if (got < requested) {
      return {ReadStatus::EndOfData, 0};
    }
    if (total >= max_bytes) {
      return {ReadStatus::BudgetUsed, 0};
    }
  }
}

std::size_t LineReader::frame_lines(const char* data, std::size_t size, std::uint64_t base, LineSink& sink) {
  std::size_t begin = 0;
  for (;;) {
    const auto* newline = static_cast<const char*>(std::memchr(data + begin, '\n', size - begin));
    if (newline == nullptr) {
      return begin;
    }
    const auto end = static_cast<std::size_t>(newline - data);
    frame_line(std::string_view(data + begin, end - begin), base + begin, sink);
    begin = end + 1;
    finish_line(base + begin, sink);
  }
}

void LineReader::frame_line(std::string_view text, std::uint64_t offset, LineSink& sink) {
  if (!text.empty() && text.back() == '\r') {
    text.remove_suffix(1);
  }
  if (!text.empty() && text.front() == '\0') {
    const std::size_t nuls = count_leading_nuls(text.data(), text.size());
    text.remove_prefix(nuls);
    offset += nuls;
  }
  const std::uint64_t line = next_line_number();
  if (text.size() > max_line_bytes_) {
    sink.on_oversized(OversizedLine{text.substr(0, kOversizedHeadBytes), offset, line, text.size()});
    return;
  }
  if (offset == 0 && text.starts_with(kUtf8Bom)) {
    text.remove_prefix(kUtf8Bom.size());
    offset += kUtf8Bom.size();
  }
  if (std::memchr(text.data(), '\0', text.size()) == nullptr) {
    send_trimmed(text, offset, line, sink);
    return;
  }

  // A crash or preallocation can leave NUL runs inside a line, even right
  // before the next record: each piece between runs is a record of its own.
  while (!text.empty()) {
    const auto* nul = static_cast<const char*>(std::memchr(text.data(), '\0', text.size()));
    const std::size_t cut = nul == nullptr ? text.size() : static_cast<std::size_t>(nul - text.data());
    send_trimmed(text.substr(0, cut), offset, line, sink);
    std::size_t next = cut;
    while (next < text.size() && text[next] == '\0') {
      ++next;
    }
    text.remove_prefix(next);
    offset += next;
  }
}

std::size_t LineReader::skip_through_newline(const char* data, std::size_t size, LineSink& sink) {
  SkippedLine& skipped = *skipped_;
  const auto* newline = static_cast<const char*>(std::memchr(data, '\n', size));
  if (newline == nullptr) {
    skipped.length += size;
    skipped.ends_with_cr = size > 0 ? data[size - 1] == '\r' : skipped.ends_with_cr;
    return size;
  }

  const auto end = static_cast<std::size_t>(newline - data);
  skipped.length += end;
  const bool ends_with_cr = end > 0 ? data[end - 1] == '\r' : skipped.ends_with_cr;
  sink.on_oversized(OversizedLine{skipped.head, skipped.offset, skipped.line, skipped.length - (ends_with_cr ? 1 : 0)});

  const std::uint64_t next_offset = skipped.offset + skipped.length + 1;
  skipped_.reset();
  finish_line(next_offset, sink);
  return end + 1;
}

void LineReader::finish_line(std::uint64_t next_offset, LineSink& sink) {
  position_.offset = next_offset;
  if (position_.lines) {
    ++*position_.lines;
  }
  sink.on_line_end(position_);
}

}  // namespace slipway::inputs::file
