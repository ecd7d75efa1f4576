#include "filters/dedupe_store.hpp"

#include <sqlite3.h>

#include <stdexcept>

#include <fmt/format.h>

namespace slipway::filters {

namespace {

constexpr const char* kSchema =
    "CREATE TABLE IF NOT EXISTS seen_keys (key BLOB PRIMARY KEY, passed_at_us INTEGER NOT NULL) WITHOUT ROWID;"
    "CREATE INDEX IF NOT EXISTS seen_keys_by_time ON seen_keys (passed_at_us);";

// A prepared statement, finalized when it goes out of scope.
class Statement {
 public:
  Statement(sqlite3* database, const char* sql) : database_(database) {
    if (sqlite3_prepare_v2(database, sql, -1, &statement_, nullptr) != SQLITE_OK) {
      throw std::runtime_error(sqlite3_errmsg(database));
    }
  }
  ~Statement() { sqlite3_finalize(statement_); }
  Statement(const Statement&) = delete;
  Statement& operator=(const Statement&) = delete;

  void bind(int index, std::int64_t value) { sqlite3_bind_int64(statement_, index, value); }
  void bind(int index, const std::string& blob) {
    sqlite3_bind_blob(statement_, index, blob.data(), static_cast<int>(blob.size()), SQLITE_STATIC);
  }

  // Steps once; returns true while there is a row, throws on an error.
  bool step() {
    const int result = sqlite3_step(statement_);
    if (result == SQLITE_ROW) {
      return true;
    }
    if (result != SQLITE_DONE) {
      throw std::runtime_error(sqlite3_errmsg(database_));
    }
    return false;
  }

  void reset() { sqlite3_reset(statement_); }

  std::string blob(int column) {
    const auto* data = static_cast<const char*>(sqlite3_column_blob(statement_, column));
    return data != nullptr ? std::string(data, static_cast<std::size_t>(sqlite3_column_bytes(statement_, column)))
                           : std::string();
  }
  std::int64_t integer(int column) { return sqlite3_column_int64(statement_, column); }

 private:
  sqlite3* database_;
  sqlite3_stmt* statement_ = nullptr;
};

}  // namespace

SeenKeyStore::SeenKeyStore(const std::filesystem::path& path) : path_(path) {
  std::error_code error;
  std::filesystem::create_directories(path.parent_path(), error);
  if (sqlite3_open(path.c_str(), &database_) != SQLITE_OK) {
    const std::string message = database_ != nullptr ? sqlite3_errmsg(database_) : "out of memory";
    sqlite3_close(database_);
    throw std::runtime_error(fmt::format("cannot open dedupe database {}: {}", path.string(), message));
  }
  try {
    // As for checkpoints: WAL with synchronous=NORMAL survives a crash of
    // the process; a power loss may lose the last commits, and then a
    // replayed event is sent again rather than lost.
    execute("PRAGMA journal_mode=WAL");
    execute("PRAGMA synchronous=NORMAL");
    execute("PRAGMA busy_timeout=5000");
    execute(kSchema);
  } catch (const std::exception& exception) {
    sqlite3_close(database_);
    throw std::runtime_error(fmt::format("cannot prepare dedupe database {}: {}", path.string(), exception.what()));
  }
}

SeenKeyStore::~SeenKeyStore() { sqlite3_close(database_); }

void SeenKeyStore::execute(const char* sql) {
  char* message = nullptr;
  if (sqlite3_exec(database_, sql, nullptr, nullptr, &message) != SQLITE_OK) {
    const std::string text = message != nullptr ? message : sqlite3_errmsg(database_);
    sqlite3_free(message);
    throw std::runtime_error(text);
  }
}

std::vector<SeenKey> SeenKeyStore::load(std::int64_t since_micros, std::size_t max_keys) {
  std::lock_guard lock(mutex_);
  Statement select(database_,
                   "SELECT key, passed_at_us FROM seen_keys WHERE passed_at_us >= ?1 "
                   "ORDER BY passed_at_us DESC LIMIT ?2");
  select.bind(1, since_micros);
  select.bind(2, static_cast<std::int64_t>(max_keys));
  std::vector<SeenKey> keys;
  while (select.step()) {
    keys.push_back(SeenKey{select.blob(0), select.integer(1)});
  }
  return std::vector<SeenKey>(keys.rbegin(), keys.rend());
}

void SeenKeyStore::insert(const std::vector<SeenKey>& keys) {
  std::lock_guard lock(mutex_);
  execute("BEGIN");
  try {
    Statement upsert(database_, "INSERT OR REPLACE INTO seen_keys (key, passed_at_us) VALUES (?1, ?2)");
    for (const SeenKey& key : keys) {
      upsert.bind(1, key.key);
      upsert.bind(2, key.passed_at_micros);
      upsert.step();
      upsert.reset();
    }
    execute("COMMIT");
  } catch (...) {
    sqlite3_exec(database_, "ROLLBACK", nullptr, nullptr, nullptr);
    throw;
  }
}

void SeenKeyStore::forget_before(std::int64_t before_micros) {
  std::lock_guard lock(mutex_);
  Statement remove(database_, "DELETE FROM seen_keys WHERE passed_at_us < ?1");
  remove.bind(1, before_micros);
  remove.step();
}

}  // namespace slipway::filters
