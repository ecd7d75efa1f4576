// Component tests of the file input around files that are renamed,
// truncated, copied, deleted or appear later.
#include <sys/stat.h>

#include "inputs/file/fingerprint.hpp"
#include "tests/inputs/file/file_input_fixture.hpp"

namespace slipway::inputs {
namespace {

class FileInputRotationTest : public FileInputTest {
 protected:
  // logrotate's copytruncate: copy the file aside, truncate it in place, append more.
  void run_copytruncate(const std::string& pattern, bool copy_is_watched) {
    const auto part_a = case_lines("cases/002-copytruncate/part-a.jsonl");
    const auto part_b = case_lines("cases/002-copytruncate/part-b.jsonl");
    if (!part_a || !part_b) {
      GTEST_SKIP() << "the shared cases folder is absent, so case 002 cannot run";
    }
    const std::filesystem::path alerts = watched("alerts.json");
    const std::filesystem::path copy = watched("alerts.json.1");
    testing::write_file(alerts, "");
    auto context = start(settings(pattern));
    ASSERT_TRUE(context->wait_for_idle_passes(1));

    testing::append_file(alerts, join_lines(*part_a));
    ASSERT_TRUE(context->wait_for_events(4));
    std::filesystem::copy_file(alerts, copy);
    std::filesystem::resize_file(alerts, 0);
    testing::append_file(alerts, join_lines(*part_b));

    ASSERT_TRUE(context->wait_for_events(6));
    if (copy_is_watched) {
      // The copy carries the same leading bytes, so it continues where the original stopped.
      EXPECT_TRUE(context->wait_until([&] {
        return context->log_contains(
            fmt::format("Resuming file after content already read under its identity. path={} offset={}",
                        copy.string(), join_lines(*part_a).size()));
      }));
    }
    ASSERT_TRUE(context->wait_for_idle_passes(3));

    std::vector<std::string> expected = *part_a;
    expected.insert(expected.end(), part_b->begin(), part_b->end());
    EXPECT_EQ(context->event_texts(), expected);
    EXPECT_EQ(context->metrics().dead_lettered_events.load(), 0u);
  }
};

// Rotation by rename and create while the writer still appends through its
// old handle: each record arrives once, in order within each file, and the
// renamed file is closed once it stays unchanged for rotate_wait_ms.
TEST_F(FileInputRotationTest, RenameRotationDeliversEveryRecordOnce) {
  const auto part_a = case_lines("cases/001-rotate-rename-create/part-a.jsonl");
  const auto part_b = case_lines("cases/001-rotate-rename-create/part-b.jsonl");
  const auto part_c = case_lines("cases/001-rotate-rename-create/part-c.jsonl");
  const auto part_d = case_lines("cases/001-rotate-rename-create/part-d.jsonl");
  if (!part_a || !part_b || !part_c || !part_d) {
    GTEST_SKIP() << "the shared cases folder is absent, so case 001 cannot run";
  }
  const std::filesystem::path alerts = watched("alerts.json");
  const std::filesystem::path rotated = watched("alerts.json.1");
  testing::write_file(alerts, "");
  auto context = start(settings(alerts.string()));
  ASSERT_TRUE(context->wait_for_idle_passes(1));

  testing::append_file(alerts, join_lines(*part_a));
  ASSERT_TRUE(context->wait_for_events(3));

  const int writer = ::open(alerts.c_str(), O_WRONLY | O_APPEND | O_CLOEXEC);
  ASSERT_GE(writer, 0);
  write_through(writer, join_lines(*part_b));
  std::filesystem::rename(alerts, rotated);
  testing::write_file(alerts, "");
  testing::append_file(alerts, join_lines(*part_c));
  write_through(writer, join_lines(*part_d));
  ::close(writer);

  ASSERT_TRUE(context->wait_for_events(9));
  EXPECT_TRUE(context->wait_until([&] { return !has_open_descriptor(rotated); }))
      << "the renamed file is still open after rotate_wait_ms";
  ASSERT_TRUE(context->wait_for_idle_passes(3));

  const std::vector<std::string> texts = context->event_texts();
  EXPECT_EQ(texts.size(), 9u);
  std::vector<std::string> old_file = *part_a;
  old_file.insert(old_file.end(), part_b->begin(), part_b->end());
  old_file.insert(old_file.end(), part_d->begin(), part_d->end());
  const auto old_positions = positions_of(texts, old_file);
  const auto new_positions = positions_of(texts, *part_c);
  EXPECT_TRUE(std::is_sorted(old_positions.begin(), old_positions.end()));
  EXPECT_TRUE(std::is_sorted(new_positions.begin(), new_positions.end()));
}

// After copytruncate the shrunken file is read again from offset 0, so the
// records appended after the truncation are not skipped.
TEST_F(FileInputRotationTest, CopytruncateReadsTruncatedFileFromStart) {
  run_copytruncate(watched("alerts.json").string(), false);
}

// With a glob that also matches the copy, the copy is recognised by its
// leading bytes and its records, already delivered, are not sent again.
TEST_F(FileInputRotationTest, CopytruncateDoesNotResendTheCopy) {
  run_copytruncate(watched("alerts.json").string() + "*", true);
}

// Files that appear after the start and match a glob are found by the next scan and read from their start.
TEST_F(FileInputRotationTest, PicksUpNewFilesMatchingGlob) {
  auto context = start(settings(watched("*.json").string()));
  ASSERT_TRUE(context->wait_for_idle_passes(1));

  testing::write_file(watched("a.json"), "{\"n\":1}\n{\"n\":2}\n");
  ASSERT_TRUE(context->wait_for_events(2));
  testing::write_file(watched("b.json"), "{\"n\":3}\n");
  ASSERT_TRUE(context->wait_for_events(3));
  testing::write_file(watched("ignored.txt"), "{\"n\":4}\n");
  ASSERT_TRUE(context->wait_for_idle_passes(3));

  const std::vector<Event> events = context->events();
  ASSERT_EQ(events.size(), 3u);
  EXPECT_EQ(*events[0].origin.source, watched("a.json").string());
  EXPECT_EQ(events[1].origin.line, 2u);
  EXPECT_EQ(events[1].origin.offset, 8u);
  EXPECT_EQ(*events[2].origin.source, watched("b.json").string());
  EXPECT_EQ(events[2].json, "{\"n\":3}");
  // Events of one file share one copy of its path.
  EXPECT_EQ(events[0].origin.source.get(), events[1].origin.source.get());
}

// A file deleted and created again under the same name with other content is read from its start.
TEST_F(FileInputRotationTest, RecreatedFileIsReadFromStart) {
  const std::filesystem::path alerts = watched("alerts.json");
  const std::string first = "{\"n\":1,\"pad\":\"" + std::string(300, 'a') + "\"}\n";
  const std::string second = "{\"n\":2,\"pad\":\"" + std::string(300, 'b') + "\"}\n";
  testing::write_file(alerts, first);
  auto context = start(settings(alerts.string()));
  ASSERT_TRUE(context->wait_for_events(1));

  std::filesystem::remove(alerts);
  testing::write_file(alerts, second);
  ASSERT_TRUE(context->wait_for_events(2));
  ASSERT_TRUE(context->wait_for_idle_passes(3));

  const std::vector<std::string> expected = {first.substr(0, first.size() - 1), second.substr(0, second.size() - 1)};
  EXPECT_EQ(context->event_texts(), expected);
}

// A checkpoint stored under a device and inode applies only to the content
// it was taken on: a new file that reuses the inode is read from its start.
TEST_F(FileInputRotationTest, ReusedInodeIsReadFromStart) {
  const std::filesystem::path alerts = watched("alerts.json");
  testing::write_file(alerts, "{\"n\":1}\n{\"n\":2}\n");
  struct stat status {};
  ASSERT_EQ(::stat(alerts.c_str(), &status), 0);
  const file::FileId id{status.st_dev, status.st_ino};
  // The stale checkpoint of an earlier file with this inode, whose first line was different.
  checkpoints_->set(file::inode_key(id), file::format_position({8, 1, file::hash_bytes("{\"n\":0}\n")}));

  auto context = start(settings(alerts.string()));
  ASSERT_TRUE(context->wait_for_events(2));
  const std::vector<std::string> expected = {"{\"n\":1}", "{\"n\":2}"};
  EXPECT_EQ(context->event_texts(), expected);
}

// The same checkpoint taken on the same content is honoured: reading resumes after it.
TEST_F(FileInputRotationTest, ShortFileResumesFromInodeCheckpoint) {
  const std::filesystem::path alerts = watched("alerts.json");
  testing::write_file(alerts, "{\"n\":1}\n{\"n\":2}\n");
  struct stat status {};
  ASSERT_EQ(::stat(alerts.c_str(), &status), 0);
  const file::FileId id{status.st_dev, status.st_ino};
  checkpoints_->set(file::inode_key(id), file::format_position({8, 1, file::hash_bytes("{\"n\":1}\n")}));

  auto context = start(settings(alerts.string()));
  ASSERT_TRUE(context->wait_for_events(1));
  ASSERT_TRUE(context->wait_for_idle_passes(2));
  const std::vector<Event> events = context->events();
  ASSERT_EQ(events.size(), 1u);
  EXPECT_EQ(events[0].json, "{\"n\":2}");
  EXPECT_EQ(events[0].origin.line, 2u);
}

// NOTE: a copy of a file shorter than the 1024-byte fingerprint is read again
// as a new file, because only device and inode identify such a file.
TEST_F(FileInputRotationTest, CopyOfShortFileIsReadAgain) {
  const std::vector<std::string> lines = {"{\"n\":1}", "{\"n\":2}"};
  testing::write_file(watched("short.json"), join_lines(lines));
  auto context = start(settings(watched("short.json").string() + "*"));
  ASSERT_TRUE(context->wait_for_events(2));

  std::filesystem::copy_file(watched("short.json"), watched("short.json.1"));
  ASSERT_TRUE(context->wait_for_events(4));
  ASSERT_TRUE(context->wait_for_idle_passes(3));

  const std::vector<std::string> expected = {lines[0], lines[1], lines[0], lines[1]};
  EXPECT_EQ(context->event_texts(), expected);
}

}  // namespace
}  // namespace slipway::inputs
