#include "filters/flow_tuple.hpp"

#include <arpa/inet.h>

#include <algorithm>
#include <charconv>
#include <cstring>
#include <stdexcept>
#include <utility>

#include <openssl/evp.h>

namespace slipway::filters::flow {

namespace {

// Longer text cannot be an address: the longest IPv6 form, with an embedded
// IPv4 address, has 45 characters.
constexpr std::size_t kMaxAddressText = 63;

constexpr std::size_t kSha1Bytes = 20;

struct ProtocolName {
  std::string_view name;
  std::uint8_t number;
};

// IANA protocol numbers under the names Zeek, Slips, Argus and nfdump use.
constexpr std::array kProtocolNames = {
    ProtocolName{"icmp", kProtocolIcmp},     ProtocolName{"igmp", 2},
    ProtocolName{"ipv4", 4},                 ProtocolName{"ipip", 4},
    ProtocolName{"tcp", kProtocolTcp},       ProtocolName{"egp", 8},
    ProtocolName{"udp", kProtocolUdp},       ProtocolName{"ipv6", 41},
    ProtocolName{"rsvp", 46},                ProtocolName{"gre", 47},
    ProtocolName{"esp", 50},                 ProtocolName{"ah", 51},
    ProtocolName{"icmp6", kProtocolIcmpV6},  ProtocolName{"icmpv6", kProtocolIcmpV6},
    ProtocolName{"ipv6-icmp", kProtocolIcmpV6}, ProtocolName{"eigrp", 88},
    ProtocolName{"ospf", 89},                ProtocolName{"pim", 103},
    ProtocolName{"vrrp", 112},               ProtocolName{"l2tp", 115},
    ProtocolName{"sctp", kProtocolSctp},     ProtocolName{"udplite", 136},
};

struct IcmpPair {
  std::uint16_t type;
  std::uint16_t counterpart;
};

// Request/reply message types, in both directions. Only these make an ICMP
// tuple two-way, and every other type is a one-way message.
constexpr std::array kIcmpV4Pairs = {
    IcmpPair{8, 0},   IcmpPair{0, 8},     // echo
    IcmpPair{13, 14}, IcmpPair{14, 13},   // timestamp
    IcmpPair{15, 16}, IcmpPair{16, 15},   // information
    IcmpPair{10, 9},  IcmpPair{9, 10},    // router solicitation and advertisement
    IcmpPair{17, 18}, IcmpPair{18, 17},   // address mask
};
constexpr std::array kIcmpV6Pairs = {
    IcmpPair{128, 129}, IcmpPair{129, 128},  // echo
    IcmpPair{130, 131}, IcmpPair{131, 130},  // multicast listener query and report
    IcmpPair{133, 134}, IcmpPair{134, 133},  // router solicitation and advertisement
    IcmpPair{135, 136}, IcmpPair{136, 135},  // neighbor solicitation and advertisement
    IcmpPair{139, 140}, IcmpPair{140, 139},  // node information query and response
    IcmpPair{144, 145}, IcmpPair{145, 144},  // home agent address discovery
};

template <std::size_t N>
std::optional<std::uint16_t> counterpart_of(std::uint16_t type, const std::array<IcmpPair, N>& pairs) {
  for (const IcmpPair& pair : pairs) {
    if (pair.type == type) {
      return pair.counterpart;
    }
  }
  return std::nullopt;
}

bool equals_ignoring_case(std::string_view left, std::string_view right) {
  return left.size() == right.size() && std::equal(left.begin(), left.end(), right.begin(), [](char a, char b) {
           return (a >= 'A' && a <= 'Z' ? static_cast<char>(a - 'A' + 'a') : a) == b;
         });
}

void put_u16(std::uint16_t value, std::uint8_t* out) {
  out[0] = static_cast<std::uint8_t>(value >> 8);
  out[1] = static_cast<std::uint8_t>(value & 0xFF);
}

void append_hex(std::span<const std::uint8_t> bytes, std::string& out) {
  constexpr std::string_view kDigits = "0123456789abcdef";
  for (const std::uint8_t byte : bytes) {
    out += kDigits[byte >> 4];
    out += kDigits[byte & 0x0F];
  }
}

const EVP_MD* sha1() {
  // Fetched once, because an implicit fetch on every digest costs more
  // than the digest of a 40-byte tuple itself.
  static EVP_MD* const algorithm = EVP_MD_fetch(nullptr, "SHA1", nullptr);
  return algorithm;
}

}  // namespace

std::optional<IpAddress> parse_ip_address(std::string_view text) {
  if (text.empty() || text.size() > kMaxAddressText) {
    return std::nullopt;
  }
  char terminated[kMaxAddressText + 1];
  std::memcpy(terminated, text.data(), text.size());
  terminated[text.size()] = '\0';

  IpAddress address;
  if (::inet_pton(AF_INET, terminated, address.bytes.data()) == 1) {
    address.size = 4;
    return address;
  }
  if (::inet_pton(AF_INET6, terminated, address.bytes.data()) == 1) {
    address.size = 16;
    return address;
  }
  return std::nullopt;
}

std::optional<std::uint8_t> protocol_number(std::string_view name) {
  unsigned number = 0;
  const auto [end, error] = std::from_chars(name.data(), name.data() + name.size(), number);
  if (!name.empty() && error == std::errc() && end == name.data() + name.size()) {
    return number <= 255 ? std::optional<std::uint8_t>(static_cast<std::uint8_t>(number)) : std::nullopt;
  }
  for (const ProtocolName& known : kProtocolNames) {
    if (equals_ignoring_case(name, known.name)) {
      return known.number;
    }
  }
  return std::nullopt;
}

bool protocol_has_ports(std::uint8_t protocol) {
  return protocol == kProtocolTcp || protocol == kProtocolUdp || protocol == kProtocolSctp ||
         protocol == kProtocolIcmp || protocol == kProtocolIcmpV6;
}

CanonicalTuple canonical_tuple(const FlowTuple& tuple) {
  std::uint16_t source_port = tuple.source_port;
  std::uint16_t destination_port = tuple.destination_port;
  bool one_way = false;
  if (tuple.protocol == kProtocolIcmp || tuple.protocol == kProtocolIcmpV6) {
    const std::optional<std::uint16_t> counterpart = tuple.protocol == kProtocolIcmp
                                                         ? counterpart_of(source_port, kIcmpV4Pairs)
                                                         : counterpart_of(source_port, kIcmpV6Pairs);
    one_way = !counterpart.has_value();
    if (counterpart) {
      destination_port = *counterpart;
    }
  }

  const bool has_ports = protocol_has_ports(tuple.protocol);
  std::uint8_t source_port_bytes[2];
  std::uint8_t destination_port_bytes[2];
  put_u16(source_port, source_port_bytes);
  put_u16(destination_port, destination_port_bytes);

  const std::size_t address_size = tuple.source.size;
  const int address_order = std::memcmp(tuple.source.bytes.data(), tuple.destination.bytes.data(), address_size);
  const bool keep_order = one_way || address_order < 0 ||
                          (address_order == 0 && (!has_ports || std::memcmp(source_port_bytes, destination_port_bytes,
                                                                            sizeof source_port_bytes) < 0));
  const IpAddress& first = keep_order ? tuple.source : tuple.destination;
  const IpAddress& second = keep_order ? tuple.destination : tuple.source;
  const std::uint8_t* first_port = keep_order ? source_port_bytes : destination_port_bytes;
  const std::uint8_t* second_port = keep_order ? destination_port_bytes : source_port_bytes;

  CanonicalTuple canonical;
  std::uint8_t* out = canonical.bytes.data();
  out = std::copy_n(first.bytes.data(), address_size, out);
  out = std::copy_n(second.bytes.data(), address_size, out);
  *out++ = tuple.protocol;
  *out++ = 0;
  if (has_ports) {
    out = std::copy_n(first_port, 2, out);
    out = std::copy_n(second_port, 2, out);
  }
  canonical.size = static_cast<std::size_t>(out - canonical.bytes.data());
  return canonical;
}

FlowHasher::FlowHasher() : context_(EVP_MD_CTX_new()) {
  if (context_ == nullptr || sha1() == nullptr) {
    EVP_MD_CTX_free(context_);
    throw std::runtime_error("OpenSSL provides no SHA-1 digest; flow fingerprints cannot be computed");
  }
}

FlowHasher::~FlowHasher() { EVP_MD_CTX_free(context_); }

bool FlowHasher::hash(std::span<const std::span<const std::uint8_t>> parts, std::string_view prefix, bool base64,
                      std::string& out) {
  if (EVP_DigestInit_ex2(context_, sha1(), nullptr) != 1) {
    return false;
  }
  for (const std::span<const std::uint8_t> part : parts) {
    if (EVP_DigestUpdate(context_, part.data(), part.size()) != 1) {
      return false;
    }
  }
  std::uint8_t digest[EVP_MAX_MD_SIZE];
  unsigned int digest_size = 0;
  if (EVP_DigestFinal_ex(context_, digest, &digest_size) != 1 || digest_size != kSha1Bytes) {
    return false;
  }

  out.assign(prefix);
  if (!base64) {
    append_hex({digest, digest_size}, out);
    return true;
  }
  // Base64 of 20 bytes is 28 characters with padding, plus the NUL OpenSSL writes.
  unsigned char encoded[32];
  const int encoded_size = EVP_EncodeBlock(encoded, digest, static_cast<int>(digest_size));
  out.append(reinterpret_cast<const char*>(encoded), static_cast<std::size_t>(encoded_size));
  return true;
}

}  // namespace slipway::filters::flow
