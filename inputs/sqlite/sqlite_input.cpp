#include "inputs/sqlite/sqlite_input.hpp"

#include <algorithm>
#include <charconv>
#include <map>
#include <optional>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "engine/json.hpp"
#include "engine/registry.hpp"
#include "inputs/sqlite/row_reader.hpp"

namespace slipway::inputs {

namespace {

using sqlite::ColumnValue;
using sqlite::ReadStatus;
using sqlite::Row;

constexpr std::int64_t kMaxIntervalMs = 60 * 60 * 1000;
constexpr std::int64_t kMaxBatchEvents = 64 * 1024;
constexpr std::string_view kFlowColumn = "flow";
// At most one warning per source about a locked or failing database in
// this interval. The next one reports how many were left out.
constexpr std::chrono::seconds kProblemLogInterval{10};

struct SourceState {
  explicit SourceState(sqlite::RowSource row_source) : source(std::move(row_source)) {}

  sqlite::RowSource source;
  std::string checkpoint_key;
  std::shared_ptr<const std::string> origin;  // names the database and table in dead letters
  std::int64_t last_rowid = 0;                // of the last row emitted
  std::uint64_t rows_read = 0;
  bool started = false;        // prepared on the open database, position checked
  bool reported_missing = false;
  std::chrono::steady_clock::time_point last_problem_log{};
  std::uint64_t suppressed_problems = 0;
};

json::Value column_json(const ColumnValue& value) {
  switch (value.type) {
    case ColumnValue::Type::Integer:
      return json::Value::number(value.integer);
    case ColumnValue::Type::Real:
      return json::Value::number(value.real);
    case ColumnValue::Type::Text:
    case ColumnValue::Type::Blob:
      return json::Value::string(value.text);
    case ColumnValue::Type::Null:
      break;
  }
  return json::Value();
}

// Builds the event of `row`: the members of its flow JSON, then its other
// columns, which win over flow members of the same name. Returns false
// with `reason` set when the flow column contains text that is not a JSON object.
bool build_event(const Row& row, const std::vector<std::string>& names, const std::string& flow_text_field,
                 std::string& out, std::string& reason) {
  json::Value event = json::Value::object();
  const ColumnValue* flow_text = nullptr;
  for (std::size_t column_idx = 0; column_idx < names.size(); ++column_idx) {
    const ColumnValue& value = row.values[column_idx];
    if (names[column_idx] != kFlowColumn || value.type != ColumnValue::Type::Text) {
      continue;
    }
    flow_text = &value;
    json::ParseResult parsed = json::parse(value.text);
    if (!parsed.value || !parsed.value->is_object()) {
      reason = parsed.value ? "the flow column holds JSON that is not an object"
                            : fmt::format("the flow column is not valid JSON: {} at byte {}", parsed.error,
                                          parsed.error_offset);
      return false;
    }
    event = std::move(*parsed.value);
  }

  for (std::size_t column_idx = 0; column_idx < names.size(); ++column_idx) {
    if (&row.values[column_idx] != flow_text) {
      event.set(names[column_idx], column_json(row.values[column_idx]));
    }
  }
  if (!flow_text_field.empty() && flow_text != nullptr) {
    event.set(flow_text_field, json::Value::string(flow_text->text));
  }
  out.clear();
  json::write(event, out);
  return true;
}

std::optional<std::int64_t> parse_rowid(const std::string& text) {
  std::int64_t rowid = 0;
  const auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), rowid);
  if (text.empty() || error != std::errc() || end != text.data() + text.size() || rowid < 0) {
    return std::nullopt;
  }
  return rowid;
}

// One run of the input: the open database and the position of each source.
class SqliteReader {
 public:
  SqliteReader(const SqliteInputConfig& config, InputContext& context);

  void run();

 private:
  struct Pass {
    bool progress = false;  // some rows were read
    bool complete = true;   // every source was read to its end
    bool fatal = false;     // the input cannot go on
  };

  bool open_database();
  void close_database();
  Pass read_pass();
  void read_source(SourceState& state, Pass& pass);
  bool start_source(SourceState& state, Pass& pass);
  void emit_rows(SourceState& state, const std::vector<Row>& rows);
  void report_problem(SourceState& state, ReadStatus status, const std::string& error);

  const SqliteInputConfig& config_;
  InputContext& context_;
  std::unique_ptr<sqlite::Database> database_;
  std::vector<SourceState> sources_;
  std::vector<Row> rows_;
  std::string open_error_;  // why the database could not be opened, for logs
  bool reported_missing_file_ = false;
};

SqliteReader::SqliteReader(const SqliteInputConfig& config, InputContext& context)
    : config_(config), context_(context) {
  if (config_.query.empty()) {
    for (const std::string& table : config_.tables) {
      sources_.emplace_back(sqlite::RowSource::table(table));
    }
  } else {
    sources_.emplace_back(sqlite::RowSource::query(config_.query));
  }

  const std::map<std::string, std::string> checkpoints = context_.load_checkpoints();
  for (SourceState& state : sources_) {
    state.checkpoint_key = fmt::format("{}#{}", config_.path.string(), state.source.name());
    state.origin = std::make_shared<const std::string>(
        state.source.is_query() ? fmt::format("{} (query)", config_.path.string())
                                : fmt::format("{} (table {})", config_.path.string(), state.source.name()));
    const auto found = checkpoints.find(state.checkpoint_key);
    if (found == checkpoints.end()) {
      continue;
    }
    if (const std::optional<std::int64_t> rowid = parse_rowid(found->second)) {
      state.last_rowid = *rowid;
    } else {
      context_.log().warn("Ignoring a checkpoint that is not a rowid; reading from the first row. key={} value={}",
                          state.checkpoint_key, found->second);
    }
  }
}

void SqliteReader::run() {
  context_.log().info("Reading SQLite database. path={} sources=[{}] exit_at_eof={}", config_.path.string(),
                      fmt::join(config_.query.empty() ? config_.tables : std::vector<std::string>{"query"}, ", "),
                      config_.exit_at_eof);

  while (!context_.stop_requested()) {
    if (database_ && database_->replaced()) {
      context_.log().info("The database file was replaced or removed; reading the new file from its first row. path={}",
                          config_.path.string());
      close_database();
      for (SourceState& state : sources_) {
        state.last_rowid = 0;
      }
    }
    if (!database_ && !open_database()) {
      if (config_.exit_at_eof) {
        context_.log().warn("The database cannot be opened, so there is nothing to read. path={} error=\"{}\"",
                            config_.path.string(), open_error_);
        break;
      }
      context_.wait_for_stop(config_.poll_interval);
      continue;
    }

    const Pass pass = read_pass();
    if (pass.fatal) {
      break;
    }
    if (config_.exit_at_eof && pass.complete && !pass.progress) {
      break;
    }
    if (!pass.progress) {
      context_.wait_for_stop(config_.poll_interval);
    }
  }

  close_database();
  std::uint64_t rows_read = 0;
  for (const SourceState& state : sources_) {
    rows_read += state.rows_read;
  }
  context_.log().info("Stopped reading SQLite database. path={} rows_read={}", config_.path.string(), rows_read);
}

bool SqliteReader::open_database() {
  database_ = sqlite::Database::open(config_.path, config_.busy_timeout, open_error_);
  if (!database_) {
    if (!reported_missing_file_ && !config_.exit_at_eof) {
      context_.log().info("Waiting for the database to become readable. path={} error=\"{}\"", config_.path.string(),
                          open_error_);
      reported_missing_file_ = true;
    }
    return false;
  }
  reported_missing_file_ = false;
  return true;
}

void SqliteReader::close_database() {
  for (SourceState& state : sources_) {
    state.source.release();
    state.started = false;
  }
  database_.reset();
}

SqliteReader::Pass SqliteReader::read_pass() {
  Pass pass;
  for (SourceState& state : sources_) {
    read_source(state, pass);
    if (pass.fatal || context_.stop_requested()) {
      pass.complete = false;
      break;
    }
  }
  return pass;
}

bool SqliteReader::start_source(SourceState& state, Pass& pass) {
  std::string error;
  const ReadStatus status = state.source.prepare(*database_, error);
  if (status == ReadStatus::Missing) {
    if (!state.reported_missing) {
      const char* message = config_.exit_at_eof ? "Table not found, so nothing is read from it. source={} path={}"
                                                : "Waiting for the writer to create the table. source={} path={}";
      context_.log().info(fmt::runtime(message), state.source.name(), config_.path.string());
      state.reported_missing = true;
    }
    pass.complete = pass.complete && config_.exit_at_eof;
    return false;
  }
  if (status == ReadStatus::Failed && state.source.is_query()) {
    context_.metrics().errors.fetch_add(1, std::memory_order_relaxed);
    context_.log().error("The query cannot be used; the input stops. path={} error=\"{}\"", config_.path.string(),
                         error);
    pass.fatal = true;
    return false;
  }
  if (status != ReadStatus::Ok) {
    report_problem(state, status, error);
    pass.complete = false;
    pass.fatal = status == ReadStatus::Failed && config_.exit_at_eof;
    return false;
  }

  // A checkpoint past the last row means the database was replaced by a
  // new one while slipway was not running.
  // TODO: detect a replacement that already grew past the checkpoint, e.g. by
  // storing the file's identity with it — such a database is read from the
  // checkpoint on, and its first rows are missed.
  const std::optional<std::int64_t> max_rowid = state.source.max_rowid(*database_);
  if (!state.source.is_query() && state.last_rowid > max_rowid.value_or(0)) {
    context_.log().warn("The checkpoint is past the last row, so the database is a new one; reading from the first "
                        "row. table={} checkpoint_rowid={} max_rowid={}",
                        state.source.name(), state.last_rowid, max_rowid.value_or(0));
    state.last_rowid = 0;
  }
  context_.log().info("Reading rows. source={} columns=[{}] after_rowid={}", state.source.name(),
                      fmt::join(state.source.column_names(), ", "), state.last_rowid);
  state.reported_missing = false;
  state.started = true;
  return true;
}

void SqliteReader::read_source(SourceState& state, Pass& pass) {
  if (!state.started && !start_source(state, pass)) {
    return;
  }
  while (!context_.stop_requested()) {
    std::string error;
    const ReadStatus status = state.source.read(state.last_rowid, config_.batch_max_events, rows_, error);
    if (status != ReadStatus::Ok) {
      report_problem(state, status, error);
      pass.complete = false;
      pass.fatal = status == ReadStatus::Failed && config_.exit_at_eof;
      return;
    }
    if (rows_.empty()) {
      return;
    }
    // The rows are copied out and the statement reset before emitting,
    // because emit() blocks while an output is slow.
    emit_rows(state, rows_);
    pass.progress = true;
    if (rows_.size() < config_.batch_max_events) {
      return;
    }
  }
  pass.complete = false;
}

// NOTE: Slips stores rows with INSERT OR REPLACE, which gives a replaced row
// a new rowid, so a flow stored again (e.g. relabeled) is read and sent again.
// A change made with UPDATE keeps the rowid and is not seen once read.
void SqliteReader::emit_rows(SourceState& state, const std::vector<Row>& rows) {
  const std::vector<std::string>& names = state.source.column_names();
  Batch batch;
  batch.events.reserve(rows.size());
  std::string reason;
  for (const Row& row : rows) {
    Event event{{}, EventOrigin{state.origin, static_cast<std::uint64_t>(row.rowid), 0}};
    if (build_event(row, names, config_.flow_text_field, event.json, reason)) {
      batch.events.push_back(std::move(event));
      continue;
    }
    const auto flow = std::find(names.begin(), names.end(), kFlowColumn);
    const std::string_view raw =
        flow == names.end() ? std::string_view() : std::string_view(row.values[flow - names.begin()].text);
    context_.dead_letter(raw, event.origin, reason);
  }

  state.last_rowid = rows.back().rowid;
  state.rows_read += rows.size();
  batch.acks.push_back(context_.track(CheckpointEntry{state.checkpoint_key, std::to_string(state.last_rowid)}));
  context_.emit(std::move(batch));
}

void SqliteReader::report_problem(SourceState& state, ReadStatus status, const std::string& error) {
  const bool locked = status == ReadStatus::Busy;
  if (!locked) {
    context_.metrics().errors.fetch_add(1, std::memory_order_relaxed);
  }
  const auto now = std::chrono::steady_clock::now();
  if (state.last_problem_log != std::chrono::steady_clock::time_point{} &&
      now - state.last_problem_log < kProblemLogInterval) {
    ++state.suppressed_problems;
    return;
  }
  context_.log().warn("Reading the database failed{}; trying again at the next poll. source={} path={} error=\"{}\" "
                      "suppressed={}",
                      locked ? " because the writer has it locked" : "", state.source.name(), config_.path.string(),
                      error, state.suppressed_problems);
  state.last_problem_log = now;
  state.suppressed_problems = 0;
}

}  // namespace

const config::Schema SqliteInputConfig::kSchema{{
    config::Field{.name = "path",
                  .type = config::FieldType::String,
                  .doc = "SQLite database to read, e.g. Slips' flows.sqlite; opened read-only, waited for when absent",
                  .required = true},
    config::Field{.name = "tables",
                  .type = config::FieldType::StringList,
                  .doc = "Tables to read in rowid order, each to its current end in turn (default: [flows, "
                         "altflows])"},
    config::Field{.name = "query",
                  .type = config::FieldType::String,
                  .doc = "SQL to read instead of tables: rows with rowid > :last_rowid ORDER BY rowid, the rowid in "
                         "a column named rowid, optionally LIMIT :limit"},
    config::Field{.name = "flow_text_field",
                  .type = config::FieldType::String,
                  .doc = "Field that receives the flow column's JSON text unchanged, as a string; empty to leave it "
                         "out"},
    config::Field{.name = "poll_interval_ms",
                  .type = config::FieldType::Integer,
                  .doc = "How long to wait before looking for new rows after reading everything, in milliseconds",
                  .default_text = "1000",
                  .min = 1,
                  .max = kMaxIntervalMs},
    config::Field{.name = "busy_timeout_ms",
                  .type = config::FieldType::Integer,
                  .doc = "How long a read waits for the writer's lock before it is retried at the next poll, in "
                         "milliseconds",
                  .default_text = "1000",
                  .min = 0,
                  .max = kMaxIntervalMs},
    config::Field{.name = "batch_max_events",
                  .type = config::FieldType::Integer,
                  .doc = "Most rows read in one read transaction and sent in one batch",
                  .default_text = "1024",
                  .min = 1,
                  .max = kMaxBatchEvents},
    config::Field{.name = "exit_at_eof",
                  .type = config::FieldType::Boolean,
                  .doc = "Stop once every source is read to its end instead of polling for more, e.g. for an export",
                  .default_text = "false"},
}};

SqliteInputConfig SqliteInputConfig::parse(const config::Section& settings, config::Errors& errors) {
  SqliteInputConfig config;
  config.path = settings.string("path");
  if (settings.has("tables")) {
    config.tables = settings.strings("tables");
  }
  config.query = settings.string("query");
  config.flow_text_field = settings.string("flow_text_field");
  config.poll_interval = std::chrono::milliseconds(settings.integer("poll_interval_ms"));
  config.busy_timeout = std::chrono::milliseconds(settings.integer("busy_timeout_ms"));
  config.batch_max_events = static_cast<std::size_t>(settings.integer("batch_max_events"));
  config.exit_at_eof = settings.boolean("exit_at_eof");

  if (settings.has("path") && config.path.empty()) {
    errors.add(settings.location("path"), settings.context() + ": key \"path\": expected a file path, got an empty "
                                                               "string");
  }
  if (settings.has("tables") && settings.has("query")) {
    errors.add(settings.location("query"),
               settings.context() + ": keys \"tables\" and \"query\" exclude each other; keep one of them");
  }
  if (settings.has("tables") && config.tables.empty()) {
    errors.add(settings.location("tables"),
               settings.context() + ": key \"tables\": expected at least one table name, got an empty list");
  }
  for (const std::string& table : config.tables) {
    if (table.empty()) {
      errors.add(settings.location("tables"),
                 settings.context() + ": key \"tables\": expected a table name, got an empty string");
    }
  }
  if (settings.has("query") && config.query.find(":last_rowid") == std::string::npos) {
    errors.add(settings.location("query"),
               settings.context() + ": key \"query\": the query has no :last_rowid parameter; select rows with "
                                    "rowid > :last_rowid ORDER BY rowid so a restart resumes after the last row");
  }
  return config;
}

std::unique_ptr<Input> SqliteInput::create(const config::Section& settings, config::Errors& errors) {
  return std::make_unique<SqliteInput>(SqliteInputConfig::parse(settings, errors));
}

void SqliteInput::run(InputContext& context) {
  SqliteReader reader(config_, context);
  reader.run();
}

SLIPWAY_REGISTER_INPUT("sqlite",
                       "Reads rows of an SQLite database such as Slips' flows.sqlite in rowid order while it grows",
                       SqliteInputConfig::kSchema, &SqliteInput::create);

}  // namespace slipway::inputs
