// Component tests of the file input with `codec: zeek`: Zeek TSV and JSON
// logs as events, bad rows as dead letters, and the header recovered when a
// run resumes in the middle of a file.
#include "tests/inputs/file/file_input_fixture.hpp"

namespace slipway::inputs {
namespace {

const std::string kHeader =
    "#separator \\x09\n#set_separator\t,\n#empty_field\t(empty)\n#unset_field\t-\n#path\tconn\n"
    "#open\t2024-08-16-09-45-01\n#fields\tts\tuid\tid.orig_h\tid.orig_p\tid.resp_h\tid.resp_p\tproto\tlabel\n"
    "#types\ttime\tstring\taddr\tport\taddr\tport\tenum\tstring\n";

std::string row(int number) {
  return fmt::format("1677024003.{:06}\tC{}\t192.168.1.107\t{}\t66.63.168.35\t5888\ttcp\tMalicious\n", number, number,
                     1000 + number);
}

std::string event(int number) {
  return fmt::format(R"({{"ts":1677024003.{:06},"uid":"C{}","id.orig_h":"192.168.1.107","id.orig_p":{},)"
                     R"("id.resp_h":"66.63.168.35","id.resp_p":5888,"proto":"tcp","label":"Malicious"}})",
                     number, number, 1000 + number);
}

class FileInputZeekTest : public FileInputTest {
 protected:
  std::string zeek_settings(const std::filesystem::path& path, const std::string& extra = "") const {
    return settings(path.string(), "codec: zeek\n" + extra);
  }
};

// Each row of a Zeek TSV log is one event keyed by the #fields names; the
// header lines make no event.
TEST_F(FileInputZeekTest, ReadsTsvRowsAsEvents) {
  const std::filesystem::path log = watched("conn.log");
  testing::write_file(log, kHeader + row(1) + row(2));
  auto context = start(zeek_settings(log));
  ASSERT_TRUE(context->wait_for_events(2));
  ASSERT_TRUE(context->wait_for_idle_passes(2));

  EXPECT_EQ(context->event_texts(), (std::vector<std::string>{event(1), event(2)}));
  EXPECT_EQ(context->metrics().received_events.load(), 2u);
  const std::vector<Event> events = context->events();
  EXPECT_EQ(events[0].origin.line, 9u);
  EXPECT_EQ(events[0].origin.offset, kHeader.size());
}

// Zeek JSON logs pass through as they are, in the same input.
TEST_F(FileInputZeekTest, ReadsJsonLogLines) {
  const std::filesystem::path log = watched("conn.json");
  const std::string line = R"({"ts":1677024003.714845,"uid":"C1","id.orig_h":"192.168.1.107","id.orig_p":65164})";
  testing::write_file(log, line + "\n");
  auto context = start(zeek_settings(log));
  ASSERT_TRUE(context->wait_for_events(1));
  EXPECT_EQ(context->event_texts(), std::vector<std::string>{line});
}

// A row with the wrong number of values goes to the dead-letter file with
// its origin and the reason; the rows around it are delivered.
TEST_F(FileInputZeekTest, DeadLettersRowWithWrongColumnCount) {
  const std::filesystem::path log = watched("conn.log");
  const std::string bad = "1677024003.5\tCbad\t192.168.1.107\t1000";
  testing::write_file(log, kHeader + row(1) + bad + "\n" + row(2));
  auto context = start(zeek_settings(log));
  ASSERT_TRUE(context->wait_for_events(2));
  ASSERT_TRUE(context->wait_for_idle_passes(2));

  EXPECT_EQ(context->event_texts(), (std::vector<std::string>{event(1), event(2)}));
  EXPECT_EQ(context->metrics().dead_lettered_events.load(), 1u);
  EXPECT_EQ(context->metrics().received_events.load(), 3u);
  const std::vector<std::string> letters = dead_letters();
  ASSERT_EQ(letters.size(), 1u);
  const std::uint64_t fields_offset = kHeader.find("#fields");
  EXPECT_NE(letters[0].find(fmt::format("row has 4 values, but the #fields line at offset {} names 8 columns",
                                        fields_offset)),
            std::string::npos)
      << letters[0];
  EXPECT_NE(letters[0].find(fmt::format("\"line\":10,\"offset\":{}", kHeader.size() + row(1).size())),
            std::string::npos)
      << letters[0];
  EXPECT_TRUE(context->log_contains("Line dead-lettered: not a Zeek log row matching its header."));
}

// A new header block appended while the file is tailed applies to the rows after it.
TEST_F(FileInputZeekTest, FollowsHeaderChangeWhileTailing) {
  const std::filesystem::path log = watched("conn.log");
  testing::write_file(log, kHeader + row(1));
  auto context = start(zeek_settings(log));
  ASSERT_TRUE(context->wait_for_events(1));

  testing::append_file(log, "#close\t2024-08-16-10-00-00\n#separator \\x09\n#fields\tuid\tcount\n#types\tstring\tcount\n"
                            "C9\t42\n");
  ASSERT_TRUE(context->wait_for_events(2));
  EXPECT_EQ(context->event_texts(), (std::vector<std::string>{event(1), R"({"uid":"C9","count":42})"}));
}

// After a restart from a checkpoint in the middle of the file, rows are
// decoded with the header written at the file's start, and none is repeated.
TEST_F(FileInputZeekTest, RecoversHeaderAfterRestart) {
  const std::filesystem::path log = watched("conn.log");
  std::string rows;
  for (int number = 1; number <= 40; ++number) {
    rows += row(number);
  }
  testing::write_file(log, kHeader + rows);
  {
    auto context = start(zeek_settings(log));
    ASSERT_TRUE(context->wait_for_events(40));
    context->acknowledge_all();
    context->stop();
  }

  testing::append_file(log, row(41) + row(42));
  auto context = start(zeek_settings(log));
  ASSERT_TRUE(context->wait_for_events(2));
  ASSERT_TRUE(context->wait_for_idle_passes(2));
  EXPECT_EQ(context->event_texts(), (std::vector<std::string>{event(41), event(42)}));
  EXPECT_EQ(context->metrics().dead_lettered_events.load(), 0u);
}

// A restart after a second header block resumes with that block's columns.
TEST_F(FileInputZeekTest, RecoversLatestHeaderAfterRestart) {
  const std::filesystem::path log = watched("conn.log");
  std::string text = kHeader;
  for (int number = 1; number <= 20; ++number) {
    text += row(number);
  }
  text += "#close\t2024-08-16-10-00-00\n#separator \\x09\n#fields\tuid\tcount\n#types\tstring\tcount\nC9\t42\n";
  testing::write_file(log, text);
  {
    auto context = start(zeek_settings(log));
    ASSERT_TRUE(context->wait_for_events(21));
    context->acknowledge_all();
    context->stop();
  }

  testing::append_file(log, "C10\t43\n");
  auto context = start(zeek_settings(log));
  ASSERT_TRUE(context->wait_for_events(1));
  ASSERT_TRUE(context->wait_for_idle_passes(2));
  EXPECT_EQ(context->event_texts(), std::vector<std::string>{R"({"uid":"C10","count":43})"});
}

// When Zeek rotates a log, the new file starts with its own header, which
// applies to its rows only; the renamed file keeps its old header.
TEST_F(FileInputZeekTest, ReadsHeaderOfRotatedFile) {
  const std::filesystem::path log = watched("conn.log");
  testing::write_file(log, kHeader + row(1));
  auto context = start(zeek_settings(watched("conn*.log")));
  ASSERT_TRUE(context->wait_for_events(1));

  std::filesystem::rename(log, watched("conn.2024-08-16-09-45-01.log"));
  testing::append_file(watched("conn.2024-08-16-09-45-01.log"), row(2));
  testing::write_file(log, "#separator \\x09\n#open\t2024-08-16-10-00-00\n#fields\tuid\tcount\n"
                           "#types\tstring\tcount\nC9\t42\n");
  ASSERT_TRUE(context->wait_for_events(3));
  ASSERT_TRUE(context->wait_for_idle_passes(2));

  std::vector<std::string> texts = context->event_texts();
  std::sort(texts.begin(), texts.end());
  std::vector<std::string> expected = {event(1), event(2), R"({"uid":"C9","count":42})"};
  std::sort(expected.begin(), expected.end());
  EXPECT_EQ(texts, expected);
  EXPECT_EQ(context->metrics().dead_lettered_events.load(), 0u);
}

// start_at: end skips the rows present at startup but still reads the
// header, so rows appended later are decoded.
TEST_F(FileInputZeekTest, RecoversHeaderWhenStartingAtEnd) {
  const std::filesystem::path log = watched("conn.log");
  testing::write_file(log, kHeader + row(1));
  auto context = start(zeek_settings(log, "start_at: end\n"));
  ASSERT_TRUE(context->wait_for_idle_passes(2));
  testing::append_file(log, row(2));
  ASSERT_TRUE(context->wait_for_events(1));
  EXPECT_EQ(context->event_texts(), std::vector<std::string>{event(2)});
}

// zeek_unset_as_null only makes sense for Zeek logs.
TEST_F(FileInputZeekTest, RejectsUnsetFieldsWithoutZeekCodec) {
  config::Errors errors;
  build("paths: [\"/tmp/x.log\"]\nzeek_unset_as_null: true\n", errors);
  EXPECT_EQ(errors.format(),
            "pipeline.yaml:2:21: input \"alerts\" (file): key \"zeek_unset_as_null\": applies only to Zeek TSV logs; "
            "add \"codec: zeek\" or remove the key\n");
}

}  // namespace
}  // namespace slipway::inputs
