#include "engine/acknowledgement.hpp"

namespace slipway {

AckState::~AckState() {
  if (tracker_) {
    tracker_->complete(sequence_, !undelivered_);
  }
}

AckRef AckTracker::track(CheckpointEntry checkpoint) {
  std::lock_guard lock(mutex_);
  const std::uint64_t sequence = next_sequence_++;
  pending_.emplace(sequence, Pending{std::move(checkpoint), false});
  return std::make_shared<AckState>(shared_from_this(), sequence);
}

std::size_t AckTracker::pending() const {
  std::lock_guard lock(mutex_);
  return pending_.size();
}

// The commit function runs under the lock: two threads completing batches
// at once must hand their checkpoints over in emission order.
void AckTracker::complete(std::uint64_t sequence, bool delivered) {
  std::vector<CheckpointEntry> ready;
  std::lock_guard lock(mutex_);
  if (!delivered) {
    blocked_ = true;
  }
  auto found = pending_.find(sequence);
  if (found == pending_.end()) {
    return;
  }
  found->second.done = true;

  // Only a done prefix of the emission order may be committed: a later
  // batch finishing first must not move the checkpoint past an earlier one.
  while (!blocked_ && !pending_.empty() && pending_.begin()->second.done) {
    ready.push_back(std::move(pending_.begin()->second.checkpoint));
    pending_.erase(pending_.begin());
  }
  if (!ready.empty() && commit_) {
    commit_(ready);
  }
}

}  // namespace slipway
