// Component tests of the file input across restarts: which checkpoints it
// stores, where it resumes, and where a file without a checkpoint starts.
#include "tests/inputs/file/file_input_fixture.hpp"

namespace slipway::inputs {
namespace {

class FileInputCheckpointTest : public FileInputTest {
 protected:
  void SetUp() override {
    const std::string base = "cases/006-partial-line-across-restart/";
    const std::filesystem::path first = testing::shared_path(base + "step1-record1-and-head2.bin");
    const std::filesystem::path second = testing::shared_path(base + "step2-tail2-and-record3.bin");
    if (first.empty() || second.empty()) {
      GTEST_SKIP() << "the shared cases folder is absent; these tests use the records of case 006";
    }
    step1_ = testing::read_file(first);
    step2_ = testing::read_file(second);
    records_ = split_lines(step1_ + step2_);
  }

  enum class RunEnd {
    GracefulStop,       // every batch, including any emitted at the stop, is delivered
    KillAfterDelivery,  // record 1 was delivered; whatever came later is lost with the process
    KillBeforeDelivery  // nothing was delivered
  };

  // First run of case 006: the file contains record 1 and the first 150 bytes
  // of record 2. Record 1 is emitted, then the run ends in the way `end` selects.
  void run_until_partial_line(RunEnd end) {
    const std::filesystem::path alerts = watched("alerts.json");
    testing::write_file(alerts, "");
    auto context = start(settings(alerts.string()));
    ASSERT_TRUE(context->wait_for_idle_passes(1));
    testing::append_file(alerts, step1_);
    ASSERT_TRUE(context->wait_for_events(1));
    ASSERT_TRUE(context->wait_for_idle_passes(2));

    if (end == RunEnd::KillAfterDelivery) {
      context->acknowledge_all();
    }
    context->stop();
    if (end == RunEnd::GracefulStop) {
      context->acknowledge_all();
    } else {
      context->drop_unacknowledged();
    }
    EXPECT_EQ(context->event_texts(), std::vector<std::string>{records_[0]});
  }

  std::string step1_;
  std::string step2_;
  std::vector<std::string> records_;
};

// After a graceful stop with half a line pending, the checkpoint points
// just past record 1, and the next run delivers record 2 whole and record 3.
TEST_F(FileInputCheckpointTest, PartialLineSurvivesRestart) {
  run_until_partial_line(RunEnd::GracefulStop);
  const auto committed = checkpoints_->entries();
  ASSERT_EQ(committed.size(), 1u);
  EXPECT_EQ(offset_and_lines(committed.begin()->second), fmt::format("{}:1", records_[0].size() + 1));

  testing::append_file(watched("alerts.json"), step2_);
  auto context = start(settings(watched("alerts.json").string()));
  ASSERT_TRUE(context->wait_for_events(2));
  ASSERT_TRUE(context->wait_for_idle_passes(3));

  const std::vector<std::string> expected = {records_[1], records_[2]};
  EXPECT_EQ(context->event_texts(), expected);
  EXPECT_EQ(context->metrics().dead_lettered_events.load(), 0u);
  const std::vector<Event> events = context->events();
  EXPECT_EQ(events[0].origin.line, 2u);
  EXPECT_EQ(events[0].origin.offset, records_[0].size() + 1);
}

// A kill after record 1 was delivered leaves the same checkpoint, so the
// outcome matches a graceful stop: no fragment, nothing repeated.
TEST_F(FileInputCheckpointTest, PartialLineSurvivesKill) {
  run_until_partial_line(RunEnd::KillAfterDelivery);
  const auto committed = checkpoints_->entries();
  ASSERT_EQ(committed.size(), 1u);
  EXPECT_EQ(offset_and_lines(committed.begin()->second), fmt::format("{}:1", records_[0].size() + 1));
  testing::append_file(watched("alerts.json"), step2_);

  auto context = start(settings(watched("alerts.json").string()));
  ASSERT_TRUE(context->wait_for_events(2));
  ASSERT_TRUE(context->wait_for_idle_passes(3));

  const std::vector<std::string> expected = {records_[1], records_[2]};
  EXPECT_EQ(context->event_texts(), expected);
}

// A kill before record 1's batch was acknowledged commits nothing, so the
// next run reads the file again from its start: every record arrives whole.
TEST_F(FileInputCheckpointTest, UnacknowledgedBatchIsReadAgain) {
  run_until_partial_line(RunEnd::KillBeforeDelivery);
  EXPECT_TRUE(checkpoints_->entries().empty());
  testing::append_file(watched("alerts.json"), step2_);

  auto context = start(settings(watched("alerts.json").string()));
  ASSERT_TRUE(context->wait_for_events(3));
  ASSERT_TRUE(context->wait_for_idle_passes(3));

  EXPECT_EQ(context->event_texts(), records_);
  EXPECT_EQ(context->metrics().dead_lettered_events.load(), 0u);
}

// Lines appended while the input was stopped are read once, with line numbers continuing from the checkpoint.
TEST_F(FileInputCheckpointTest, ResumesWithLineNumbers) {
  const std::filesystem::path alerts = watched("alerts.json");
  testing::write_file(alerts, join_lines({records_[0], records_[1]}));
  {
    auto context = start(settings(alerts.string()));
    ASSERT_TRUE(context->wait_for_events(2));
    context->acknowledge_all();
    context->stop();
  }
  testing::append_file(alerts, records_[2] + "\n");

  auto context = start(settings(alerts.string()));
  ASSERT_TRUE(context->wait_for_events(1));
  ASSERT_TRUE(context->wait_for_idle_passes(3));
  const std::vector<Event> events = context->events();
  ASSERT_EQ(events.size(), 1u);
  EXPECT_EQ(events[0].json, records_[2]);
  EXPECT_EQ(events[0].origin.line, 3u);
  EXPECT_EQ(events[0].origin.offset, records_[0].size() + records_[1].size() + 2);
}

// start_at: end skips the lines present at startup but not the line still
// being written, and files that appear later are read from their start.
TEST_F(FileInputCheckpointTest, StartAtEndSkipsExistingLines) {
  testing::write_file(watched("old.json"), join_lines({"{\"n\":1}", "{\"n\":2}"}) + "{\"n\":3");
  auto context = start(settings(watched("*.json").string(), "start_at: end\n"));
  ASSERT_TRUE(context->wait_for_idle_passes(2));
  EXPECT_TRUE(context->events().empty());

  testing::append_file(watched("old.json"), ",\"x\":1}\n{\"n\":4}\n");
  ASSERT_TRUE(context->wait_for_events(2));
  testing::write_file(watched("new.json"), join_lines({"{\"m\":1}", "{\"m\":2}"}));
  ASSERT_TRUE(context->wait_for_events(4));
  ASSERT_TRUE(context->wait_for_idle_passes(3));

  const std::vector<std::string> expected = {"{\"n\":3,\"x\":1}", "{\"n\":4}", "{\"m\":1}", "{\"m\":2}"};
  EXPECT_EQ(context->event_texts(), expected);
}

// A file with a checkpoint resumes from it even with start_at: end.
TEST_F(FileInputCheckpointTest, StartAtEndKeepsCheckpoint) {
  const std::filesystem::path alerts = watched("alerts.json");
  testing::write_file(alerts, join_lines({records_[0]}));
  {
    auto context = start(settings(alerts.string()));
    ASSERT_TRUE(context->wait_for_events(1));
    context->acknowledge_all();
    context->stop();
  }
  testing::append_file(alerts, join_lines({records_[1], records_[2]}));

  auto context = start(settings(alerts.string(), "start_at: end\n"));
  ASSERT_TRUE(context->wait_for_events(2));
  const std::vector<std::string> expected = {records_[1], records_[2]};
  EXPECT_EQ(context->event_texts(), expected);
}

// With exit_at_eof the input reads what is there and returns by itself; an
// unterminated last line is not read and is named in a warning.
TEST_F(FileInputCheckpointTest, ExitAtEofStopsAtEnd) {
  const std::filesystem::path alerts = watched("alerts.json");
  testing::write_file(alerts, join_lines({records_[0], records_[1]}) + "{\"unfinished\":");
  auto context = start(settings(alerts.string(), "exit_at_eof: true\n"));
  ASSERT_TRUE(context->wait_for_finish());

  const std::vector<std::string> expected = {records_[0], records_[1]};
  EXPECT_EQ(context->event_texts(), expected);
  EXPECT_FALSE(context->run_error().has_value());
  EXPECT_TRUE(context->log_contains(
      fmt::format("File ends without a newline; its last line is read once the newline is appended. path={}",
                  alerts.string())));
}

}  // namespace
}  // namespace slipway::inputs
