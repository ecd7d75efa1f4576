// Decoding of JSON-lines records as inputs read them: one JSON object per
// line. A clean line is accepted without copying, a repairable one is
// rewritten, and anything else is rejected with a reason for the dead-letter file.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

namespace slipway::json {

enum class LineKind : std::uint8_t {
  Blank,     // empty or white space only: skipped without a trace
  Object,    // one JSON object
  Rejected,  // not exactly one JSON object
};

struct DecodedLine {
  LineKind kind = LineKind::Blank;
  // True when `json` contains a repaired copy; false means the input bytes
  // are already valid UTF-8 JSON with unique member names and can be kept.
  bool rewritten = false;
  std::string json;
  std::uint32_t repairs = 0;  // json::Repair flags
  std::string reason;         // for Rejected, e.g. "top-level value is an array, expected an object"
};

// Name of the member that a rewritten object gets, listing the repairs
// made, so a changed record is visible downstream.
inline constexpr std::string_view kRepairsMember = "slipway_repairs";

class LineDecoder {
 public:
  explicit LineDecoder(std::size_t max_depth = 128);
  ~LineDecoder();
  LineDecoder(const LineDecoder&) = delete;
  LineDecoder& operator=(const LineDecoder&) = delete;

  // Decodes one line without its terminator (a trailing CR is the caller's
  // to strip). Not thread-safe: each thread owns its decoder.
  DecodedLine decode(std::string_view line);

 private:
  struct State;
  std::unique_ptr<State> state_;
};

}  // namespace slipway::json
