// An InputContext for component tests. It runs an input on its own thread,
// records the batches it emits and keeps them until the test acknowledges
// them, as outputs would by delivering them. Acknowledged checkpoints go to
// a CheckpointMap that outlives the context, like the engine's checkpoint
// database across a restart. Waits end on a condition or a deadline, never
// after a fixed sleep.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "engine/acknowledgement.hpp"
#include "engine/component.hpp"

namespace slipway::testing {

inline constexpr std::chrono::milliseconds kWaitTimeout{10'000};

// Committed checkpoints of one input, shared by the contexts of its runs.
class CheckpointMap {
 public:
  std::map<std::string, std::string> entries() const;
  std::optional<std::string> find(const std::string& key) const;
  void commit(const std::vector<CheckpointEntry>& entries);
  void set(const std::string& key, const std::string& value);
  void remove(const std::string& key);

 private:
  mutable std::mutex mutex_;
  std::map<std::string, std::string> entries_;
};

class FakeInputContext final : public InputContext {
 public:
  // Dead letters go to `work_dir/dead_letter.json`.
  FakeInputContext(const std::filesystem::path& work_dir, std::shared_ptr<CheckpointMap> checkpoints);
  ~FakeInputContext() override;  // stops and joins the input thread
  FakeInputContext(const FakeInputContext&) = delete;
  FakeInputContext& operator=(const FakeInputContext&) = delete;

  bool stop_requested() const override;
  bool wait_for_stop(std::chrono::milliseconds timeout) override;
  // Drops batches without events at once, as the engine does, so their
  // checkpoints commit in order without reaching an output.
  void emit(Batch batch) override;
  std::map<std::string, std::string> load_checkpoints() override;
  void remove_checkpoint(const std::string& key) override;
  AckRef track(CheckpointEntry checkpoint) override;

  // Runs `input` on a new thread until it returns or stop() is called.
  void start(std::unique_ptr<Input> input);
  // Requests a stop and joins the thread.
  void stop();
  // True once run() returned, within `timeout`.
  bool wait_for_finish(std::chrono::milliseconds timeout = kWaitTimeout);
  // The message of an exception that ended run(), if any.
  std::optional<std::string> run_error() const;

  // Waits until `predicate` returns true. It is checked again after every emit
  // and every idle wait of the input; false when `timeout` passes first.
  bool wait_until(const std::function<bool()>& predicate, std::chrono::milliseconds timeout = kWaitTimeout);
  bool wait_for_events(std::size_t count, std::chrono::milliseconds timeout = kWaitTimeout);
  // Waits until the input has gone idle `count` more times. An idle wait
  // follows a read pass that found nothing to consume, so two of them
  // prove that data written before this call was seen.
  bool wait_for_idle_passes(std::size_t count, std::chrono::milliseconds timeout = kWaitTimeout);

  std::vector<Event> events() const;
  std::vector<std::string> event_texts() const;
  std::vector<std::vector<Event>> batches() const;

  // Releases every held batch as delivered; their checkpoints commit.
  void acknowledge_all();
  // Releases every held batch as undelivered, as a crash before delivery
  // would: neither their checkpoints nor any later one commit.
  void drop_unacknowledged();
  // Acknowledges each batch as soon as it is emitted.
  void set_auto_acknowledge(bool enabled);

  std::vector<std::string> log_lines();
  bool log_contains(const std::string& text);
  const std::filesystem::path& dead_letter_path() const { return dead_letter_path_; }

 private:
  std::uint64_t generation() const;
  void signal_change();

  std::filesystem::path dead_letter_path_;
  std::shared_ptr<CheckpointMap> checkpoints_;
  std::shared_ptr<AckTracker> tracker_;

  mutable std::mutex mutex_;
  std::condition_variable changed_;
  std::uint64_t generation_ = 0;
  std::uint64_t idle_waits_ = 0;
  bool stop_ = false;
  bool finished_ = false;
  bool auto_acknowledge_ = false;
  std::optional<std::string> run_error_;
  std::vector<std::vector<Event>> batches_;
  std::vector<BatchPtr> held_;

  std::unique_ptr<Input> input_;
  std::thread thread_;
};

}  // namespace slipway::testing
