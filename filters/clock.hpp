// The time source of the filters that depend on time (modify's `now`,
// dedupe's window, throttle's rate). Tests pass a clock they move by hand,
// so no test waits for real time to pass.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>

namespace slipway::filters {

class Clock {
 public:
  using SteadyTime = std::chrono::steady_clock::time_point;

  virtual ~Clock() = default;
  // Wall-clock time as UTC microseconds since the Unix epoch, for times
  // that are written down or kept across restarts.
  virtual std::int64_t wall_micros() = 0;
  // Monotonic time for measuring intervals within one run.
  virtual SteadyTime steady_now() = 0;
  // Blocks the calling thread until steady_now() reaches `deadline`.
  virtual void sleep_until(SteadyTime deadline) = 0;
};

// The real clocks of the system; shared, stateless and thread-safe.
std::shared_ptr<Clock> system_clock();

}  // namespace slipway::filters
