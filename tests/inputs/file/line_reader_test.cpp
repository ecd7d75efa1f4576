#include "inputs/file/line_reader.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "tests/support/temp_dir.hpp"

namespace slipway::inputs::file {
namespace {

using namespace std::string_literals;

struct SeenRecord {
  std::string text;
  std::uint64_t offset;
  std::uint64_t line;

  bool operator==(const SeenRecord&) const = default;
};

std::ostream& operator<<(std::ostream& stream, const SeenRecord& record) {
  return stream << "{\"" << record.text << "\" offset=" << record.offset << " line=" << record.line << "}";
}

class RecordingSink final : public LineSink {
 public:
  void on_record(const Record& record) override {
    records.push_back(SeenRecord{std::string(record.text), record.offset, record.line});
  }
  void on_oversized(const OversizedLine& line) override { oversized.push_back(line_copy(line)); }
  void on_line_end(const FilePosition& position) override { line_ends.push_back(position.offset); }

  struct SeenOversized {
    std::size_t head_size;
    std::uint64_t offset;
    std::uint64_t line;
    std::uint64_t length;
  };
  static SeenOversized line_copy(const OversizedLine& line) {
    return SeenOversized{line.head.size(), line.offset, line.line, line.length};
  }

  std::vector<SeenRecord> records;
  std::vector<SeenOversized> oversized;
  std::vector<std::uint64_t> line_ends;
};

class LineReaderTest : public ::testing::Test {
 protected:
  // Reads the file's current content once, from `reader`'s position.
  ReadResult read_file(LineReader& reader, RecordingSink& sink, std::size_t max_line_bytes = kDefaultMaxLine) {
    const int fd = ::open(path().c_str(), O_RDONLY | O_CLOEXEC);
    EXPECT_GE(fd, 0);
    ReadBuffer buffer(max_line_bytes);
    const ReadResult result = reader.read(fd, std::filesystem::file_size(path()), buffer, sink, kLargeBudget);
    ::close(fd);
    return result;
  }

  std::filesystem::path path() const { return dir_ / "alerts.json"; }

  static constexpr std::size_t kDefaultMaxLine = 1024;
  static constexpr std::size_t kLargeBudget = 64 * 1024 * 1024;
  testing::TempDir dir_;
};

// Lines are split at LF and each record carries its byte offset and 1-based line number.
TEST_F(LineReaderTest, SplitsLinesWithOffsets) {
  testing::write_file(path(), "a\nbb\n");
  LineReader reader(kDefaultMaxLine, FilePosition{});
  RecordingSink sink;

  EXPECT_EQ(read_file(reader, sink).status, ReadStatus::EndOfData);

  const std::vector<SeenRecord> expected = {{"a", 0, 1}, {"bb", 2, 2}};
  EXPECT_EQ(sink.records, expected);
  EXPECT_EQ(reader.position().offset, 5u);
  EXPECT_EQ(reader.position().lines, 2u);
}

// Bytes after the last LF are not consumed; the whole line is read once its LF arrives.
TEST_F(LineReaderTest, HoldsUnterminatedLine) {
  testing::write_file(path(), "a\nhal");
  LineReader reader(kDefaultMaxLine, FilePosition{});
  RecordingSink first;
  read_file(reader, first);
  ASSERT_EQ(first.records.size(), 1u);
  EXPECT_EQ(reader.position().offset, 2u);

  testing::append_file(path(), "f\n");
  RecordingSink second;
  read_file(reader, second);

  const std::vector<SeenRecord> expected = {{"half", 2, 2}};
  EXPECT_EQ(second.records, expected);
  EXPECT_EQ(reader.position().offset, 7u);
}

// CR before LF is dropped, and empty or white-space lines give no record but still count as lines.
TEST_F(LineReaderTest, StripsCrAndSkipsBlankLines) {
  testing::write_file(path(), "a\r\n\r\n \t \r\nb\r\n");
  LineReader reader(kDefaultMaxLine, FilePosition{});
  RecordingSink sink;
  read_file(reader, sink);

  const std::vector<SeenRecord> expected = {{"a", 0, 1}, {"b", 10, 4}};
  EXPECT_EQ(sink.records, expected);
  EXPECT_EQ(reader.position().offset, 13u);
  EXPECT_EQ(sink.line_ends.size(), 4u);
}

// A UTF-8 byte order mark is skipped at the start of the file and nowhere else.
TEST_F(LineReaderTest, SkipsBomOnlyAtFileStart) {
  testing::write_file(path(), "\xEF\xBB\xBF{}\n\xEF\xBB\xBF[]\n");
  LineReader reader(kDefaultMaxLine, FilePosition{});
  RecordingSink sink;
  read_file(reader, sink);

  const std::vector<SeenRecord> expected = {{"{}", 3, 1}, {"\xEF\xBB\xBF[]", 6, 2}};
  EXPECT_EQ(sink.records, expected);
}

// NUL runs separate records and never appear in one, even in a line of their own.
TEST_F(LineReaderTest, SplitsRecordsAtNulRuns) {
  testing::write_file(path(), "a\0\0b\n\0\0\0\n\0c\0\n"s);
  LineReader reader(kDefaultMaxLine, FilePosition{});
  RecordingSink sink;
  read_file(reader, sink);

  const std::vector<SeenRecord> expected = {{"a", 0, 1}, {"b", 3, 1}, {"c", 10, 3}};
  EXPECT_EQ(sink.records, expected);
  EXPECT_EQ(reader.position().offset, 13u);
}

// A complete line over the limit is reported with its length and skipped; the next line is read.
TEST_F(LineReaderTest, ReportsOversizedLine) {
  testing::write_file(path(), "ok\n" + std::string(20, 'x') + "\r\nnext\n");
  LineReader reader(10, FilePosition{});
  RecordingSink sink;
  read_file(reader, sink, 10);

  ASSERT_EQ(sink.oversized.size(), 1u);
  EXPECT_EQ(sink.oversized[0].offset, 3u);
  EXPECT_EQ(sink.oversized[0].line, 2u);
  EXPECT_EQ(sink.oversized[0].length, 20u);
  EXPECT_EQ(sink.oversized[0].head_size, 20u);
  const std::vector<SeenRecord> expected = {{"ok", 0, 1}, {"next", 25, 3}};
  EXPECT_EQ(sink.records, expected);
}

// A line several times larger than the whole read buffer is skipped in
// pieces, so memory stays bounded by the limit, and no piece of it becomes a record.
TEST_F(LineReaderTest, SkipsLineLargerThanBuffer) {
  const std::size_t long_length = 3 * kReadChunkBytes + 17;
  testing::write_file(path(), "first\n" + std::string(long_length, 'A') + "\nlast\n");
  LineReader reader(kDefaultMaxLine, FilePosition{});
  RecordingSink sink;
  ReadBuffer buffer(kDefaultMaxLine);
  ASSERT_LT(buffer.capacity(), long_length);

  read_file(reader, sink);

  ASSERT_EQ(sink.oversized.size(), 1u);
  EXPECT_EQ(sink.oversized[0].offset, 6u);
  EXPECT_EQ(sink.oversized[0].length, long_length);
  EXPECT_EQ(sink.oversized[0].head_size, kOversizedHeadBytes);
  const std::vector<SeenRecord> expected = {{"first", 0, 1}, {"last", 6 + long_length + 1, 3}};
  EXPECT_EQ(sink.records, expected);
}

// While an oversized line has no LF yet, the checkpointable position stays before it.
TEST_F(LineReaderTest, KeepsPositionBeforeUnfinishedOversizedLine) {
  testing::write_file(path(), "a\n" + std::string(kReadChunkBytes * 2, 'B'));
  LineReader reader(kDefaultMaxLine, FilePosition{});
  RecordingSink first;
  read_file(reader, first);
  EXPECT_EQ(reader.position().offset, 2u);
  EXPECT_EQ(reader.read_offset(), 2u + kReadChunkBytes * 2);
  EXPECT_TRUE(first.oversized.empty());

  testing::append_file(path(), "BB\nc\n");
  RecordingSink second;
  read_file(reader, second);
  ASSERT_EQ(second.oversized.size(), 1u);
  EXPECT_EQ(second.oversized[0].length, kReadChunkBytes * 2 + 2);
  const std::vector<SeenRecord> expected = {{"c", 2 + kReadChunkBytes * 2 + 3, 3}};
  EXPECT_EQ(second.records, expected);
}

// A run of NUL bytes longer than the limit without any LF is padding, not an oversized line.
TEST_F(LineReaderTest, SkipsLongNulRunWithoutReportingIt) {
  testing::write_file(path(), std::string(100, '\0') + "ab\n");
  LineReader reader(8, FilePosition{});
  RecordingSink sink;
  read_file(reader, sink, 8);

  EXPECT_TRUE(sink.oversized.empty());
  const std::vector<SeenRecord> expected = {{"ab", 100, 1}};
  EXPECT_EQ(sink.records, expected);
}

// Reading resumes at a stored position and line numbers continue from it.
TEST_F(LineReaderTest, ResumesAtStoredPosition) {
  testing::write_file(path(), "a\nb\n");
  LineReader reader(kDefaultMaxLine, FilePosition{2, 1, std::nullopt});
  RecordingSink sink;
  read_file(reader, sink);

  const std::vector<SeenRecord> expected = {{"b", 2, 2}};
  EXPECT_EQ(sink.records, expected);
}

// With unknown line numbers (a file started at its end) every record has line 0.
TEST_F(LineReaderTest, LeavesUnknownLineNumbersAtZero) {
  testing::write_file(path(), "a\nb\n");
  LineReader reader(kDefaultMaxLine, FilePosition{0, std::nullopt, std::nullopt});
  RecordingSink sink;
  read_file(reader, sink);

  const std::vector<SeenRecord> expected = {{"a", 0, 0}, {"b", 2, 0}};
  EXPECT_EQ(sink.records, expected);
  EXPECT_FALSE(reader.position().lines.has_value());
}

}  // namespace
}  // namespace slipway::inputs::file
