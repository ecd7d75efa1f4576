// The `community_id` filter: writes the Community ID (version 1) of each
// flow into a field, as the Corelight community-id-spec defines it, so flows
// can be joined with Zeek, Suricata and Elastic data. Events without a
// readable flow tuple pass on unchanged.
#pragma once

#include <cstdint>
#include <memory>
#include <string>

#include "config/errors.hpp"
#include "config/schema.hpp"
#include "engine/component.hpp"
#include "filters/flow_fields.hpp"
#include "filters/flow_hash_filter.hpp"
#include "filters/flow_tuple.hpp"

namespace slipway::filters {

struct CommunityIdFilterConfig {
  std::string field = "community_id";
  std::uint16_t seed = 0;
  bool base64 = true;
  flow::FlowFieldsConfig flow;

  static const config::Schema kSchema;
  static CommunityIdFilterConfig parse(const config::Section& settings, config::Errors& errors);
};

class CommunityIdFilter final : public flow::FlowHashFilter {
 public:
  explicit CommunityIdFilter(CommunityIdFilterConfig config);

  static std::unique_ptr<Filter> create(const config::Section& settings, config::Errors& errors);

 private:
  bool fingerprint(const flow::FlowRecord& record, std::string& out) override;

  CommunityIdFilterConfig config_;
};

namespace flow {

// Replaces `out` with "1:" and the base64 (or hex) SHA-1 of seed and
// canonical tuple. Returns false when OpenSSL fails.
bool compute_community_id(FlowHasher& hasher, const FlowTuple& tuple, std::uint16_t seed, bool base64,
                          std::string& out);

}  // namespace flow

}  // namespace slipway::filters
