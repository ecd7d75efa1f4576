// Shared setup of the `redis` input tests: a real redis-server per test,
// an input built from inline YAML, and small helpers to put data in.
#pragma once

#include <memory>
#include <optional>
#include <string>

#include <fmt/format.h>
#include <gtest/gtest.h>
#include <hiredis/hiredis.h>
#include <yaml-cpp/yaml.h>

#include "config/schema.hpp"
#include "inputs/redis/redis_input.hpp"
#include "tests/support/fake_input_context.hpp"
#include "tests/support/redis_server.hpp"
#include "tests/support/temp_dir.hpp"

namespace slipway::inputs {

class RedisInputTest : public ::testing::Test {
 public:
  static std::unique_ptr<Input> make_input(const std::string& yaml, config::Errors& errors) {
    const YAML::Node node = YAML::Load(yaml);
    const std::string context = "input \"events\" (redis)";
    config::check_against_schema(node, RedisInputConfig::kSchema, context, "test.yaml", "", errors);
    if (errors.has_errors()) {
      return nullptr;
    }
    return RedisInput::create(config::Section(node, &RedisInputConfig::kSchema, context, "test.yaml"), errors);
  }

  // The errors of `yaml` as "FILE:LINE:COL: message" lines.
  static std::string config_errors(const std::string& yaml) {
    config::Errors errors;
    make_input(yaml, errors);
    return errors.format();
  }

 protected:
  void SetUp() override {
    if (slipway::testing::RedisServer::binary().empty()) {
      GTEST_SKIP() << slipway::testing::RedisServer::missing_message();
    }
    server_ = std::make_unique<slipway::testing::RedisServer>();
  }

  // Builds an input on this test's server from YAML without the url.
  std::unique_ptr<Input> input(const std::string& yaml) {
    config::Errors errors;
    auto built = make_input(
        fmt::format("url: {}\nreconnect_initial_ms: 20\nreconnect_max_ms: 200\n{}", server_->url(), yaml), errors);
    EXPECT_FALSE(errors.has_errors()) << errors.format();
    return built;
  }

  std::unique_ptr<slipway::testing::FakeInputContext> context() {
    return std::make_unique<slipway::testing::FakeInputContext>(dir_.path(),
                                                                std::make_shared<slipway::testing::CheckpointMap>());
  }

  long long integer(const std::vector<std::string_view>& command) { return server_->command(command).integer(); }

  // Number of entries pending in `group` of `stream`.
  long long pending(const std::string& stream, const std::string& group) {
    const redis::Reply reply = server_->command({"XPENDING", stream, group});
    if (!reply.is_array() || reply.get()->elements == 0) {
      return -1;
    }
    return reply.get()->element[0]->integer;
  }

  slipway::testing::TempDir dir_;
  std::unique_ptr<slipway::testing::RedisServer> server_;
};

}  // namespace slipway::inputs
