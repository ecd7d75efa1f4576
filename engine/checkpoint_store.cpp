#include "engine/checkpoint_store.hpp"

#include <sqlite3.h>

#include <chrono>
#include <stdexcept>

#include <fmt/format.h>
#include <spdlog/spdlog.h>

namespace slipway {

namespace {

constexpr const char* kSchema =
    "CREATE TABLE IF NOT EXISTS checkpoints ("
    " component_id TEXT NOT NULL,"
    " key TEXT NOT NULL,"
    " value TEXT NOT NULL,"
    " updated_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')),"
    " PRIMARY KEY (component_id, key))";

void execute(sqlite3* database, const char* statement) {
  char* message = nullptr;
  if (sqlite3_exec(database, statement, nullptr, nullptr, &message) != SQLITE_OK) {
    const std::string text = message != nullptr ? message : "unknown error";
    sqlite3_free(message);
    throw std::runtime_error(text);
  }
}

class Statement {
 public:
  Statement(sqlite3* database, const char* sql) {
    if (sqlite3_prepare_v2(database, sql, -1, &statement_, nullptr) != SQLITE_OK) {
      throw std::runtime_error(sqlite3_errmsg(database));
    }
  }
  ~Statement() { sqlite3_finalize(statement_); }
  Statement(const Statement&) = delete;
  Statement& operator=(const Statement&) = delete;

  void bind(int index, const std::string& text) {
    sqlite3_bind_text(statement_, index, text.data(), static_cast<int>(text.size()), SQLITE_TRANSIENT);
  }
  int step() { return sqlite3_step(statement_); }
  void reset() {
    sqlite3_reset(statement_);
    sqlite3_clear_bindings(statement_);
  }
  std::string column_text(int index) {
    const auto* text = reinterpret_cast<const char*>(sqlite3_column_text(statement_, index));
    return text != nullptr ? std::string(text, static_cast<std::size_t>(sqlite3_column_bytes(statement_, index)))
                           : std::string();
  }

 private:
  sqlite3_stmt* statement_ = nullptr;
};

}  // namespace

CheckpointStore::CheckpointStore(const std::filesystem::path& data_dir, std::chrono::milliseconds commit_interval)
    : commit_interval_(commit_interval) {
  std::error_code error;
  std::filesystem::create_directories(data_dir, error);
  const std::filesystem::path path = data_dir / "checkpoints.db";
  if (sqlite3_open(path.c_str(), &database_) != SQLITE_OK) {
    const std::string message = database_ != nullptr ? sqlite3_errmsg(database_) : "out of memory";
    sqlite3_close(database_);
    throw std::runtime_error(fmt::format("cannot open checkpoint database {}: {}", path.string(), message));
  }
  try {
    // WAL with synchronous=NORMAL survives a crash of the process, which is
    // what checkpoints guard against; a power loss may lose the last commits,
    // and then already delivered events are sent again, never skipped.
    execute(database_, "PRAGMA journal_mode=WAL");
    execute(database_, "PRAGMA synchronous=NORMAL");
    execute(database_, "PRAGMA busy_timeout=5000");
    execute(database_, kSchema);
  } catch (const std::exception& exception) {
    sqlite3_close(database_);
    throw std::runtime_error(
        fmt::format("cannot prepare checkpoint database {}: {}", path.string(), exception.what()));
  }
  writer_ = std::thread([this] { run_writer(); });
}

CheckpointStore::~CheckpointStore() {
  flush();
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  changed_.notify_all();
  writer_.join();
  sqlite3_close(database_);
}

std::map<std::string, std::string> CheckpointStore::load(const std::string& component_id) {
  std::lock_guard lock(mutex_);
  std::map<std::string, std::string> checkpoints;
  Statement select(database_, "SELECT key, value FROM checkpoints WHERE component_id = ?1");
  select.bind(1, component_id);
  while (select.step() == SQLITE_ROW) {
    checkpoints.emplace(select.column_text(0), select.column_text(1));
  }
  return checkpoints;
}

void CheckpointStore::update(const std::string& component_id, const std::vector<CheckpointEntry>& entries) {
  std::unique_lock lock(mutex_);
  for (const CheckpointEntry& entry : entries) {
    pending_[Key{component_id, entry.key}] = entry.value;
  }
  request_write(lock);
}

void CheckpointStore::remove(const std::string& component_id, const std::string& key) {
  std::unique_lock lock(mutex_);
  pending_[Key{component_id, key}] = std::nullopt;
  request_write(lock);
}

void CheckpointStore::request_write(std::unique_lock<std::mutex>& lock) {
  const std::uint64_t target = ++requested_generation_;
  changed_.notify_one();
  // Without an interval the caller, an output releasing a delivered batch,
  // waits for the commit, so a crash repeats at most the batch it is writing.
  if (commit_interval_.count() == 0) {
    written_.wait(lock, [&] { return written_generation_ >= target; });
  }
}

void CheckpointStore::flush() {
  std::unique_lock lock(mutex_);
  const std::uint64_t target = requested_generation_;
  flush_requested_ = true;
  changed_.notify_one();
  written_.wait(lock, [&] { return written_generation_ >= target; });
}

void CheckpointStore::run_writer() {
  // Commits at most every commit_interval_ unless a flush requests one, so
  // a busy pipeline spends little time in SQLite. A crash repeats at most
  // the batches delivered in the last interval.
  std::unique_lock lock(mutex_);
  while (true) {
    changed_.wait(lock, [&] { return stopping_ || requested_generation_ != written_generation_; });
    if (stopping_ && requested_generation_ == written_generation_) {
      return;
    }
    const std::uint64_t generation = requested_generation_;
    std::map<Key, std::optional<std::string>> pending;
    pending.swap(pending_);

    lock.unlock();
    write_pending(std::move(pending));
    lock.lock();

    written_generation_ = generation;
    written_.notify_all();
    if (commit_interval_.count() > 0) {
      changed_.wait_for(lock, commit_interval_, [&] { return stopping_ || flush_requested_; });
    }
    flush_requested_ = false;
  }
}

void CheckpointStore::write_pending(std::map<Key, std::optional<std::string>> pending) {
  if (pending.empty()) {
    return;
  }
  try {
    execute(database_, "BEGIN");
    Statement upsert(database_,
                     "INSERT INTO checkpoints (component_id, key, value) VALUES (?1, ?2, ?3) "
                     "ON CONFLICT (component_id, key) DO UPDATE SET value = excluded.value, "
                     "updated_at = strftime('%Y-%m-%dT%H:%M:%fZ', 'now')");
    Statement erase(database_, "DELETE FROM checkpoints WHERE component_id = ?1 AND key = ?2");
    for (const auto& [key, value] : pending) {
      Statement& statement = value ? upsert : erase;
      statement.bind(1, key.first);
      statement.bind(2, key.second);
      if (value) {
        statement.bind(3, *value);
      }
      statement.step();
      statement.reset();
    }
    execute(database_, "COMMIT");
  } catch (const std::exception& exception) {
    // The events stay delivered; only the position is not stored, so a
    // restart reads them again. Keep the entries for the next attempt.
    spdlog::error("Storing checkpoints failed; they are retried with the next commit. error=\"{}\"",
                  exception.what());
    sqlite3_exec(database_, "ROLLBACK", nullptr, nullptr, nullptr);
    std::lock_guard lock(mutex_);
    for (auto& [key, value] : pending) {
      pending_.try_emplace(key, std::move(value));
    }
  }
}

}  // namespace slipway
