// The text forms STIX 2.1 prescribes for ids, timestamps and pattern
// literals, shared by the `stix` filter and the outputs that check or
// rebuild STIX objects.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

struct evp_md_ctx_st;

namespace slipway::stix {

using UuidBytes = std::array<std::uint8_t, 16>;

// The namespace STIX 2.1 fixes for the deterministic ids of
// cyber-observable objects.
inline constexpr UuidBytes kObservableNamespace = {0x00, 0xab, 0xed, 0xb4, 0xaa, 0x42, 0x46, 0x6c,
                                                   0x9c, 0x01, 0xfe, 0xd2, 0x33, 0x15, 0xa9, 0xb7};

// The namespace of the ids slipway derives for the objects it builds from
// an alert (indicator, sighting, observed-data, identity, bundle). It was
// drawn at random once; changing it changes every id slipway has sent.
inline constexpr UuidBytes kSlipwayNamespace = {0x8d, 0x3f, 0x51, 0x0e, 0x7a, 0x94, 0x4c, 0x2b,
                                                0x9e, 0x61, 0x2f, 0xc8, 0x05, 0xd7, 0x3a, 0x46};

// Computes name-based (version 5, SHA-1) UUIDs as RFC 9562 defines them.
// Holds an OpenSSL digest context, so each thread owns its generator.
class UuidV5 {
 public:
  UuidV5();
  ~UuidV5();
  UuidV5(const UuidV5&) = delete;
  UuidV5& operator=(const UuidV5&) = delete;

  // Appends `<type>--<uuid>` for `name` in `name_space`.
  void append_id(std::string_view type, const UuidBytes& name_space, std::string_view name, std::string& out);
  std::string id(std::string_view type, const UuidBytes& name_space, std::string_view name);

 private:
  evp_md_ctx_st* context_;
};

// Appends `YYYY-MM-DDTHH:MM:SS.mmmZ`: UTC with exactly three fraction
// digits, cut (not rounded) from microseconds, as STIX 2.1 requires of
// `created` and `modified`.
void append_timestamp(std::int64_t utc_micros, std::string& out);

// True for `<type>--<uuid>` where type is lower-case letters, digits and
// '-' and the UUID is in the 8-4-4-4-12 lower-case hex form.
bool is_identifier(std::string_view text);
// True for a timestamp in the form append_timestamp() writes, or with more
// fraction digits: RFC 3339 in UTC with a literal 'Z'.
bool is_timestamp(std::string_view text, std::size_t min_fraction_digits);

// Appends `value` as a STIX pattern string literal: in single quotes, with
// every backslash and quote escaped, so no value can end the literal early.
void append_pattern_literal(std::string_view value, std::string& out);

}  // namespace slipway::stix
