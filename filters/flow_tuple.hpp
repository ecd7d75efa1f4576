// Flow tuples as the flow fingerprints hash them: addresses as network-order
// bytes, the IP protocol number, and ports (for ICMP and ICMPv6 the message
// type and code). Community ID v1 and AID share the ICMP mapping, the
// canonical order of the two endpoints and the SHA-1 encoding defined here.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>

struct evp_md_ctx_st;

namespace slipway::filters::flow {

inline constexpr std::uint8_t kProtocolIcmp = 1;
inline constexpr std::uint8_t kProtocolTcp = 6;
inline constexpr std::uint8_t kProtocolUdp = 17;
inline constexpr std::uint8_t kProtocolIcmpV6 = 58;
inline constexpr std::uint8_t kProtocolSctp = 132;

struct IpAddress {
  std::array<std::uint8_t, 16> bytes{};
  std::uint8_t size = 0;  // 4 for IPv4, 16 for IPv6

  bool is_ipv6() const { return size == 16; }
  std::span<const std::uint8_t> view() const { return {bytes.data(), size}; }
};

// Parses IPv4 dotted-quad or IPv6 text (any case, `::` and leading zeros
// allowed); nullopt for anything else, including IPv6 zone suffixes.
std::optional<IpAddress> parse_ip_address(std::string_view text);

// The IP protocol number for a name as Zeek, Slips and Argus write it
// ("tcp", "UDP", "icmp6", "ipv6-icmp", "gre", ...) or for a decimal number
// 0-255. "icmp" is 1 here, and reading it as 58 for IPv6 addresses is the
// caller's decision. nullopt for names without a number, such as Zeek's
// "unknown_transport".
std::optional<std::uint8_t> protocol_number(std::string_view name);

// True for the protocols whose ports (or ICMP type and code) are part of the
// fingerprint: TCP, UDP, SCTP, ICMP and ICMPv6.
bool protocol_has_ports(std::uint8_t protocol);

struct FlowTuple {
  IpAddress source;
  IpAddress destination;
  std::uint8_t protocol = 0;
  // Ignored for protocols without ports. For ICMP and ICMPv6 the source
  // port is the message type and the destination port the code, or the
  // counterpart type, as Zeek writes them in orig_p and resp_p.
  std::uint16_t source_port = 0;
  std::uint16_t destination_port = 0;
};

// The tuple part of the hashed bytes: source address, destination address,
// protocol, a zero byte, and for protocols with ports the two ports, all in
// network byte order. For ICMP (protocol 1) and ICMPv6 (58), a type with a
// request/reply counterpart becomes (type, counterpart) and may be swapped
// like ports. Any other type stays (type, code) and keeps its direction.
// Two-way tuples put the lower address first, or the lower port when the
// addresses are equal.
struct CanonicalTuple {
  std::array<std::uint8_t, 16 + 16 + 1 + 1 + 2 + 2> bytes{};
  std::size_t size = 0;

  std::span<const std::uint8_t> view() const { return {bytes.data(), size}; }
};

// Requires both addresses to have the same size.
CanonicalTuple canonical_tuple(const FlowTuple& tuple);

// SHA-1 through OpenSSL, encoded the way both fingerprints are: a version
// prefix such as "1:" followed by base64 with padding or lowercase hex.
// Keeps one digest context, so each filter thread owns its hasher.
class FlowHasher {
 public:
  // Throws std::runtime_error when OpenSSL provides no SHA-1.
  FlowHasher();
  ~FlowHasher();
  FlowHasher(const FlowHasher&) = delete;
  FlowHasher& operator=(const FlowHasher&) = delete;

  // Replaces `out` with `prefix` and the encoded digest of the
  // concatenated `parts`; returns false when OpenSSL fails.
  bool hash(std::span<const std::span<const std::uint8_t>> parts, std::string_view prefix, bool base64,
            std::string& out);

 private:
  evp_md_ctx_st* context_ = nullptr;
};

}  // namespace slipway::filters::flow
