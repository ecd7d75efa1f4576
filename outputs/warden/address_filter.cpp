#include "outputs/warden/address_filter.hpp"

#include <arpa/inet.h>

#include <algorithm>
#include <charconv>

namespace slipway::outputs::warden {

namespace {

using Address = std::array<std::uint8_t, 16>;

constexpr std::size_t kIpv4MappedOffset = 12;
constexpr int kIpv4Bits = 32;
constexpr int kIpv6Bits = 128;

std::optional<Address> parse_single(std::string_view text, int& bits) {
  const std::string copy(text);
  Address address{};
  std::array<std::uint8_t, 4> ipv4{};
  if (::inet_pton(AF_INET, copy.c_str(), ipv4.data()) == 1) {
    address[10] = 0xff;
    address[11] = 0xff;
    std::copy(ipv4.begin(), ipv4.end(), address.begin() + kIpv4MappedOffset);
    bits = kIpv4Bits;
    return address;
  }
  if (::inet_pton(AF_INET6, copy.c_str(), address.data()) == 1) {
    bits = kIpv6Bits;
    return address;
  }
  return std::nullopt;
}

// The block of `prefix_bits` leading bits of `address`, counted within an
// address of `family_bits` bits.
AddressRange block(const Address& address, int prefix_bits, int family_bits) {
  AddressRange range{address, address};
  const int host_bits = family_bits - prefix_bits;
  for (int bit = 0; bit < host_bits; ++bit) {
    const int byte = 15 - bit / 8;
    const auto mask = static_cast<std::uint8_t>(1u << (bit % 8));
    range.first[static_cast<std::size_t>(byte)] &= static_cast<std::uint8_t>(~mask);
    range.last[static_cast<std::size_t>(byte)] |= mask;
  }
  return range;
}

std::string_view trim(std::string_view text) {
  while (!text.empty() && text.front() == ' ') {
    text.remove_prefix(1);
  }
  while (!text.empty() && text.back() == ' ') {
    text.remove_suffix(1);
  }
  return text;
}

// Removes the private values of the IP4 or IP6 list `key` of `entry`;
// returns how many values of that list there were.
std::size_t filter_list(json::Value& entry, std::string_view key, const AddressFilter& filter,
                        std::size_t& removed) {
  json::Value* list = entry.find(key);
  if (list == nullptr) {
    return 0;
  }
  if (!list->is_array()) {
    // IDEA allows only lists here; a single value is judged as a list of one.
    const bool keep = list->is_string() && !filter.is_private(list->as_string());
    if (!keep) {
      entry.erase(key);
      ++removed;
    }
    return 1;
  }
  std::vector<json::Value>& items = list->items();
  const std::size_t before = items.size();
  std::erase_if(items, [&](const json::Value& item) { return !item.is_string() || filter.is_private(item.as_string()); });
  removed += before - items.size();
  if (items.empty()) {
    entry.erase(key);
  }
  return before;
}

// Filters one Source or Target list; returns whether anything is left.
bool filter_entries(json::Value& event, std::string_view member, const AddressFilter& filter, std::size_t& removed) {
  json::Value* entries = event.find(member);
  if (entries == nullptr) {
    return false;
  }
  if (!entries->is_array()) {
    event.erase(member);
    return false;
  }
  std::erase_if(entries->items(), [&](json::Value& entry) {
    if (!entry.is_object()) {
      return true;
    }
    const std::size_t addresses = filter_list(entry, "IP4", filter, removed) + filter_list(entry, "IP6", filter, removed);
    const bool has_address_left = entry.find("IP4") != nullptr || entry.find("IP6") != nullptr;
    return addresses > 0 && !has_address_left;
  });
  if (entries->items().empty()) {
    event.erase(member);
    return false;
  }
  return true;
}

}  // namespace

bool AddressRange::overlaps(const AddressRange& other) const { return !(last < other.first || other.last < first); }

std::optional<AddressRange> parse_address_range(std::string_view text) {
  text = trim(text);
  int bits = 0;
  if (const std::size_t dash = text.find('-'); dash != std::string_view::npos) {
    int last_bits = 0;
    const auto first = parse_single(trim(text.substr(0, dash)), bits);
    const auto last = parse_single(trim(text.substr(dash + 1)), last_bits);
    if (!first || !last || bits != last_bits || *last < *first) {
      return std::nullopt;
    }
    return AddressRange{*first, *last};
  }
  if (const std::size_t slash = text.find('/'); slash != std::string_view::npos) {
    const auto address = parse_single(text.substr(0, slash), bits);
    const std::string_view length_text = text.substr(slash + 1);
    int length = -1;
    const auto [end, error] = std::from_chars(length_text.data(), length_text.data() + length_text.size(), length);
    if (!address || error != std::errc() || end != length_text.data() + length_text.size() || length < 0 ||
        length > bits) {
      return std::nullopt;
    }
    return block(*address, length, bits);
  }
  const auto address = parse_single(text, bits);
  if (!address) {
    return std::nullopt;
  }
  return AddressRange{*address, *address};
}

const std::vector<std::string>& default_private_ranges() {
  // IANA's special-purpose registries (RFC 6890 and its updates), without
  // the documentation ranges.
  static const std::vector<std::string> ranges = {
      "0.0.0.0/8",      "10.0.0.0/8",    "100.64.0.0/10", "127.0.0.0/8", "169.254.0.0/16",
      "172.16.0.0/12",  "192.0.0.0/24",  "192.168.0.0/16", "198.18.0.0/15", "224.0.0.0/4",
      "240.0.0.0/4",    "::/128",        "::1/128",       "64:ff9b:1::/48", "100::/64",
      "2001::/23",      "fc00::/7",      "fe80::/10",     "ff00::/8",
  };
  return ranges;
}

std::optional<AddressFilter> AddressFilter::create(const std::vector<std::string>& ranges, std::string& error) {
  AddressFilter filter;
  for (const std::string& text : ranges) {
    const auto range = parse_address_range(text);
    if (!range) {
      error = "\"" + text + "\" is not an address, CIDR block or first-last range";
      return std::nullopt;
    }
    filter.ranges_.push_back(*range);
  }
  return filter;
}

bool AddressFilter::is_private(std::string_view address) const {
  const auto range = parse_address_range(address);
  if (!range) {
    return true;
  }
  return std::any_of(ranges_.begin(), ranges_.end(), [&](const AddressRange& candidate) { return candidate.overlaps(*range); });
}

FilterOutcome AddressFilter::apply(json::Value& event) const {
  FilterOutcome outcome;
  const bool source_left = filter_entries(event, "Source", *this, outcome.removed_addresses);
  const bool target_left = filter_entries(event, "Target", *this, outcome.removed_addresses);
  outcome.keep = source_left || target_left;
  return outcome;
}

}  // namespace slipway::outputs::warden
