// The example pipelines that post to Slack and share with Warden pass
// `slipway validate` as shipped, with only their environment filled in.
#include <fmt/format.h>
#include <gtest/gtest.h>

#include "tests/support/process.hpp"
#include "tests/support/temp_dir.hpp"

namespace slipway::testing {
namespace {

class NotificationPipelinesTest : public ::testing::Test {
 protected:
  int validate(std::string_view pipeline, const std::map<std::string, std::string>& environment) {
    const std::filesystem::path path = std::filesystem::path(SLIPWAY_SOURCE_DIR) / "pipelines" / pipeline;
    return run_slipway({"validate", path.string()}, dir_ / "stdout.txt", dir_ / "stderr.txt", environment);
  }

  std::string messages() const { return read_file(dir_ / "stdout.txt") + read_file(dir_ / "stderr.txt"); }

  TempDir dir_;
};

TEST_F(NotificationPipelinesTest, SlackExampleValidates) {
  const int code = validate("slips-to-slack.yaml", {{"SLIPS_OUTPUT", dir_.path().string()},
                                                    {"SLIPWAY_DATA_DIR", (dir_ / "data").string()}});
  EXPECT_EQ(code, 0) << messages();
  EXPECT_NE(messages().find("valid (1 inputs, 1 filters, 1 outputs)"), std::string::npos) << messages();
}

// The Warden example reads its connection from a Slips warden.conf, which
// may hold comment lines.
TEST_F(NotificationPipelinesTest, WardenExampleValidatesWithSlipsWardenConf) {
  write_file(dir_ / "warden.conf", R"(# Slips' sample, trimmed
{
    "url": "https://warden-hub.example.com/warden3",
    // relative to this file
    "certfile": "cert.pem",
    "keyfile": "key.pem",
    "cafile": "/etc/ssl/certs/ca-certificates.crt",
    "timeout": 600,
    "name": "com.example.warden.test"
}
)");
  const int code = validate("slips-to-warden.yaml", {{"SLIPS_OUTPUT", dir_.path().string()},
                                                     {"SLIPWAY_DATA_DIR", (dir_ / "data").string()},
                                                     {"WARDEN_CONF", (dir_ / "warden.conf").string()}});
  EXPECT_EQ(code, 0) << messages();
}

// A warden.conf that is not JSON is reported with the file and the place.
TEST_F(NotificationPipelinesTest, WardenExampleReportsBrokenWardenConf) {
  write_file(dir_ / "warden.conf", "{ \"url\": \"https://x.example/warden3\",\n  \"name\": \n");
  const int code = validate("slips-to-warden.yaml", {{"SLIPS_OUTPUT", dir_.path().string()},
                                                     {"SLIPWAY_DATA_DIR", (dir_ / "data").string()},
                                                     {"WARDEN_CONF", (dir_ / "warden.conf").string()}});
  EXPECT_EQ(code, 78);
  EXPECT_NE(messages().find("output \"warden\" (warden): key \"warden_conf\": " + (dir_ / "warden.conf").string() +
                            " is not a JSON object"),
            std::string::npos)
      << messages();
}

}  // namespace
}  // namespace slipway::testing
