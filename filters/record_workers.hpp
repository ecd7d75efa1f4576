// Conversion of a batch record by record on several threads, for the
// filters whose work on one record does not depend on any other
// (idea_normalize and stix). Each thread owns its converter, which reuses
// parsers and buffers from record to record. Each result is stored at its
// record's index, so the filter emits records and dead letters in input order.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "config/schema.hpp"
#include "engine/event.hpp"
#include "engine/worker_pool.hpp"

namespace slipway::filters {

// Returns the `workers` key of such a filter; `action` completes the
// sentence "Threads that ... of a large batch together", and
// `default_workers` is the default as written in a pipeline file.
config::Field workers_field(std::string_view action, std::string_view default_workers);

// Returns the thread count for a `workers` setting: the setting, or
// for 0 one per CPU core up to eight. Settings the schema rejects are
// clamped, a negative one to 0 and a large one to the maximum.
std::size_t worker_count(std::int64_t setting);

// Workers take records in ranges this long: short enough that a helper
// which starts late still finds ranges left, long enough that taking one
// costs little. A tailed file's batches of a few records stay on the
// filter's own thread.
inline constexpr std::size_t kRecordsPerRange = 32;

template <typename Converter, typename Outcome>
class RecordWorkers {
 public:
  // One record's result: the outcome, and the output text when the outcome
  // is the one that produces output, or else the reason when there is one.
  struct Result {
    Outcome outcome{};
    std::string text;
  };

  // `make_converter()` returns a std::unique_ptr to a new converter and is
  // called once per worker. Records whose outcome is `produced` keep the
  // converter's output.
  template <typename MakeConverter>
  RecordWorkers(std::size_t workers, Outcome produced, MakeConverter make_converter)
      : pool_(workers), produced_(produced) {
    for (std::size_t worker = 0; worker < pool_.workers(); ++worker) {
      workers_.push_back(std::make_unique<Worker>(Worker{make_converter(), {}}));
    }
  }

  // Runs `convert(converter, json, out, reason) -> Outcome` over every event
  // of `batch` and returns the results, indexed like the events. They stay
  // valid until the next call, and a caller may move the texts out.
  template <typename Convert>
  std::vector<Result>& convert(const Batch& batch, const Convert& convert) {
    const std::size_t count = batch.events.size();
    results_.resize(count);
    pool_.for_each_range(count, kRecordsPerRange, [&](std::size_t worker, std::size_t begin, std::size_t end) {
      Worker& own = *workers_[worker];
      for (std::size_t index = begin; index < end; ++index) {
        Result& result = results_[index];
        // Writing into one reused buffer and copying the result keeps the
        // writer in cached memory and gives each event an exact-size string.
        own.scratch.clear();
        result.outcome = convert(*own.converter, std::string_view(batch.events[index].json), own.scratch, result.text);
        if (result.outcome == produced_) {
          result.text = own.scratch;
        }
      }
    });
    return results_;
  }

 private:
  struct Worker {
    std::unique_ptr<Converter> converter;
    std::string scratch;  // one record's output before it is copied into its result
  };

  WorkerPool pool_;
  Outcome produced_;
  std::vector<std::unique_ptr<Worker>> workers_;
  std::vector<Result> results_;  // reused from batch to batch
};

}  // namespace slipway::filters
