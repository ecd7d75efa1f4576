// Conversion of one Slips record of any generation to canonical IDEA0
// text. The output is a function of the input and the options only: the
// wall clock is never read, so a record replayed after a restart comes out
// byte for byte the same.
#pragma once

#include <memory>
#include <string>
#include <string_view>

#include "engine/timestamp.hpp"

namespace slipway::filters::idea {

struct NormalizerOptions {
  timestamp::TimeZone zoneless_zone = timestamp::TimeZone::utc();  // for times written without an offset
  std::string node_name;        // Node[0].Name; empty adds no Node
  bool test_category = false;   // add the Test category to every record
};

// Not thread-safe: each thread owns a normalizer, which reuses its parsers
// and buffers from record to record.
class Normalizer {
 public:
  explicit Normalizer(NormalizerOptions options);
  ~Normalizer();
  Normalizer(const Normalizer&) = delete;
  Normalizer& operator=(const Normalizer&) = delete;

  // Appends the IDEA0 object for `json` to `out` and returns true. Returns
  // false with `reason` set, leaving `out` unchanged, when the record is no
  // Slips record, has no valid ID or has no time usable as DetectTime.
  bool normalize(std::string_view json, std::string& out, std::string& reason);

 private:
  struct State;
  std::unique_ptr<State> state_;
};

}  // namespace slipway::filters::idea
