#include "filters/community_id.hpp"

#include <array>
#include <span>

#include "engine/registry.hpp"

namespace slipway::filters {

namespace {

constexpr std::int64_t kMaxSeed = 65535;
constexpr std::string_view kCommunityIdPrefix = "1:";

config::Schema make_schema() {
  std::vector<config::Field> fields = {
      config::Field{.name = "field",
                    .type = config::FieldType::String,
                    .doc = "Top-level field that receives the Community ID; an existing value is replaced",
                    .default_text = "community_id"},
      config::Field{.name = "seed",
                    .type = config::FieldType::Integer,
                    .doc = "Seed hashed in front of the flow, 0-65535; flows match only between equal seeds",
                    .default_text = "0",
                    .min = 0,
                    .max = kMaxSeed},
      config::Field{.name = "base64",
                    .type = config::FieldType::Boolean,
                    .doc = "Encode the SHA-1 digest in base64 (the usual form) instead of lowercase hex",
                    .default_text = "true"},
      config::Field{.name = "slips_compatible",
                    .type = config::FieldType::Boolean,
                    .doc = "Reproduce the values of Slips' flows.sqlite community_id column: only tcp, udp and icmp "
                           "are hashed, and icmp with IPv6 addresses as protocol 1 instead of ICMPv6's 58",
                    .default_text = "false"},
  };
  flow::FlowFieldsConfig::add_schema_fields(fields, false);
  return config::Schema{std::move(fields)};
}

}  // namespace

const config::Schema CommunityIdFilterConfig::kSchema = make_schema();

CommunityIdFilterConfig CommunityIdFilterConfig::parse(const config::Section& settings, config::Errors& errors) {
  CommunityIdFilterConfig config;
  config.field = settings.string("field");
  config.seed = static_cast<std::uint16_t>(settings.integer("seed"));
  config.base64 = settings.boolean("base64");
  if (config.field.empty()) {
    errors.add(settings.location("field"),
               settings.context() + ": key \"field\": expected a field name, got an empty string");
  }
  config.flow = flow::FlowFieldsConfig::parse(settings, false);
  return config;
}

CommunityIdFilter::CommunityIdFilter(CommunityIdFilterConfig config)
    : FlowHashFilter("Community ID", config.field, config.flow, flow::FlowReader::Options{}),
      config_(std::move(config)) {}

std::unique_ptr<Filter> CommunityIdFilter::create(const config::Section& settings, config::Errors& errors) {
  return std::make_unique<CommunityIdFilter>(CommunityIdFilterConfig::parse(settings, errors));
}

bool CommunityIdFilter::fingerprint(const flow::FlowRecord& record, std::string& out) {
  return flow::compute_community_id(hasher_, record.tuple, config_.seed, config_.base64, out);
}

namespace flow {

bool compute_community_id(FlowHasher& hasher, const FlowTuple& tuple, std::uint16_t seed, bool base64,
                          std::string& out) {
  const std::array<std::uint8_t, 2> seed_bytes = {static_cast<std::uint8_t>(seed >> 8),
                                                  static_cast<std::uint8_t>(seed & 0xFF)};
  const CanonicalTuple canonical = canonical_tuple(tuple);
  const std::array<std::span<const std::uint8_t>, 2> parts = {seed_bytes, canonical.view()};
  return hasher.hash(parts, kCommunityIdPrefix, base64, out);
}

}  // namespace flow

SLIPWAY_REGISTER_FILTER("community_id", "Writes the Community ID v1 of each flow into a field",
                        CommunityIdFilterConfig::kSchema, &CommunityIdFilter::create);

}  // namespace slipway::filters
