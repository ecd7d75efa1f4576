// The dedupe filter's record of passed keys in an SQLite database, so a
// restart or a replay of the input does not send an event again. Each
// call is one transaction. Safe to call from several threads: the filter
// thread forgets old keys while output threads record delivered ones.
#pragma once

#include <cstdint>
#include <filesystem>
#include <mutex>
#include <string>
#include <vector>

struct sqlite3;

namespace slipway::filters {

struct SeenKey {
  std::string key;
  std::int64_t passed_at_micros = 0;  // when the event with this key passed, UTC
};

class SeenKeyStore {
 public:
  // Opens or creates the database, creating its directory. Throws
  // std::runtime_error naming the path and SQLite's reason on failure.
  explicit SeenKeyStore(const std::filesystem::path& path);
  ~SeenKeyStore();
  SeenKeyStore(const SeenKeyStore&) = delete;
  SeenKeyStore& operator=(const SeenKeyStore&) = delete;

  // The newest `max_keys` keys that passed at or after `since_micros`,
  // oldest first.
  std::vector<SeenKey> load(std::int64_t since_micros, std::size_t max_keys);
  // Records keys; a key already present gets the new time.
  void insert(const std::vector<SeenKey>& keys);
  // Deletes the keys that passed before `before_micros`.
  void forget_before(std::int64_t before_micros);

  const std::filesystem::path& path() const { return path_; }

 private:
  void execute(const char* sql);

  std::filesystem::path path_;
  sqlite3* database_ = nullptr;
  std::mutex mutex_;
};

}  // namespace slipway::filters
