// Helpers for tests of the `sqlite` input: settings from inline YAML, a run
// to the end of a database, and a writer connection standing in for Slips.
#pragma once

#include <sqlite3.h>

#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include <gtest/gtest.h>
#include <yaml-cpp/yaml.h>

#include "config/errors.hpp"
#include "config/schema.hpp"
#include "engine/json.hpp"
#include "inputs/sqlite/sqlite_input.hpp"
#include "tests/support/fake_input_context.hpp"

namespace slipway::inputs::sqlite_testing {

inline constexpr const char* kContext = "input \"flows\" (sqlite)";

// Builds the input from YAML after the schema check the loader runs; the
// problems found are added to `errors`.
inline std::unique_ptr<Input> make_input(const std::string& yaml, config::Errors& errors) {
  const YAML::Node node = YAML::Load(yaml);
  config::check_against_schema(node, SqliteInputConfig::kSchema, kContext, "test.yaml", "", errors);
  return SqliteInput::create(config::Section(node, &SqliteInputConfig::kSchema, kContext, "test.yaml"), errors);
}

// Runs the input with exit_at_eof over `database` and returns what it
// emitted; every batch is acknowledged, so `checkpoints` ends at the last row.
inline std::vector<Event> read_to_end(const std::filesystem::path& database, const std::string& extra_yaml,
                                      const std::filesystem::path& work_dir,
                                      std::shared_ptr<slipway::testing::CheckpointMap> checkpoints =
                                          std::make_shared<slipway::testing::CheckpointMap>()) {
  config::Errors errors;
  auto input = make_input("path: " + database.string() + "\nexit_at_eof: true\n" + extra_yaml, errors);
  EXPECT_FALSE(errors.has_errors()) << errors.format();
  slipway::testing::FakeInputContext context(work_dir, std::move(checkpoints));
  context.set_auto_acknowledge(true);
  context.start(std::move(input));
  EXPECT_TRUE(context.wait_for_finish()) << "the input did not reach the end of " << database;
  EXPECT_EQ(context.run_error(), std::nullopt);
  return context.events();
}

// Runs `sql` on its own connection, as the writer would, waiting at most
// `busy_timeout_ms` for locks; returns SQLite's result code.
inline int execute(const std::filesystem::path& database, const std::string& sql, int busy_timeout_ms = 0) {
  sqlite3* handle = nullptr;
  int code = sqlite3_open(database.c_str(), &handle);
  if (code == SQLITE_OK) {
    sqlite3_busy_timeout(handle, busy_timeout_ms);
    char* message = nullptr;
    code = sqlite3_exec(handle, sql.c_str(), nullptr, nullptr, &message);
    if (message != nullptr) {
      ADD_FAILURE() << "SQLite: " << message << " in: " << sql;
      sqlite3_free(message);
    }
  }
  sqlite3_close(handle);
  return code;
}

// The string member `name` of an event, or "<absent>".
inline std::string member(const Event& event, const std::string& name) {
  json::ParseResult parsed = json::parse(event.json);
  const json::Value* value = parsed.value ? parsed.value->find(name) : nullptr;
  if (value == nullptr) {
    return "<absent>";
  }
  return value->is_string() ? value->as_string() : json::to_string(*value);
}

}  // namespace slipway::inputs::sqlite_testing
