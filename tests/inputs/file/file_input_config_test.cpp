// Configuration errors of the file input, with their exact wording.
#include "tests/inputs/file/file_input_fixture.hpp"

namespace slipway::inputs {
namespace {

class FileInputConfigTest : public FileInputTest {
 protected:
  std::vector<std::string> errors_for(const std::string& yaml) {
    config::Errors errors;
    EXPECT_EQ(build(yaml, errors), nullptr);
    std::vector<std::string> messages;
    for (const config::Problem& problem : errors.problems()) {
      messages.push_back(problem.format());
    }
    return messages;
  }
};

// Without `paths` the input cannot start, and the error names the key and its purpose.
TEST_F(FileInputConfigTest, RejectsMissingPaths) {
  const std::vector<std::string> expected = {
      "pipeline.yaml:1:1: input \"alerts\" (file): missing required key \"paths\" (Files to read: paths or glob "
      "patterns (*, ?, [...]), matched again every poll_interval_ms)"};
  EXPECT_EQ(errors_for("start_at: end\n"), expected);
}

// A line limit of 0 bytes would drop every line, so it is rejected with the accepted range.
TEST_F(FileInputConfigTest, RejectsZeroMaxLineBytes) {
  const std::vector<std::string> expected = {
      "pipeline.yaml:2:17: input \"alerts\" (file): key \"max_line_bytes\": expected an integer from 1 to 67108864, "
      "got \"0\""};
  EXPECT_EQ(errors_for("paths: [/var/log/slips/alerts.json]\nmax_line_bytes: 0\n"), expected);
}

// An empty list of paths would leave the input idle forever, so it is rejected.
TEST_F(FileInputConfigTest, RejectsEmptyPathList) {
  const std::vector<std::string> expected = {
      "pipeline.yaml:1:8: input \"alerts\" (file): key \"paths\": expected at least one path or glob pattern, got an "
      "empty list"};
  EXPECT_EQ(errors_for("paths: []\n"), expected);
}

// A value outside the choices of start_at gets the accepted values and the closest one.
TEST_F(FileInputConfigTest, RejectsUnknownStartAt) {
  const std::vector<std::string> expected = {
      "pipeline.yaml:2:11: input \"alerts\" (file): key \"start_at\": invalid value \"ends\"; expected one of: "
      "beginning, end (did you mean \"end\"?)"};
  EXPECT_EQ(errors_for("paths: [/var/log/slips/alerts.json]\nstart_at: ends\n"), expected);
}

// A single path may be written as a string instead of a list.
TEST_F(FileInputConfigTest, AcceptsSinglePathString) {
  config::Errors errors;
  EXPECT_NE(build("paths: /var/log/slips/alerts.json\n", errors), nullptr);
  EXPECT_FALSE(errors.has_errors()) << errors.format();
}

}  // namespace
}  // namespace slipway::inputs
