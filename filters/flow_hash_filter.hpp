// The run time the `aid` and `community_id` filters share: each event's flow
// tuple is read, its fingerprint computed and written into one field. An
// event whose tuple cannot be read, such as a Slips DNS record, passes on
// unchanged and is counted, so no event is dropped. Batches keep their order.
#pragma once

#include <array>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <string>

#include "engine/component.hpp"
#include "filters/flow_fields.hpp"
#include "filters/flow_tuple.hpp"

namespace slipway::filters::flow {

class FlowHashFilter : public Filter {
 public:
  void process(const BatchPtr& batch, FilterContext& context) override;
  // Logs how many events were fingerprinted and why others were not.
  void finish(FilterContext& context) override;

  std::uint64_t hashed_events() const { return hashed_.load(std::memory_order_relaxed); }
  std::uint64_t skipped_events(ReadError reason) const {
    return skipped_[static_cast<std::size_t>(reason)].load(std::memory_order_relaxed);
  }
  std::uint64_t skipped_events() const;

 protected:
  // `name` is the fingerprint's name in logs, e.g. "AID".
  FlowHashFilter(std::string name, std::string field, const FlowFieldsConfig& fields, FlowReader::Options options);

  // Replaces `out` with the fingerprint of `record`. Returns false when hashing failed.
  virtual bool fingerprint(const FlowRecord& record, std::string& out) = 0;

  FlowHasher hasher_;

 private:
  using Clock = std::chrono::steady_clock;

  struct LogLimit {
    Clock::time_point last{};
    std::uint64_t suppressed = 0;
    bool logged = false;
  };

  bool fingerprint_event(const Event& event, std::string& out, FilterContext& context);
  void report_skip(const ReadResult& result, const Event& event, FilterContext& context);
  void report_hash_failure(FilterContext& context);

  std::string name_;
  std::string field_;
  std::string quoted_field_;  // field_ as a JSON string
  FlowReader reader_;
  std::string fingerprint_;  // reused per event
  std::atomic<std::uint64_t> hashed_{0};
  std::array<std::atomic<std::uint64_t>, kReadErrorCount> skipped_{};
  // One per ReadError, and the last one for hash failures.
  std::array<LogLimit, kReadErrorCount + 1> log_limits_{};
};

}  // namespace slipway::filters::flow
