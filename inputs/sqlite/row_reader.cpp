#include "inputs/sqlite/row_reader.hpp"

#include <sys/stat.h>

#include <algorithm>
#include <cctype>
#include <utility>

#include <fmt/format.h>
#include <sqlite3.h>

namespace slipway::inputs::sqlite {

namespace {

// SQLite reads a `file:` URI with percent escapes, so a path containing
// '?', '#' or '%' must be escaped to keep its meaning.
std::string file_uri(const std::filesystem::path& path) {
  std::string uri = "file:";
  for (const unsigned char character : path.string()) {
    if (std::isalnum(character) != 0 || character == '/' || character == '-' || character == '.' ||
        character == '_' || character == '~') {
      uri += static_cast<char>(character);
    } else {
      fmt::format_to(std::back_inserter(uri), "%{:02X}", character);
    }
  }
  return uri + "?mode=ro";
}

std::string quote_identifier(std::string_view name) {
  std::string quoted = "\"";
  for (const char character : name) {
    quoted += character;
    if (character == '"') {
      quoted += '"';
    }
  }
  return quoted + "\"";
}

bool is_busy(int code) {
  const int primary = code & 0xFF;
  return primary == SQLITE_BUSY || primary == SQLITE_LOCKED;
}

bool equals_ignoring_case(std::string_view left, std::string_view right) {
  return left.size() == right.size() && std::equal(left.begin(), left.end(), right.begin(), [](char a, char b) {
           return std::tolower(static_cast<unsigned char>(a)) == std::tolower(static_cast<unsigned char>(b));
         });
}

ColumnValue column_value(sqlite3_stmt* statement, int index) {
  ColumnValue value;
  switch (sqlite3_column_type(statement, index)) {
    case SQLITE_INTEGER:
      value.type = ColumnValue::Type::Integer;
      value.integer = sqlite3_column_int64(statement, index);
      break;
    case SQLITE_FLOAT:
      value.type = ColumnValue::Type::Real;
      value.real = sqlite3_column_double(statement, index);
      break;
    case SQLITE_TEXT: {
      value.type = ColumnValue::Type::Text;
      const auto* text = reinterpret_cast<const char*>(sqlite3_column_text(statement, index));
      value.text.assign(text, static_cast<std::size_t>(sqlite3_column_bytes(statement, index)));
      break;
    }
    case SQLITE_BLOB: {
      value.type = ColumnValue::Type::Blob;
      const auto* blob = static_cast<const char*>(sqlite3_column_blob(statement, index));
      value.text.assign(blob == nullptr ? "" : blob, static_cast<std::size_t>(sqlite3_column_bytes(statement, index)));
      break;
    }
    default:
      break;
  }
  return value;
}

}  // namespace

std::unique_ptr<Database> Database::open(const std::filesystem::path& path, std::chrono::milliseconds busy_timeout,
                                         std::string& error) {
  struct stat status {};
  if (::stat(path.c_str(), &status) != 0) {
    error = "no such file";
    return nullptr;
  }
  sqlite3* handle = nullptr;
  const int code = sqlite3_open_v2(file_uri(path).c_str(), &handle, SQLITE_OPEN_READONLY | SQLITE_OPEN_URI, nullptr);
  if (code != SQLITE_OK) {
    error = handle != nullptr ? sqlite3_errmsg(handle) : sqlite3_errstr(code);
    sqlite3_close(handle);
    return nullptr;
  }
  sqlite3_busy_timeout(handle, static_cast<int>(busy_timeout.count()));
  return std::unique_ptr<Database>(new Database(handle, path, status.st_dev, status.st_ino));
}

Database::~Database() { sqlite3_close(handle_); }

bool Database::replaced() const {
  struct stat status {};
  return ::stat(path_.c_str(), &status) != 0 || status.st_dev != device_ || status.st_ino != inode_;
}

std::string Database::last_error() const { return sqlite3_errmsg(handle_); }

RowSource RowSource::table(std::string name) {
  std::string sql = fmt::format("SELECT rowid, * FROM {} WHERE rowid > ?1 ORDER BY rowid LIMIT ?2", quote_identifier(name));
  return RowSource(std::move(name), std::move(sql), false);
}

RowSource RowSource::query(std::string sql) { return RowSource("query", std::move(sql), true); }

RowSource::~RowSource() { release(); }

RowSource::RowSource(RowSource&& other) noexcept
    : name_(std::move(other.name_)),
      sql_(std::move(other.sql_)),
      is_query_(other.is_query_),
      statement_(std::exchange(other.statement_, nullptr)),
      prepared_on_(std::exchange(other.prepared_on_, nullptr)),
      rowid_column_(other.rowid_column_),
      last_rowid_parameter_(other.last_rowid_parameter_),
      limit_parameter_(other.limit_parameter_),
      column_names_(std::move(other.column_names_)),
      column_indexes_(std::move(other.column_indexes_)) {}

void RowSource::release() {
  sqlite3_finalize(statement_);
  statement_ = nullptr;
  prepared_on_ = nullptr;
}

ReadStatus RowSource::prepare(Database& database, std::string& error) {
  if (statement_ != nullptr && prepared_on_ == &database) {
    return ReadStatus::Ok;
  }
  release();
  column_names_.clear();
  column_indexes_.clear();

  if (!is_query_) {
    if (const ReadStatus status = check_table(database, error); status != ReadStatus::Ok) {
      return status;
    }
  }
  const int code = sqlite3_prepare_v2(database.handle(), sql_.c_str(), -1, &statement_, nullptr);
  if (code != SQLITE_OK) {
    error = database.last_error();
    release();
    if (is_busy(code)) {
      return ReadStatus::Busy;
    }
    // Slips creates its tables after it opens the file.
    return error.rfind("no such table", 0) == 0 ? ReadStatus::Missing : ReadStatus::Failed;
  }
  prepared_on_ = &database;

  if (is_query_) {
    return check_query(error);
  }
  last_rowid_parameter_ = 1;
  limit_parameter_ = 2;
  rowid_column_ = 0;
  for (int index = 1; index < sqlite3_column_count(statement_); ++index) {
    column_indexes_.push_back(index);
  }
  return ReadStatus::Ok;
}

ReadStatus RowSource::check_table(Database& database, std::string& error) {
  sqlite3_stmt* columns = nullptr;
  int code = sqlite3_prepare_v2(database.handle(), "SELECT name FROM pragma_table_info(?1)", -1, &columns, nullptr);
  if (code == SQLITE_OK) {
    sqlite3_bind_text(columns, 1, name_.data(), static_cast<int>(name_.size()), SQLITE_STATIC);
    while ((code = sqlite3_step(columns)) == SQLITE_ROW) {
      column_names_.emplace_back(reinterpret_cast<const char*>(sqlite3_column_text(columns, 0)));
    }
  }
  if (code != SQLITE_DONE) {
    error = database.last_error();
  }
  sqlite3_finalize(columns);
  if (code != SQLITE_DONE) {
    return is_busy(code) ? ReadStatus::Busy : ReadStatus::Failed;
  }
  return column_names_.empty() ? ReadStatus::Missing : ReadStatus::Ok;
}

ReadStatus RowSource::check_query(std::string& error) {
  last_rowid_parameter_ = sqlite3_bind_parameter_index(statement_, ":last_rowid");
  limit_parameter_ = sqlite3_bind_parameter_index(statement_, ":limit");
  if (last_rowid_parameter_ == 0) {
    error = "the query has no :last_rowid parameter; select rows with rowid > :last_rowid ORDER BY rowid";
    release();
    return ReadStatus::Failed;
  }

  rowid_column_ = -1;
  for (int index = 0; index < sqlite3_column_count(statement_); ++index) {
    const std::string name = sqlite3_column_name(statement_, index);
    if (rowid_column_ < 0 && equals_ignoring_case(name, "rowid")) {
      rowid_column_ = index;
      continue;
    }
    column_names_.push_back(name);
    column_indexes_.push_back(index);
  }
  if (rowid_column_ < 0) {
    error = "the query returns no column named rowid; select it as `rowid AS rowid`";
    release();
    return ReadStatus::Failed;
  }
  return ReadStatus::Ok;
}

ReadStatus RowSource::read(std::int64_t after_rowid, std::size_t limit, std::vector<Row>& rows, std::string& error) {
  rows.clear();
  sqlite3_bind_int64(statement_, last_rowid_parameter_, after_rowid);
  if (limit_parameter_ > 0) {
    sqlite3_bind_int64(statement_, limit_parameter_, static_cast<sqlite3_int64>(limit));
  }

  int code = SQLITE_DONE;
  while (rows.size() < limit && (code = sqlite3_step(statement_)) == SQLITE_ROW) {
    Row& row = rows.emplace_back();
    row.rowid = sqlite3_column_int64(statement_, rowid_column_);
    row.values.reserve(column_indexes_.size());
    for (const int index : column_indexes_) {
      row.values.push_back(column_value(statement_, index));
    }
  }
  if (code != SQLITE_ROW && code != SQLITE_DONE) {
    error = sqlite3_errmsg(sqlite3_db_handle(statement_));
  }
  // Resetting ends the statement's read transaction. In rollback-journal
  // mode that releases the shared lock a writer's commit waits for.
  sqlite3_reset(statement_);
  sqlite3_clear_bindings(statement_);

  if (code == SQLITE_ROW || code == SQLITE_DONE) {
    return ReadStatus::Ok;
  }
  if (is_busy(code)) {
    rows.clear();
    return ReadStatus::Busy;
  }
  rows.clear();
  return ReadStatus::Failed;
}

std::optional<std::int64_t> RowSource::max_rowid(Database& database) const {
  if (is_query_) {
    return std::nullopt;
  }
  sqlite3_stmt* statement = nullptr;
  const std::string sql = "SELECT max(rowid) FROM " + quote_identifier(name_);
  std::optional<std::int64_t> result;
  if (sqlite3_prepare_v2(database.handle(), sql.c_str(), -1, &statement, nullptr) == SQLITE_OK &&
      sqlite3_step(statement) == SQLITE_ROW && sqlite3_column_type(statement, 0) != SQLITE_NULL) {
    result = sqlite3_column_int64(statement, 0);
  }
  sqlite3_finalize(statement);
  return result;
}

}  // namespace slipway::inputs::sqlite
