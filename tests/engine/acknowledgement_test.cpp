#include "engine/acknowledgement.hpp"

#include <gtest/gtest.h>

namespace slipway {
namespace {

class AckTrackerTest : public ::testing::Test {
 protected:
  std::shared_ptr<AckTracker> tracker_ = std::make_shared<AckTracker>(
      [this](const std::vector<CheckpointEntry>& entries) {
        for (const CheckpointEntry& entry : entries) {
          committed_.push_back(entry.value);
        }
      });
  std::vector<std::string> committed_;
};

// A batch finishing before an earlier one must not move the checkpoint past it.
TEST_F(AckTrackerTest, CommitsInEmissionOrder) {
  AckRef first = tracker_->track({"file", "100"});
  AckRef second = tracker_->track({"file", "200"});

  second.reset();
  EXPECT_TRUE(committed_.empty());

  first.reset();
  ASSERT_EQ(committed_.size(), 2u);
  EXPECT_EQ(committed_[0], "100");
  EXPECT_EQ(committed_[1], "200");
  EXPECT_EQ(tracker_->pending(), 0u);
}

// The checkpoint completes only when the last copy of a shared batch is released.
TEST_F(AckTrackerTest, WaitsForEveryCopy) {
  AckRef original = tracker_->track({"file", "42"});
  AckRef copy_for_second_output = original;

  original.reset();
  EXPECT_TRUE(committed_.empty());

  copy_for_second_output.reset();
  ASSERT_EQ(committed_.size(), 1u);
  EXPECT_EQ(committed_[0], "42");
}

// An undelivered batch keeps its checkpoint and every later one uncommitted.
TEST_F(AckTrackerTest, UndeliveredBatchStopsCommits) {
  AckRef lost = tracker_->track({"file", "10"});
  AckRef later = tracker_->track({"file", "20"});

  lost->mark_undelivered();
  lost.reset();
  later.reset();

  EXPECT_TRUE(committed_.empty());
}

}  // namespace
}  // namespace slipway
