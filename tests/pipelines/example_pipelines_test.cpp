// Every example pipeline under pipelines/ is one `slipway validate` accepts,
// with the environment variables the examples document set to test values.
#include <map>

#include <gtest/gtest.h>

#include "tests/support/process.hpp"
#include "tests/support/temp_dir.hpp"

namespace slipway::testing {
namespace {

TEST(ExamplePipelinesTest, EveryExampleValidates) {
  TempDir dir;
  write_file(dir / "secret", "test-secret\n");
  write_file(dir / "warden.conf",
             R"({"url": "https://warden.example.com/warden3", "certfile": "cert.pem", "keyfile": "key.pem",)"
             R"( "name": "com.example.warden.test"})");
  const std::map<std::string, std::string> environment = {
      {"SLIPS_OUTPUT", dir.path().string()},
      {"SLIPS_FLOWS_DB", (dir / "flows.sqlite").string()},
      {"SLIPWAY_DATA_DIR", (dir / "var").string()},
      {"SLIPWAY_EXPORT_DIR", (dir / "export").string()},
      {"COLLECTOR_URL", "https://127.0.0.1:9/alerts"},
      {"COLLECTOR_USER", "slipway"},
      {"COLLECTOR_PASSWORD_FILE", (dir / "secret").string()},
      {"WARDEN_CONF", (dir / "warden.conf").string()},
      {"TAXII_URL", "https://127.0.0.1:9/taxii2/"},
      {"ZEEK_CONN_LOG", (dir / "conn.log").string()},
      {"TAXII_PASSWORD_FILE", (dir / "secret").string()},
  };

  std::size_t examples = 0;
  for (const auto& entry : std::filesystem::directory_iterator(std::filesystem::path(SLIPWAY_SOURCE_DIR) / "pipelines")) {
    if (entry.path().extension() != ".yaml") {
      continue;
    }
    ++examples;
    const int exit_code =
        run_slipway({"validate", entry.path().string()}, dir / "stdout", dir / "stderr", environment);
    EXPECT_EQ(exit_code, 0) << entry.path().filename() << ":\n" << read_file(dir / "stderr");
  }
  EXPECT_GE(examples, 6u);
}

}  // namespace
}  // namespace slipway::testing
