#include "filters/clock.hpp"

#include <thread>

namespace slipway::filters {

namespace {

class SystemClock final : public Clock {
 public:
  std::int64_t wall_micros() override {
    return std::chrono::duration_cast<std::chrono::microseconds>(
               std::chrono::system_clock::now().time_since_epoch())
        .count();
  }

  SteadyTime steady_now() override { return std::chrono::steady_clock::now(); }

  void sleep_until(SteadyTime deadline) override { std::this_thread::sleep_until(deadline); }
};

}  // namespace

std::shared_ptr<Clock> system_clock() {
  static const std::shared_ptr<Clock> clock = std::make_shared<SystemClock>();
  return clock;
}

}  // namespace slipway::filters
