// Read-only access to an SQLite database that another process (Slips) is
// still writing. Rows are read in rowid order, a bounded chunk at a time,
// and every statement is reset before the rows are used. So no read
// transaction outlives one chunk, and in rollback-journal mode neither does
// the shared lock that would make the writer's commit fail.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <vector>

struct sqlite3;
struct sqlite3_stmt;

namespace slipway::inputs::sqlite {

// One column value as SQLite stored it.
struct ColumnValue {
  enum class Type : std::uint8_t { Null, Integer, Real, Text, Blob };
  Type type = Type::Null;
  std::int64_t integer = 0;
  double real = 0;
  std::string text;  // Text and Blob
};

struct Row {
  std::int64_t rowid = 0;
  std::vector<ColumnValue> values;  // in the order of RowSource::column_names()
};

enum class ReadStatus : std::uint8_t {
  Ok,
  Busy,     // the writer has the database locked, so try again at the next poll
  Missing,  // the table does not exist (yet)
  Failed,   // anything else, with a message
};

class Database {
 public:
  // Opens `path` read-only through a `file:` URI with mode=ro. Returns
  // nullptr with `error` set when SQLite cannot open it.
  static std::unique_ptr<Database> open(const std::filesystem::path& path, std::chrono::milliseconds busy_timeout,
                                        std::string& error);
  ~Database();
  Database(const Database&) = delete;
  Database& operator=(const Database&) = delete;

  // True when the file at the path is gone or is another file than the
  // one opened, as after Slips starts a new run in the same directory.
  bool replaced() const;
  sqlite3* handle() const { return handle_; }
  std::string last_error() const;

 private:
  Database(sqlite3* handle, std::filesystem::path path, dev_t device, ino_t inode)
      : handle_(handle), path_(std::move(path)), device_(device), inode_(inode) {}

  sqlite3* handle_;
  std::filesystem::path path_;
  dev_t device_;
  ino_t inode_;
};

// Rows of one table, or of a user query that selects rows after
// `:last_rowid` and returns their rowid in a column named `rowid`.
class RowSource {
 public:
  static RowSource table(std::string name);
  static RowSource query(std::string sql);
  ~RowSource();
  RowSource(RowSource&& other) noexcept;
  RowSource& operator=(RowSource&&) = delete;
  RowSource(const RowSource&) = delete;

  // "flows", or "query" for a user query.
  const std::string& name() const { return name_; }
  bool is_query() const { return is_query_; }

  // Prepares the statement on `database` unless it is already prepared
  // there. Returns Missing for a table that does not exist yet and Failed
  // for a statement SQLite rejects.
  ReadStatus prepare(Database& database, std::string& error);
  // Forgets the prepared statement, before its database is closed.
  void release();

  // Replaces `rows` with at most `limit` rows whose rowid is above
  // `after_rowid`, in rowid order. Requires prepare() to have succeeded.
  ReadStatus read(std::int64_t after_rowid, std::size_t limit, std::vector<Row>& rows, std::string& error);

  // The highest rowid of a table, or nullopt for a query or an empty table.
  std::optional<std::int64_t> max_rowid(Database& database) const;

  const std::vector<std::string>& column_names() const { return column_names_; }

 private:
  RowSource(std::string name, std::string sql, bool is_query)
      : name_(std::move(name)), sql_(std::move(sql)), is_query_(is_query) {}

  ReadStatus check_table(Database& database, std::string& error);
  ReadStatus check_query(std::string& error);

  std::string name_;
  std::string sql_;
  bool is_query_ = false;
  sqlite3_stmt* statement_ = nullptr;
  const Database* prepared_on_ = nullptr;
  int rowid_column_ = 0;
  int last_rowid_parameter_ = 0;
  int limit_parameter_ = 0;  // 0 when the query has no :limit
  std::vector<std::string> column_names_;  // every column but the rowid
  std::vector<int> column_indexes_;        // their positions in the result
};

}  // namespace slipway::inputs::sqlite
