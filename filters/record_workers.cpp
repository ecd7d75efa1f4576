#include "filters/record_workers.hpp"

#include <algorithm>
#include <string>
#include <thread>

#include <fmt/format.h>

namespace slipway::filters {
namespace {

constexpr std::int64_t kMaxWorkers = 64;
// The count that `workers: 0` picks on a machine with many cores.
constexpr std::size_t kMaxAutomaticWorkers = 8;

}  // namespace

config::Field workers_field(std::string_view action, std::string_view default_workers) {
  return config::Field{.name = "workers",
                       .type = config::FieldType::Integer,
                       .doc = fmt::format("Threads that {} of a large batch together; records keep their order. 0 "
                                          "uses one per CPU core, at most {}. Batches of up to {} records stay on "
                                          "the filter's own thread",
                                          action, kMaxAutomaticWorkers, kRecordsPerRange),
                       .default_text = std::string(default_workers),
                       .min = 0,
                       .max = kMaxWorkers};
}

std::size_t worker_count(std::int64_t setting) {
  if (setting > 0) {
    return static_cast<std::size_t>(std::min(setting, kMaxWorkers));
  }
  return std::clamp<std::size_t>(std::thread::hardware_concurrency(), 1, kMaxAutomaticWorkers);
}

}  // namespace slipway::filters
