// End-to-end acknowledgements. An input registers every batch it emits with
// its AckTracker together with the checkpoint the batch reaches. The batch
// carries an AckRef; when the last copy of it is released (every output
// delivered or dead-lettered the events), the tracker learns the batch is
// done and commits checkpoints in emission order, so a checkpoint never
// passes an event that is still in flight.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

namespace slipway {

// One position an input can resume from: a key (e.g. a file identity) and
// its value (e.g. an offset), both opaque to the engine.
struct CheckpointEntry {
  std::string key;
  std::string value;
};

class AckTracker;

// Shared by every batch derived from one emitted batch. Completes when
// destroyed, unless a component marked it undelivered.
class AckState {
 public:
  AckState(std::shared_ptr<AckTracker> tracker, std::uint64_t sequence)
      : tracker_(std::move(tracker)), sequence_(sequence) {}
  ~AckState();
  AckState(const AckState&) = delete;
  AckState& operator=(const AckState&) = delete;

  // Keeps the input's checkpoint before this batch, so its events are read
  // again after a restart. Used when a shutdown leaves events undelivered.
  void mark_undelivered() { undelivered_ = true; }

 private:
  std::shared_ptr<AckTracker> tracker_;
  std::uint64_t sequence_;
  bool undelivered_ = false;
};

using AckRef = std::shared_ptr<AckState>;

class AckTracker : public std::enable_shared_from_this<AckTracker> {
 public:
  // Called with the checkpoints that became safe to store, in emission order.
  using CommitFunction = std::function<void(const std::vector<CheckpointEntry>&)>;

  explicit AckTracker(CommitFunction commit) : commit_(std::move(commit)) {}

  // Registers a batch that reaches `checkpoint` once delivered.
  AckRef track(CheckpointEntry checkpoint);

  // Number of batches emitted and not yet acknowledged.
  std::size_t pending() const;

 private:
  friend class AckState;
  void complete(std::uint64_t sequence, bool delivered);

  struct Pending {
    CheckpointEntry checkpoint;
    bool done = false;
  };

  CommitFunction commit_;
  mutable std::mutex mutex_;
  std::uint64_t next_sequence_ = 0;
  std::map<std::uint64_t, Pending> pending_;
  bool blocked_ = false;  // an undelivered batch stops every later commit
};

}  // namespace slipway
