// Input checkpoints in an SQLite database in the data directory. Commits
// from the acknowledgement path only update memory; a writer thread stores
// what changed in one transaction shortly after, so a busy pipeline makes
// few commits and a crash repeats at most the batches delivered since the
// last one.
#pragma once

#include <chrono>
#include <condition_variable>
#include <filesystem>
#include <map>
#include <mutex>
#include <optional>
#include <cstdint>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "engine/acknowledgement.hpp"

struct sqlite3;

namespace slipway {

class CheckpointStore {
 public:
  // Opens or creates `data_dir/checkpoints.db`; throws std::runtime_error
  // with the path and SQLite's message when that fails. Commits are at
  // least `commit_interval` apart unless flushed; with an interval of 0,
  // update() and remove() return only once their change is stored.
  explicit CheckpointStore(const std::filesystem::path& data_dir,
                           std::chrono::milliseconds commit_interval = std::chrono::milliseconds(50));
  ~CheckpointStore();
  CheckpointStore(const CheckpointStore&) = delete;
  CheckpointStore& operator=(const CheckpointStore&) = delete;

  std::map<std::string, std::string> load(const std::string& component_id);

  // Records checkpoints to be written by the writer thread.
  void update(const std::string& component_id, const std::vector<CheckpointEntry>& entries);
  void remove(const std::string& component_id, const std::string& key);

  // Writes everything recorded so far; returns once it is stored.
  void flush();

 private:
  using Key = std::pair<std::string, std::string>;  // component id, checkpoint key

  // Wakes the writer; with a zero commit interval, also waits until it has stored the change.
  void request_write(std::unique_lock<std::mutex>& lock);
  void run_writer();
  void write_pending(std::map<Key, std::optional<std::string>> pending);

  sqlite3* database_ = nullptr;
  std::chrono::milliseconds commit_interval_;
  std::mutex mutex_;
  std::condition_variable changed_;
  std::condition_variable written_;
  std::map<Key, std::optional<std::string>> pending_;  // nullopt: remove
  std::uint64_t requested_generation_ = 0;
  std::uint64_t written_generation_ = 0;
  bool stopping_ = false;
  bool flush_requested_ = false;
  std::thread writer_;
};

}  // namespace slipway
