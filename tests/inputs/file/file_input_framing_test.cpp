// Component tests of the file input around what a line is: partial
// writes, line endings, padding bytes, oversized and invalid lines, and
// how lines are grouped into batches.
#include <set>

#include "tests/inputs/file/file_input_fixture.hpp"

namespace slipway::inputs {
namespace {

using namespace std::string_literals;

// One IDEA alert line shaped like those of the very-long-line case.
std::string long_case_alert(int record, const std::string& description) {
  return fmt::format(
      R"({{"Format": "IDEA0", "ID": "00000007-0000-4000-8000-{:012d}", "DetectTime": )"
      R"("2024-04-09T10:00:{:02d}.000001+00:00", "Category": ["Recon.Scanning"], "Source": [{{"IP4": )"
      R"(["192.0.2.10"]}}], "Target": [{{"IP4": ["198.51.100.20"], "Port": [22], "Proto": ["tcp"]}}], )"
      R"("Description": "{}"}})",
      record, record, description);
}

using FileInputFramingTest = FileInputTest;

// Bytes without their LF are never emitted, neither as a record nor as a
// parse failure; each line goes out whole once its LF arrives.
TEST_F(FileInputFramingTest, PartialLastLineWaitsForNewline) {
  const std::string base = "cases/005-partial-last-line/";
  const std::filesystem::path step1 = testing::shared_path(base + "step1-record1.jsonl");
  if (step1.empty()) {
    GTEST_SKIP() << "the shared cases folder is absent, so case 005 cannot run";
  }
  const auto step = [&](const std::string& name) { return testing::read_file(testing::shared_path(base + name)); };
  const std::filesystem::path alerts = watched("alerts.json");
  testing::write_file(alerts, "");
  auto context = start(settings(alerts.string()));
  ASSERT_TRUE(context->wait_for_idle_passes(1));

  testing::append_file(alerts, step("step1-record1.jsonl"));
  ASSERT_TRUE(context->wait_for_events(1));

  testing::append_file(alerts, step("step2-record2-head.bin"));
  ASSERT_TRUE(context->wait_for_idle_passes(3));
  EXPECT_EQ(context->events().size(), 1u) << "a record was emitted from 100 bytes without LF";

  testing::append_file(alerts, step("step3-record2-tail.bin"));
  ASSERT_TRUE(context->wait_for_events(2));

  testing::append_file(alerts, step("step4-record3-no-newline.bin"));
  ASSERT_TRUE(context->wait_for_idle_passes(3));
  EXPECT_EQ(context->events().size(), 2u) << "record 3 was emitted before its LF";

  testing::append_file(alerts, step("step5-newline.bin"));
  ASSERT_TRUE(context->wait_for_events(3));
  ASSERT_TRUE(context->wait_for_idle_passes(3));

  const std::vector<std::string> expected =
      split_lines(step("step1-record1.jsonl") + step("step2-record2-head.bin") + step("step3-record2-tail.bin") +
                  step("step4-record3-no-newline.bin") + step("step5-newline.bin"));
  EXPECT_EQ(context->event_texts(), expected);
  EXPECT_EQ(context->metrics().dead_lettered_events.load(), 0u);
}

// A 2 MiB line over a 1 MiB limit is dropped whole, counted, dead-lettered
// and logged with its offset and length. The 64 KiB line arrives whole, and
// tailing continues without reading the file again.
TEST_F(FileInputFramingTest, OversizedLineIsDroppedWhole) {
  const std::vector<std::string> lines = {
      long_case_alert(1, "case 007 record 1"),
      long_case_alert(2, "case 007 record 2 " + std::string(2 * 1024 * 1024, 'A')),
      long_case_alert(3, "case 007 record 3"),
      long_case_alert(4, "case 007 record 4 " + std::string(64 * 1024, 'B')),
      long_case_alert(5, "case 007 record 5"),
  };
  const std::string record6 = long_case_alert(6, "case 007 record 6");
  const std::filesystem::path alerts = watched("alerts.json");
  testing::write_file(alerts, "");
  auto context = start(settings(alerts.string(), "max_line_bytes: 1048576\n"));
  ASSERT_TRUE(context->wait_for_idle_passes(1));

  testing::append_file(alerts, join_lines(lines));
  ASSERT_TRUE(context->wait_for_events(4));
  testing::append_file(alerts, record6 + "\n");
  ASSERT_TRUE(context->wait_for_events(5));
  ASSERT_TRUE(context->wait_for_idle_passes(3));

  const std::vector<std::string> expected = {lines[0], lines[2], lines[3], lines[4], record6};
  EXPECT_EQ(context->event_texts(), expected);
  EXPECT_EQ(context->metrics().dropped_events.load(), 1u);
  EXPECT_EQ(context->metrics().dead_lettered_events.load(), 1u);

  const std::uint64_t offset = lines[0].size() + 1;
  const std::vector<std::string> letters = dead_letters();
  ASSERT_EQ(letters.size(), 1u);
  EXPECT_NE(letters[0].find(fmt::format("line of {} bytes is longer than max_line_bytes (1048576)", lines[1].size())),
            std::string::npos)
      << letters[0].substr(0, 400);
  EXPECT_NE(letters[0].find(fmt::format("\"line\":2,\"offset\":{}", offset)), std::string::npos);
  EXPECT_TRUE(context->log_contains(fmt::format("Line dropped: longer than max_line_bytes. path={} offset={} line=2 "
                                                "length={}",
                                                alerts.string(), offset, lines[1].size())));
}

// CR LF endings lose their CR, blank lines give nothing, JSON escapes of CR
// and LF inside values stay, and the checkpoint reaches the end of the file.
TEST_F(FileInputFramingTest, CrLfLinesAreReadWithoutCr) {
  const std::filesystem::path source = testing::shared_path("cases/008-crlf-line-endings/alerts.json");
  if (source.empty()) {
    GTEST_SKIP() << "the shared cases folder is absent, so case 008 cannot run";
  }
  const std::filesystem::path alerts = watched("alerts.json");
  std::filesystem::copy_file(source, alerts);
  auto context = start(settings(alerts.string(), "exit_at_eof: true\n"));
  ASSERT_TRUE(context->wait_for_finish());

  std::vector<std::string> expected;
  for (std::string line : split_lines(testing::read_file(alerts))) {
    line.pop_back();  // the CR
    if (line.find_first_not_of(' ') != std::string::npos) {
      expected.push_back(line);
    }
  }
  ASSERT_EQ(expected.size(), 3u);
  const std::vector<std::string> texts = context->event_texts();
  EXPECT_EQ(texts, expected);
  for (const std::string& text : texts) {
    EXPECT_EQ(text.find('\r'), std::string::npos);
  }
  ASSERT_EQ(texts.size(), 3u);
  EXPECT_NE(texts[1].find(R"(first\r\nsecond)"), std::string::npos);
  EXPECT_EQ(context->metrics().dead_lettered_events.load(), 0u);

  context->acknowledge_all();
  const auto committed = checkpoints_->entries();
  ASSERT_EQ(committed.size(), 1u);
  EXPECT_EQ(committed.begin()->second, fmt::format("{}:5", std::filesystem::file_size(alerts)));
}

// Runs of NUL bytes, as a crash or preallocation leaves them, are skipped
// and the records around them are read intact.
TEST_F(FileInputFramingTest, NulRunsAreSkipped) {
  const std::filesystem::path alerts = watched("alerts.json");
  testing::write_file(alerts, "{\"n\":1}\n"s + std::string(4096, '\0') + "{\"n\":2}\n" + std::string(10, '\0') +
                                  "\n{\"n\":3}\0\0\n"s);
  auto context = start(settings(alerts.string(), "exit_at_eof: true\n"));
  ASSERT_TRUE(context->wait_for_finish());

  const std::vector<std::string> expected = {"{\"n\":1}", "{\"n\":2}", "{\"n\":3}"};
  EXPECT_EQ(context->event_texts(), expected);
  EXPECT_EQ(context->metrics().dead_lettered_events.load(), 0u);
}

// A UTF-8 byte order mark at the start of the file is not part of the first record.
TEST_F(FileInputFramingTest, LeadingBomIsSkipped) {
  const std::filesystem::path alerts = watched("alerts.json");
  testing::write_file(alerts, "\xEF\xBB\xBF{\"n\":1}\n{\"n\":2}\n");
  auto context = start(settings(alerts.string(), "exit_at_eof: true\n"));
  ASSERT_TRUE(context->wait_for_finish());

  const std::vector<Event> events = context->events();
  ASSERT_EQ(events.size(), 2u);
  EXPECT_EQ(events[0].json, "{\"n\":1}");
  EXPECT_EQ(events[0].origin.offset, 3u);
  EXPECT_EQ(events[0].origin.line, 1u);
  EXPECT_EQ(events[1].json, "{\"n\":2}");
}

// Lines the decoder rejects go to the dead-letter file with their reason
// and origin; every line read is counted, every valid one emitted.
TEST_F(FileInputFramingTest, RejectedLinesAreDeadLettered) {
  const std::filesystem::path alerts = watched("alerts.json");
  testing::write_file(alerts, "{\"n\":1}\n[1,2]\n{\"broken\n{\"n\":2}\n");
  auto context = start(settings(alerts.string(), "exit_at_eof: true\n"));
  ASSERT_TRUE(context->wait_for_finish());

  const std::vector<std::string> expected = {"{\"n\":1}", "{\"n\":2}"};
  EXPECT_EQ(context->event_texts(), expected);
  EXPECT_EQ(context->metrics().received_events.load(), 4u);
  EXPECT_EQ(context->metrics().sent_events.load(), 2u);
  EXPECT_EQ(context->metrics().dead_lettered_events.load(), 2u);

  const std::vector<std::string> letters = dead_letters();
  ASSERT_EQ(letters.size(), 2u);
  EXPECT_NE(letters[0].find("top-level value is an array"), std::string::npos) << letters[0];
  EXPECT_NE(letters[0].find("\"line\":2,\"offset\":8"), std::string::npos) << letters[0];
  EXPECT_NE(letters[1].find("\"line\":3,\"offset\":14"), std::string::npos) << letters[1];
}

// A batch contains lines of one file only and never more than batch_max_events.
TEST_F(FileInputFramingTest, BatchesHoldOneFileUpToLimit) {
  testing::write_file(watched("a.json"), join_lines({"{\"a\":1}", "{\"a\":2}", "{\"a\":3}", "{\"a\":4}", "{\"a\":5}"}));
  testing::write_file(watched("b.json"), join_lines({"{\"b\":1}", "{\"b\":2}", "{\"b\":3}"}));
  auto context = start(settings(watched("*.json").string(), "exit_at_eof: true\nbatch_max_events: 2\n"));
  ASSERT_TRUE(context->wait_for_finish());

  const auto batches = context->batches();
  std::size_t total = 0;
  for (const std::vector<Event>& batch : batches) {
    ASSERT_FALSE(batch.empty());
    EXPECT_LE(batch.size(), 2u);
    std::set<std::string> sources;
    for (const Event& event : batch) {
      sources.insert(*event.origin.source);
    }
    EXPECT_EQ(sources.size(), 1u);
    total += batch.size();
  }
  EXPECT_EQ(total, 8u);
}

}  // namespace
}  // namespace slipway::inputs
