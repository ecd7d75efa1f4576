// Line framing for one file. Lines end at LF. A record is a line without its
// terminator and without surrounding spaces, tabs or CR. A UTF-8 BOM at
// offset 0 is skipped. Runs of NUL bytes, left by preallocation or a crash,
// separate records without being part of one. Only complete lines are
// consumed, so an unterminated last line is read again, whole, once its LF
// arrives. A line longer than the limit is skipped without being buffered.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "inputs/file/fingerprint.hpp"

namespace slipway::inputs::file {

// Bytes asked of each pread: large enough that system calls cost little
// next to splitting lines, small enough to stay in the L2 cache.
inline constexpr std::size_t kReadChunkBytes = 256 * 1024;
// Leading bytes of an oversized line kept for the dead-letter entry.
inline constexpr std::size_t kOversizedHeadBytes = 4096;

struct Record {
  std::string_view text;  // never empty
  std::uint64_t offset;   // of the record's first byte in the file
  std::uint64_t line;     // 1-based line number, 0 when unknown
};

struct OversizedLine {
  std::string_view head;  // the first kOversizedHeadBytes bytes at most
  std::uint64_t offset;   // of the line's first byte
  std::uint64_t line;     // 1-based line number, 0 when unknown
  std::uint64_t length;   // bytes without the line terminator
};

// Receives what a LineReader finds, in file order.
class LineSink {
 public:
  virtual ~LineSink() = default;
  virtual void on_record(const Record& record) = 0;
  virtual void on_oversized(const OversizedLine& line) = 0;
  // Called after the records of each complete line; `position` is past it.
  virtual void on_line_end(const FilePosition& position) = 0;
};

// Scratch memory for reading: one chunk plus the longest line that may be
// carried over from the previous chunk. One buffer serves every file of an
// input because an unterminated line is read again from the file, not kept.
class ReadBuffer {
 public:
  explicit ReadBuffer(std::size_t max_line_bytes);

  char* data() { return data_.get(); }
  std::size_t capacity() const { return capacity_; }

 private:
  std::size_t capacity_;
  std::unique_ptr<char[]> data_;
};

enum class ReadStatus {
  EndOfData,   // read up to the end of the file
  BudgetUsed,  // stopped after max_bytes; more may follow
  Failed,      // pread failed, and `error` contains errno
};

struct ReadResult {
  ReadStatus status = ReadStatus::EndOfData;
  int error = 0;
};

class LineReader {
 public:
  LineReader(std::size_t max_line_bytes, FilePosition start);

  // Reads from `fd` at read_offset() in chunks, passing complete lines to
  // `sink`, until `file_size` (as fstat() gave it just before) or until
  // about `max_bytes` were read. Bytes appended meanwhile wait for the next
  // call, so the caller's identity checks cover everything read.
  ReadResult read(int fd, std::uint64_t file_size, ReadBuffer& buffer, LineSink& sink, std::size_t max_bytes);

  // The position after the last complete line: what a checkpoint may store.
  const FilePosition& position() const { return position_; }
  // Where the next read starts: past position() while an oversized line is being skipped.
  std::uint64_t read_offset() const;
  // Forgets any line in progress and continues from `position`.
  void restart(const FilePosition& position);

 private:
  struct SkippedLine {
    std::uint64_t offset = 0;
    std::uint64_t line = 0;
    std::uint64_t length = 0;  // bytes skipped so far, before any LF
    bool ends_with_cr = false;
    std::string head;
  };

  std::size_t frame_lines(const char* data, std::size_t size, std::uint64_t base, LineSink& sink);
  void frame_line(std::string_view text, std::uint64_t offset, LineSink& sink);
  std::size_t skip_through_newline(const char* data, std::size_t size, LineSink& sink);
  void finish_line(std::uint64_t next_offset, LineSink& sink);
  std::uint64_t next_line_number() const;

  std::size_t max_line_bytes_;
  FilePosition position_;
  std::optional<SkippedLine> skipped_;
};

}  // namespace slipway::inputs::file
