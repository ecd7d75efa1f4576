#include "engine/worker_pool.hpp"

#include <atomic>
#include <cstddef>
#include <mutex>
#include <set>
#include <stdexcept>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

namespace slipway {
namespace {

// Every item is done exactly once per call, for item counts around the range size.
TEST(WorkerPoolTest, CoversEveryItemOnce) {
  WorkerPool pool(3);
  ASSERT_EQ(pool.workers(), 3u);

  for (std::size_t count : {0u, 1u, 31u, 32u, 33u, 100u, 1024u, 5000u}) {
    std::vector<std::atomic<int>> done(count);
    pool.for_each_range(count, 32, [&](std::size_t, std::size_t begin, std::size_t end) {
      EXPECT_LE(end - begin, 32u);
      for (std::size_t index = begin; index < end; ++index) {
        done[index].fetch_add(1);
      }
    });

    for (std::size_t index = 0; index < count; ++index) {
      ASSERT_EQ(done[index].load(), 1) << "item " << index << " of " << count;
    }
  }
}

// A worker number is used by one thread at a time, and helpers take part when the caller leaves work for them.
TEST(WorkerPoolTest, HelpersTakeRangesUnderTheirOwnNumbers) {
  WorkerPool pool(2);
  std::mutex mutex;
  std::set<std::size_t> workers_seen;
  std::vector<std::thread::id> thread_of_worker(2);
  std::atomic<bool> helper_started{false};

  pool.for_each_range(64, 1, [&](std::size_t worker, std::size_t begin, std::size_t) {
    {
      std::lock_guard lock(mutex);
      workers_seen.insert(worker);
      if (thread_of_worker[worker] == std::thread::id()) {
        thread_of_worker[worker] = std::this_thread::get_id();
      }
      EXPECT_EQ(thread_of_worker[worker], std::this_thread::get_id()) << "worker " << worker;
    }
    if (worker == 1) {
      helper_started.store(true);
    }
    // The caller keeps its first range until the helper has taken one, so both numbers are seen.
    if (worker == 0 && begin == 0) {
      while (!helper_started.load()) {
        std::this_thread::yield();
      }
    }
  });

  EXPECT_EQ(workers_seen, (std::set<std::size_t>{0, 1}));
  EXPECT_EQ(thread_of_worker[0], std::this_thread::get_id());
  EXPECT_NE(thread_of_worker[1], std::this_thread::get_id());
}

// The call returns only after a helper's range has finished, so the caller can read every result.
TEST(WorkerPoolTest, ReturnsAfterHelpersFinish) {
  WorkerPool pool(2);
  std::atomic<bool> helper_started{false};
  std::atomic<bool> caller_range_done{false};
  std::atomic<bool> helper_done{false};

  pool.for_each_range(2, 1, [&](std::size_t worker, std::size_t, std::size_t) {
    if (worker == 0) {
      // The caller's range ends only once the helper has taken the other one.
      while (!helper_started.load()) {
        std::this_thread::yield();
      }
      caller_range_done.store(true);
      return;
    }
    helper_started.store(true);
    // The helper finishes well after the caller has run out of ranges.
    while (!caller_range_done.load()) {
      std::this_thread::yield();
    }
    for (int round = 0; round < 1000; ++round) {
      std::this_thread::yield();
    }
    helper_done.store(true);
  });

  EXPECT_TRUE(helper_done.load());
}

// An exception from a range comes out of the call once the other workers have left, and the pool stays usable.
TEST(WorkerPoolTest, RethrowsFailureAndStaysUsable) {
  WorkerPool pool(4);

  EXPECT_THROW(pool.for_each_range(1000, 10,
                                   [&](std::size_t, std::size_t begin, std::size_t) {
                                     if (begin == 500) {
                                       throw std::runtime_error("range at 500 failed");
                                     }
                                   }),
               std::runtime_error);

  std::atomic<std::size_t> items{0};
  pool.for_each_range(1000, 10, [&](std::size_t, std::size_t begin, std::size_t end) { items += end - begin; });
  EXPECT_EQ(items.load(), 1000u);
}

// A pool of one worker does everything on the caller's thread.
TEST(WorkerPoolTest, SingleWorkerRunsOnCaller) {
  WorkerPool pool(1);
  std::set<std::thread::id> threads;

  pool.for_each_range(100, 10, [&](std::size_t worker, std::size_t, std::size_t) {
    EXPECT_EQ(worker, 0u);
    threads.insert(std::this_thread::get_id());
  });

  EXPECT_EQ(threads, (std::set<std::thread::id>{std::this_thread::get_id()}));
}

}  // namespace
}  // namespace slipway
