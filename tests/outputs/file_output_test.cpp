#include "outputs/file_output.hpp"

#include <sys/stat.h>

#include <gtest/gtest.h>
#include <spdlog/sinks/null_sink.h>

#include "tests/support/temp_dir.hpp"

namespace slipway::outputs {
namespace {

using slipway::testing::read_file;
using slipway::testing::TempDir;

class FileOutputTest : public ::testing::Test {
 protected:
  std::unique_ptr<Output> make(const std::string& yaml) {
    const YAML::Node node = YAML::Load(yaml);
    config::Errors errors;
    config::check_against_schema(node, FileOutputConfig::kSchema, "output \"archive\" (file)", "test.yaml", "",
                                 errors);
    EXPECT_FALSE(errors.has_errors()) << errors.format();
    return FileOutput::create(config::Section(node, &FileOutputConfig::kSchema, "output \"archive\" (file)",
                                              "test.yaml"),
                              errors);
  }

  static BatchPtr batch_of(std::vector<std::string> records) {
    auto batch = std::make_shared<Batch>();
    for (std::string& record : records) {
      batch->events.push_back(Event{std::move(record), {}});
    }
    return batch;
  }

  TempDir dir_;
  OutputContext context_{ComponentKind::Output, "archive", "file",
                         std::make_shared<spdlog::logger>("test", std::make_shared<spdlog::sinks::null_sink_mt>()),
                         dir_.path(), nullptr};
};

// Records are appended one per line, the parent directory is created, and
// the file is readable by owner and group only.
TEST_F(FileOutputTest, AppendsJsonLinesWithPrivateMode) {
  const auto path = dir_ / "nested" / "out" / "alerts.json";
  auto output = make("path: " + path.string());
  output->start(context_);
  output->write(batch_of({R"({"ID":"a"})", R"({"ID":"b"})"}), context_);
  output->write(batch_of({R"({"ID":"c"})"}), context_);
  output->stop(context_);

  EXPECT_EQ(read_file(path), "{\"ID\":\"a\"}\n{\"ID\":\"b\"}\n{\"ID\":\"c\"}\n");
  struct stat status {};
  ASSERT_EQ(::stat(path.c_str(), &status), 0);
  EXPECT_EQ(status.st_mode & 0777, 0640u);
}

// An existing file is appended to, never truncated.
TEST_F(FileOutputTest, KeepsExistingContent) {
  const auto path = dir_ / "alerts.json";
  slipway::testing::write_file(path, "{\"ID\":\"old\"}\n");
  auto output = make("path: " + path.string());
  output->start(context_);
  output->write(batch_of({R"({"ID":"new"})"}), context_);
  output->stop(context_);
  EXPECT_EQ(read_file(path), "{\"ID\":\"old\"}\n{\"ID\":\"new\"}\n");
}

// A line cut by a process killed while writing is removed at start, so the
// batch written again does not continue it; whole lines stay.
TEST_F(FileOutputTest, RemovesCutLastLineAtStart) {
  const auto path = dir_ / "alerts.json";
  slipway::testing::write_file(path, "{\"ID\":\"old\"}\n{\"ID\":\"cu");
  auto output = make("path: " + path.string());

  output->start(context_);
  output->write(batch_of({R"({"ID":"cut"})"}), context_);
  output->stop(context_);

  EXPECT_EQ(read_file(path), "{\"ID\":\"old\"}\n{\"ID\":\"cut\"}\n");
}

// A file holding only a cut line becomes empty before the first write.
TEST_F(FileOutputTest, RemovesCutOnlyLineAtStart) {
  const auto path = dir_ / "alerts.json";
  slipway::testing::write_file(path, std::string(100000, 'x'));
  auto output = make("path: " + path.string());

  output->start(context_);
  output->stop(context_);

  EXPECT_EQ(read_file(path), "");
}

// A path that cannot be opened stops the start with a message naming it.
TEST_F(FileOutputTest, ReportsUnwritablePath) {
  slipway::testing::write_file(dir_ / "blocker", "");
  auto output = make("path: " + (dir_ / "blocker" / "alerts.json").string());
  try {
    output->start(context_);
    FAIL() << "start() accepted a path below a regular file";
  } catch (const std::runtime_error& error) {
    EXPECT_NE(std::string(error.what()).find("cannot open " + (dir_ / "blocker" / "alerts.json").string()),
              std::string::npos)
        << error.what();
  }
}

// alerts_log writes the line Slips writes for an evidence: time, time
// window, the source padded to 26 characters, description and threat level.
TEST_F(FileOutputTest, WritesAlertsLogLines) {
  const auto path = dir_ / "alerts.log";
  auto output = make("path: " + path.string() + "\nformat: alerts_log");
  output->start(context_);
  output->write(
      batch_of({R"({"Format":"IDEA0","ID":"x","DetectTime":"2023-04-06T19:06:26.757219Z",)"
                R"("EventTime":"2023-04-06T19:06:26.757219Z","Category":["Recon.Scanning"],)"
                R"("Description":"Horizontal port scan to port 8080/tcp.","Source":[{"IP4":["192.168.1.113"]}],)"
                R"("_Slips":{"TimeWindow":1,"ThreatLevel":"high"}})"}),
      context_);
  output->stop(context_);
  EXPECT_EQ(read_file(path),
            "2023-04-06T19:06:26.757219Z (TW 1): Src IP 192.168.1.113             . Detected Horizontal port scan to "
            "port 8080/tcp. Threat level: high. \n");
}

// A newline inside a value cannot split an alerts.log record into two lines.
TEST_F(FileOutputTest, AlertsLogKeepsOneLinePerRecord) {
  std::string line;
  append_alerts_log_line(R"({"ID":"x","DetectTime":"t","Description":"first\nsecond\r\nthird"})", line);
  EXPECT_EQ(line.find('\n'), std::string::npos) << line;
  EXPECT_EQ(line.find('\r'), std::string::npos) << line;
  EXPECT_NE(line.find("first second  third"), std::string::npos) << line;
}

}  // namespace
}  // namespace slipway::outputs
