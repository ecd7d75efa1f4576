// Removal of addresses that must not leave the organisation from IDEA
// events before they are shared: private, loopback, link-local, shared
// (carrier-grade NAT), multicast and other reserved ranges. Every value of
// every IP4 and IP6 list of every Source and Target is checked, and a
// CIDR block or "first-last" range counts as private when it overlaps a
// private range.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "engine/json.hpp"

namespace slipway::outputs::warden {

// A closed range of addresses. IPv4 addresses are held as IPv4-mapped
// IPv6 (::ffff:a.b.c.d), so ::ffff:10.0.0.5 and 10.0.0.5 are judged alike.
struct AddressRange {
  std::array<std::uint8_t, 16> first{};
  std::array<std::uint8_t, 16> last{};

  bool overlaps(const AddressRange& other) const;
};

// Parses an address, a CIDR block ("10.0.0.0/8", "fd00::/8") or a range
// ("10.0.0.1-10.0.0.9"); nothing when `text` is none of these.
std::optional<AddressRange> parse_address_range(std::string_view text);

// The ranges removed by default. The documentation ranges 192.0.2.0/24,
// 198.51.100.0/24, 203.0.113.0/24 and 2001:db8::/32 are not among them,
// because examples and tests use them as public addresses.
const std::vector<std::string>& default_private_ranges();

struct FilterOutcome {
  bool keep = true;             // false: neither Source nor Target is left
  std::size_t removed_addresses = 0;
};

class AddressFilter {
 public:
  // Returns nothing and sets `error` when an entry of `ranges` does not parse.
  static std::optional<AddressFilter> create(const std::vector<std::string>& ranges, std::string& error);

  bool is_private(std::string_view address) const;

  // Removes private addresses from `event`'s Source and Target entries.
  // An entry left without any IP4 or IP6 value is removed with its Port,
  // Proto and other members. An entry that never had one (a Hostname only)
  // stays. An empty Source or Target list is removed. An address that
  // does not parse is removed too, since it cannot be shown to be public.
  FilterOutcome apply(json::Value& event) const;

 private:
  std::vector<AddressRange> ranges_;
};

}  // namespace slipway::outputs::warden
