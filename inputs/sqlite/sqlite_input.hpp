// The `sqlite` input: reads the flows Slips stores in flows.sqlite (tables
// `flows` and `altflows`, or the rows of a user query) in rowid order while
// Slips keeps writing, and resumes after a restart from the last rowid
// every output delivered. Each row becomes one event: the members of its
// `flow` JSON plus its other columns. Rows are delivered at least once. An
// event's origin names the database and table, with the rowid as its line.
#pragma once

#include <chrono>
#include <cstddef>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "config/errors.hpp"
#include "config/schema.hpp"
#include "engine/component.hpp"

namespace slipway::inputs {

struct SqliteInputConfig {
  std::filesystem::path path;
  std::vector<std::string> tables = {"flows", "altflows"};
  std::string query;            // replaces `tables` when set
  std::string flow_text_field;  // empty: the flow column's text is not kept
  std::chrono::milliseconds poll_interval{1000};
  std::chrono::milliseconds busy_timeout{1000};
  std::size_t batch_max_events = 1024;
  bool exit_at_eof = false;

  static const config::Schema kSchema;
  // Reads settings the schema has checked; adds errors for what the schema cannot check.
  static SqliteInputConfig parse(const config::Section& settings, config::Errors& errors);
};

class SqliteInput final : public Input {
 public:
  explicit SqliteInput(SqliteInputConfig config) : config_(std::move(config)) {}

  static std::unique_ptr<Input> create(const config::Section& settings, config::Errors& errors);

  // Polls the database until a stop is requested or, with exit_at_eof,
  // until every source is read to its end. Returns early when the query
  // is invalid, after logging why.
  void run(InputContext& context) override;

 private:
  SqliteInputConfig config_;
};

}  // namespace slipway::inputs
