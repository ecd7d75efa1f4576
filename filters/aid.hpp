// The `aid` filter: writes the Stratosphere AID (All-ID, version 2) of each
// flow into a field. AID is Community ID v1 with the flow's start time
// hashed after the seed, so the same five-tuple on another day gets another
// value. PyPI `aid_hash` 1.1 defines it, and Slips stores it in flows.sqlite.
// Events without a readable flow tuple pass on unchanged.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "config/errors.hpp"
#include "config/schema.hpp"
#include "engine/component.hpp"
#include "filters/flow_fields.hpp"
#include "filters/flow_hash_filter.hpp"
#include "filters/flow_tuple.hpp"

namespace slipway::filters {

struct AidFilterConfig {
  std::string field = "aid";
  std::uint16_t seed = 0;
  bool base64 = true;
  flow::FlowFieldsConfig flow;

  static const config::Schema kSchema;
  static AidFilterConfig parse(const config::Section& settings, config::Errors& errors);
};

class AidFilter final : public flow::FlowHashFilter {
 public:
  explicit AidFilter(AidFilterConfig config);

  static std::unique_ptr<Filter> create(const config::Section& settings, config::Errors& errors);

 private:
  bool fingerprint(const flow::FlowRecord& record, std::string& out) override;

  AidFilterConfig config_;
};

namespace flow {

// Replaces `out` with "2:" and the base64 (or hex) SHA-1 of seed, time
// value and canonical tuple. Returns false when OpenSSL fails. `time_value`
// is the start time's decimal digits read as one integer (see aid_time_from_text).
bool compute_aid(FlowHasher& hasher, const FlowTuple& tuple, std::uint64_t time_value, std::uint16_t seed,
                 bool base64, std::string& out);

// Reads a timestamp text as aid_hash does. The text must be digits, one dot
// and digits. The dot is deleted and the rest read as one integer, so
// "14.125489" is 14125489 and "142548.12" is 14254812. Returns nullopt for
// other text or for more than 64 bits.
std::optional<std::uint64_t> aid_time_from_text(std::string_view text);

}  // namespace flow

}  // namespace slipway::filters
