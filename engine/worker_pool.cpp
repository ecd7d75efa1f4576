#include "engine/worker_pool.hpp"

#include <algorithm>

namespace slipway {

WorkerPool::WorkerPool(std::size_t workers) {
  const std::size_t helper_count = workers > 1 ? workers - 1 : 0;
  helpers_.reserve(helper_count);
  for (std::size_t worker = 1; worker <= helper_count; ++worker) {
    helpers_.emplace_back([this, worker] { help(worker); });
  }
}

WorkerPool::~WorkerPool() {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  job_posted_.notify_all();
  for (std::thread& helper : helpers_) {
    helper.join();
  }
}

std::exception_ptr WorkerPool::take_ranges(Job& job, std::size_t worker) {
  while (!job.failed.load(std::memory_order_relaxed)) {
    const std::size_t begin = job.next.fetch_add(job.range_size, std::memory_order_relaxed);
    if (begin >= job.count) {
      break;
    }
    try {
      (*job.work)(worker, begin, std::min(job.count, begin + job.range_size));
    } catch (...) {
      job.failed.store(true, std::memory_order_relaxed);
      return std::current_exception();
    }
  }
  return nullptr;
}

void WorkerPool::for_each_range(std::size_t count, std::size_t range_size, const RangeWork& work) {
  Job job;
  job.count = count;
  job.range_size = std::max<std::size_t>(range_size, 1);
  job.work = &work;

  // One range, or no helpers: nothing to share.
  if (helpers_.empty() || count <= job.range_size) {
    if (const std::exception_ptr failure = take_ranges(job, 0)) {
      std::rethrow_exception(failure);
    }
    return;
  }

  {
    std::lock_guard lock(mutex_);
    job_ = &job;
    helper_failure_ = nullptr;
    ++generation_;
  }
  job_posted_.notify_all();

  const std::exception_ptr own_failure = take_ranges(job, 0);

  // Every range is taken. Close the job to late helpers and wait for those
  // still inside it, since they read `job` and `work` until they leave.
  std::unique_lock lock(mutex_);
  job_ = nullptr;
  helpers_done_.wait(lock, [this] { return helping_ == 0; });
  const std::exception_ptr failure = own_failure ? own_failure : helper_failure_;
  helper_failure_ = nullptr;
  lock.unlock();
  if (failure) {
    std::rethrow_exception(failure);
  }
}

void WorkerPool::help(std::size_t worker) {
  std::uint64_t seen_generation = 0;
  std::unique_lock lock(mutex_);
  while (true) {
    job_posted_.wait(lock, [&] { return stopping_ || generation_ != seen_generation; });
    if (stopping_) {
      return;
    }
    seen_generation = generation_;
    if (job_ == nullptr) {
      continue;  // the caller finished the job before this helper woke
    }
    Job& job = *job_;
    ++helping_;
    lock.unlock();

    const std::exception_ptr failure = take_ranges(job, worker);

    lock.lock();
    if (failure && !helper_failure_) {
      helper_failure_ = failure;
    }
    if (--helping_ == 0) {
      helpers_done_.notify_one();
    }
  }
}

}  // namespace slipway
