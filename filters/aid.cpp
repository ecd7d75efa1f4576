#include "filters/aid.hpp"

#include <array>
#include <charconv>
#include <span>

#include "engine/registry.hpp"

namespace slipway::filters {

namespace {

constexpr std::int64_t kMaxSeed = 65535;
constexpr std::string_view kAidPrefix = "2:";

config::Schema make_schema() {
  std::vector<config::Field> fields = {
      config::Field{.name = "field",
                    .type = config::FieldType::String,
                    .doc = "Top-level field that receives the AID; an existing value is replaced",
                    .default_text = "aid"},
      config::Field{.name = "seed",
                    .type = config::FieldType::Integer,
                    .doc = "Seed hashed in front of the flow, 0-65535; flows match only between equal seeds",
                    .default_text = "0",
                    .min = 0,
                    .max = kMaxSeed},
      config::Field{.name = "base64",
                    .type = config::FieldType::Boolean,
                    .doc = "Encode the SHA-1 digest in base64 (as Slips stores it) instead of lowercase hex",
                    .default_text = "true"},
      config::Field{.name = "slips_compatible",
                    .type = config::FieldType::Boolean,
                    .doc = "Reproduce Slips' AIDs: only tcp, udp and icmp are hashed, icmp with IPv6 addresses as "
                           "protocol 1, any 0x port string as 8, and the start time as Python prints the float",
                    .default_text = "false"},
  };
  flow::FlowFieldsConfig::add_schema_fields(fields, true);
  return config::Schema{std::move(fields)};
}

void put_u16(std::uint16_t value, std::uint8_t* out) {
  out[0] = static_cast<std::uint8_t>(value >> 8);
  out[1] = static_cast<std::uint8_t>(value & 0xFF);
}

}  // namespace

const config::Schema AidFilterConfig::kSchema = make_schema();

AidFilterConfig AidFilterConfig::parse(const config::Section& settings, config::Errors& errors) {
  AidFilterConfig config;
  config.field = settings.string("field");
  config.seed = static_cast<std::uint16_t>(settings.integer("seed"));
  config.base64 = settings.boolean("base64");
  if (config.field.empty()) {
    errors.add(settings.location("field"),
               settings.context() + ": key \"field\": expected a field name, got an empty string");
  }
  config.flow = flow::FlowFieldsConfig::parse(settings, true);
  return config;
}

AidFilter::AidFilter(AidFilterConfig config)
    : FlowHashFilter("AID", config.field, config.flow,
                     flow::FlowReader::Options{.read_time = true, .hex_ports_are_eight = config.flow.slips_compatible}),
      config_(std::move(config)) {}

std::unique_ptr<Filter> AidFilter::create(const config::Section& settings, config::Errors& errors) {
  return std::make_unique<AidFilter>(AidFilterConfig::parse(settings, errors));
}

bool AidFilter::fingerprint(const flow::FlowRecord& record, std::string& out) {
  return flow::compute_aid(hasher_, record.tuple, record.aid_time, config_.seed, config_.base64, out);
}

namespace flow {

bool compute_aid(FlowHasher& hasher, const FlowTuple& tuple, std::uint64_t time_value, std::uint16_t seed,
                 bool base64, std::string& out) {
  std::array<std::uint8_t, 2> seed_bytes{};
  put_u16(seed, seed_bytes.data());
  std::array<std::uint8_t, 8> time_bytes{};
  for (std::size_t byte_idx = 0; byte_idx < time_bytes.size(); ++byte_idx) {
    time_bytes[byte_idx] = static_cast<std::uint8_t>(time_value >> (8 * (time_bytes.size() - 1 - byte_idx)));
  }
  const CanonicalTuple canonical = canonical_tuple(tuple);
  const std::array<std::span<const std::uint8_t>, 3> parts = {seed_bytes, time_bytes, canonical.view()};
  return hasher.hash(parts, kAidPrefix, base64, out);
}

std::optional<std::uint64_t> aid_time_from_text(std::string_view text) {
  const std::size_t dot = text.find('.');
  if (dot == std::string_view::npos || dot == 0 || dot + 1 == text.size()) {
    return std::nullopt;
  }
  std::uint64_t value = 0;
  for (std::size_t char_idx = 0; char_idx < text.size(); ++char_idx) {
    if (char_idx == dot) {
      continue;
    }
    const char character = text[char_idx];
    if (character < '0' || character > '9') {
      return std::nullopt;
    }
    const auto digit = static_cast<std::uint64_t>(character - '0');
    if (value > (UINT64_MAX - digit) / 10) {
      return std::nullopt;
    }
    value = value * 10 + digit;
  }
  return value;
}

}  // namespace flow

SLIPWAY_REGISTER_FILTER("aid", "Writes the AID (Community ID with the flow start time) of each flow into a field",
                        AidFilterConfig::kSchema, &AidFilter::create);

}  // namespace slipway::filters
