#include "engine/disk_buffer.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <fstream>

#include <fmt/format.h>
#include <gtest/gtest.h>
#include <spdlog/spdlog.h>

#include "tests/support/temp_dir.hpp"

namespace slipway {
namespace {

using testing::TempDir;

constexpr auto kNoWait = std::chrono::milliseconds(0);

Event make_event(int number) {
  static const auto source = std::make_shared<const std::string>("/var/log/slips/alerts.json");
  Event event;
  event.json = fmt::format(R"({{"ID":"alert-{}","Description":"record {}"}})", number, number);
  event.origin.source = source;
  event.origin.line = static_cast<std::uint64_t>(number);
  event.origin.offset = static_cast<std::uint64_t>(number) * 100;
  return event;
}

std::vector<Event> make_events(int first, int last) {
  std::vector<Event> events;
  for (int number = first; number <= last; ++number) {
    events.push_back(make_event(number));
  }
  return events;
}

std::vector<std::string> json_of(const std::vector<Event>& events) {
  std::vector<std::string> texts;
  for (const Event& event : events) {
    texts.push_back(event.json);
  }
  return texts;
}

std::vector<std::string> expected_json(int first, int last) { return json_of(make_events(first, last)); }

class DiskBufferTest : public ::testing::Test {
 protected:
  std::unique_ptr<DiskBuffer> open(DiskBufferOptions options = {}) {
    return std::make_unique<DiskBuffer>(directory(), options, *log_);
  }

  std::filesystem::path directory() const { return dir_ / "buffers" / "share"; }

  std::vector<std::filesystem::path> segment_files() const {
    std::vector<std::filesystem::path> files;
    for (const auto& entry : std::filesystem::directory_iterator(directory())) {
      if (entry.path().extension() == ".seg") {
        files.push_back(entry.path());
      }
    }
    std::sort(files.begin(), files.end());
    return files;
  }

  // Reads everything the buffer returns now, in read() calls of `chunk` events.
  static std::vector<Event> read_all(DiskBuffer& buffer, std::size_t chunk = 1000) {
    std::vector<Event> all;
    while (true) {
      std::vector<Event> part = buffer.read(chunk, std::size_t{1} << 30, kNoWait);
      if (part.empty()) {
        return all;
      }
      std::move(part.begin(), part.end(), std::back_inserter(all));
    }
  }

  TempDir dir_;
  std::shared_ptr<spdlog::logger> log_ = std::make_shared<spdlog::logger>("disk_buffer_test");
};

// Events come back in the order they were appended, with their origin.
TEST_F(DiskBufferTest, ReadsEventsInAppendOrder) {
  auto buffer = open();
  buffer->append(make_events(1, 3));
  buffer->append(make_events(4, 5));
  buffer->sync();
  EXPECT_EQ(buffer->pending_events(), 5u);

  const std::vector<Event> events = read_all(*buffer, 2);
  EXPECT_EQ(json_of(events), expected_json(1, 5));
  ASSERT_EQ(events.size(), 5u);
  ASSERT_TRUE(events[2].origin.source);
  EXPECT_EQ(*events[2].origin.source, "/var/log/slips/alerts.json");
  EXPECT_EQ(events[2].origin.line, 3u);
  EXPECT_EQ(events[2].origin.offset, 300u);
}

// Only committed reads count as delivered: a reopened buffer returns
// everything after the last commit, including events read but not committed.
TEST_F(DiskBufferTest, ReopenReplaysEverythingAfterLastCommit) {
  {
    auto buffer = open();
    buffer->append(make_events(1, 10));
    EXPECT_EQ(json_of(buffer->read(4, 1 << 20, kNoWait)), expected_json(1, 4));
    buffer->commit_read();
    EXPECT_EQ(json_of(buffer->read(3, 1 << 20, kNoWait)), expected_json(5, 7));
    EXPECT_EQ(buffer->pending_events(), 6u);
  }

  auto reopened = open();
  EXPECT_EQ(reopened->recovery().events, 6u);
  EXPECT_EQ(reopened->recovery().dropped_tail_bytes, 0u);
  EXPECT_EQ(json_of(read_all(*reopened)), expected_json(5, 10));
}

// A record cut short by a crash is dropped at the next start, the records
// before it survive, and appending continues after them.
TEST_F(DiskBufferTest, DropsTornTailRecord) {
  {
    auto buffer = open();
    buffer->append(make_events(1, 5));
  }
  const std::filesystem::path segment = segment_files().back();
  const auto size = std::filesystem::file_size(segment);
  std::filesystem::resize_file(segment, size - 3);

  auto reopened = open();
  EXPECT_EQ(reopened->recovery().events, 4u);
  EXPECT_GT(reopened->recovery().dropped_tail_bytes, 0u);
  EXPECT_EQ(reopened->recovery().corrupted_segments, 0u);
  reopened->append(make_events(6, 6));
  std::vector<std::string> expected = expected_json(1, 4);
  expected.push_back(make_event(6).json);
  EXPECT_EQ(json_of(read_all(*reopened)), expected);
}

// Bytes of a record half written before a crash, even with a plausible
// length, never come back as an event.
TEST_F(DiskBufferTest, DropsGarbageAfterLastRecord) {
  {
    auto buffer = open();
    buffer->append(make_events(1, 2));
  }
  const std::string garbage("\x30\x00\x00\x00\xde\xad\xbe\xef{\"ID\":\"half", 19);
  testing::append_file(segment_files().back(), garbage);

  auto reopened = open();
  EXPECT_EQ(reopened->recovery().dropped_tail_bytes, garbage.size());
  EXPECT_EQ(json_of(read_all(*reopened)), expected_json(1, 2));
}

// A record whose bytes changed fails its checksum: it and everything after
// it in the segment are dropped, and the buffer still opens.
TEST_F(DiskBufferTest, DetectsCorruptedChecksum) {
  {
    auto buffer = open();
    buffer->append(make_events(1, 5));
  }
  const std::filesystem::path segment = segment_files().back();
  std::string content = testing::read_file(segment);
  const std::size_t third = content.find("alert-3");
  ASSERT_NE(third, std::string::npos);
  content[third] = 'X';
  testing::write_file(segment, content);

  auto reopened = open();
  EXPECT_EQ(reopened->recovery().events, 2u);
  EXPECT_EQ(reopened->recovery().corrupted_segments, 1u);
  EXPECT_EQ(json_of(read_all(*reopened)), expected_json(1, 2));
}

// A segment whose header was torn at creation is rewritten, not fatal.
TEST_F(DiskBufferTest, RepairsTornSegmentHeader) {
  std::filesystem::create_directories(directory());
  testing::write_file(directory() / "0000000000000001.seg", "SLP");

  auto buffer = open();
  EXPECT_EQ(buffer->recovery().events, 0u);
  buffer->append(make_events(1, 1));
  EXPECT_EQ(json_of(read_all(*buffer)), expected_json(1, 1));
}

// Segments are deleted once every event in them is delivered, and a
// reopened buffer starts after them.
TEST_F(DiskBufferTest, DeletesDeliveredSegments) {
  DiskBufferOptions options;
  options.segment_max_bytes = 4096;
  auto buffer = open(options);
  for (int first = 1; first <= 400; first += 20) {
    buffer->append(make_events(first, first + 19));
  }
  EXPECT_GT(segment_files().size(), 3u);
  const std::uint64_t full_bytes = buffer->disk_bytes();

  EXPECT_EQ(json_of(read_all(*buffer, 50)), expected_json(1, 400));
  buffer->commit_read();
  EXPECT_EQ(segment_files().size(), 1u);
  EXPECT_EQ(buffer->pending_events(), 0u);
  EXPECT_LT(buffer->disk_bytes(), full_bytes / 3);

  buffer.reset();
  auto reopened = open(options);
  EXPECT_EQ(reopened->recovery().events, 0u);
  EXPECT_TRUE(read_all(*reopened).empty());
}

// The byte and event limits refuse a batch that does not fit, and an empty
// buffer takes any batch so an oversized one cannot block for ever.
TEST_F(DiskBufferTest, LimitsBoundEventsAndBytes) {
  DiskBufferOptions options;
  options.max_bytes = 2000;
  options.segment_max_bytes = 512;
  auto buffer = open(options);
  const std::size_t one_event = DiskBuffer::record_bytes(make_event(1));
  EXPECT_TRUE(buffer->fits(100, 100 * one_event));

  buffer->append(make_events(1, 10));
  EXPECT_FALSE(buffer->fits(30, 30 * one_event));
  EXPECT_FALSE(buffer->wait_for_room(30, 30 * one_event, [] { return true; }));

  read_all(*buffer);
  buffer->commit_read();
  EXPECT_TRUE(buffer->fits(30, 30 * one_event));

  DiskBufferOptions event_limit;
  event_limit.max_events = 5;
  buffer.reset();
  TempDir other;
  DiskBuffer limited(other / "buffer", event_limit, *log_);
  limited.append(make_events(1, 4));
  EXPECT_TRUE(limited.fits(1, 1));
  EXPECT_FALSE(limited.fits(2, 1));
}

// With both read pointer slots damaged the buffer replays from its oldest
// segment: events may repeat, but none is skipped.
TEST_F(DiskBufferTest, DamagedReadPointerReplaysFromOldestSegment) {
  {
    auto buffer = open();
    buffer->append(make_events(1, 6));
    read_all(*buffer, 3);
    buffer->commit_read();
    buffer->append(make_events(7, 8));
  }
  testing::write_file(directory() / "read_pointer", std::string(64, '\x55'));

  auto reopened = open();
  EXPECT_EQ(json_of(read_all(*reopened)), expected_json(1, 8));
}

// Records that straddle the reader's 1 MiB read chunks come back whole.
TEST_F(DiskBufferTest, ReadsRecordsAcrossReadChunks) {
  auto buffer = open();
  std::vector<Event> events;
  for (int number = 1; number <= 3000; ++number) {
    Event event = make_event(number);
    event.json.insert(event.json.size() - 1, fmt::format(R"(,"Padding":"{}")", std::string(number % 1500, 'p')));
    events.push_back(std::move(event));
  }
  buffer->append(events);

  EXPECT_EQ(json_of(read_all(*buffer, 700)), json_of(events));
}

// A reader waiting on an empty buffer wakes up when events are appended.
TEST_F(DiskBufferTest, ReadWaitsForAppend) {
  auto buffer = open();
  std::thread writer([&] {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
    buffer->append(make_events(1, 1));
  });
  const std::vector<Event> events = buffer->read(10, 1 << 20, std::chrono::seconds(10));
  writer.join();
  EXPECT_EQ(json_of(events), expected_json(1, 1));
}

}  // namespace
}  // namespace slipway
