// Threads that help one caller through a list of independent items. A
// filter whose work per event does not depend on other events hands its
// batch to the pool in ranges. Each result goes to its event's index, so
// the output keeps the input order.
//
// The caller works too. Helpers take ranges from a shared counter while
// some are left, and the caller waits only for ranges a helper has already
// taken, so a helper that the scheduler keeps off the CPU does not hold the
// caller up. That matters because the input and output threads share the
// same cores.
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <exception>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

namespace slipway {

class WorkerPool {
 public:
  // Called with the worker's number (0 is the caller, 1.. the helpers) and
  // the half-open range of items to do. A worker number is used by one
  // thread at a time, so it can index per-worker state.
  using RangeWork = std::function<void(std::size_t worker, std::size_t begin, std::size_t end)>;

  // Starts `workers - 1` helper threads; the caller is the other worker.
  explicit WorkerPool(std::size_t workers);
  ~WorkerPool();
  WorkerPool(const WorkerPool&) = delete;
  WorkerPool& operator=(const WorkerPool&) = delete;

  std::size_t workers() const { return helpers_.size() + 1; }

  // Calls `work` for consecutive ranges of at most `range_size` items that
  // together cover [0, count) once, and returns when all are done. The
  // first exception `work` threw is thrown here after that, and ranges not
  // yet taken by then are skipped. Only one thread may call this at a time.
  void for_each_range(std::size_t count, std::size_t range_size, const RangeWork& work);

 private:
  struct Job {
    std::size_t count = 0;
    std::size_t range_size = 1;
    const RangeWork* work = nullptr;
    std::atomic<std::size_t> next{0};  // first item not yet taken
    std::atomic<bool> failed{false};
  };

  // Takes ranges until none are left; returns what the work threw, if anything.
  static std::exception_ptr take_ranges(Job& job, std::size_t worker);
  void help(std::size_t worker);

  std::mutex mutex_;
  std::condition_variable job_posted_;    // a new job, or stopping
  std::condition_variable helpers_done_;  // the last helper left the job
  Job* job_ = nullptr;                    // set while helpers may still join
  std::uint64_t generation_ = 0;          // counts the jobs posted
  std::size_t helping_ = 0;               // helpers inside the current job
  std::exception_ptr helper_failure_;
  bool stopping_ = false;
  std::vector<std::thread> helpers_;
};

}  // namespace slipway
