// The pieces both flow fingerprints share: address and protocol parsing,
// the canonical tuple bytes, and reading and writing event members as text.
#include "filters/flow_tuple.hpp"

#include <array>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "filters/flow_fields.hpp"

namespace slipway::filters::flow {
namespace {

std::vector<std::uint8_t> bytes_of(const CanonicalTuple& canonical) {
  return {canonical.bytes.begin(), canonical.bytes.begin() + static_cast<std::ptrdiff_t>(canonical.size)};
}

FlowTuple tuple_of(std::uint8_t protocol, const std::string& source, const std::string& destination,
                   std::uint16_t source_port, std::uint16_t destination_port) {
  FlowTuple tuple;
  tuple.source = parse_ip_address(source).value();
  tuple.destination = parse_ip_address(destination).value();
  tuple.protocol = protocol;
  tuple.source_port = source_port;
  tuple.destination_port = destination_port;
  return tuple;
}

// Addresses parse to network-order bytes whatever their textual form.
TEST(FlowTupleTest, ParsesAddressesToBytes) {
  const auto v4 = parse_ip_address("10.0.0.1");
  ASSERT_TRUE(v4.has_value());
  EXPECT_EQ(v4->size, 4);
  EXPECT_EQ(v4->bytes[0], 10);
  EXPECT_EQ(v4->bytes[3], 1);

  const auto compressed = parse_ip_address("2001:db8::10");
  const auto expanded = parse_ip_address("2001:0DB8:0000:0000:0000:0000:0000:0010");
  ASSERT_TRUE(compressed.has_value());
  ASSERT_TRUE(expanded.has_value());
  EXPECT_EQ(compressed->size, 16);
  EXPECT_EQ(compressed->bytes, expanded->bytes);

  EXPECT_FALSE(parse_ip_address("").has_value());
  EXPECT_FALSE(parse_ip_address("10.0.0.256").has_value());
  EXPECT_FALSE(parse_ip_address("fe80::1%eth0").has_value());
  EXPECT_FALSE(parse_ip_address("example.com").has_value());
  EXPECT_FALSE(parse_ip_address(std::string(100, '1')).has_value());
}

// Protocol names are read in any case, and decimal numbers pass through.
TEST(FlowTupleTest, MapsProtocolNamesAndNumbers) {
  EXPECT_EQ(protocol_number("tcp"), 6);
  EXPECT_EQ(protocol_number("UDP"), 17);
  EXPECT_EQ(protocol_number("icmp"), 1);
  EXPECT_EQ(protocol_number("icmp6"), 58);
  EXPECT_EQ(protocol_number("ipv6-icmp"), 58);
  EXPECT_EQ(protocol_number("sctp"), 132);
  EXPECT_EQ(protocol_number("gre"), 47);
  EXPECT_EQ(protocol_number("47"), 47);
  EXPECT_FALSE(protocol_number("256").has_value());
  EXPECT_FALSE(protocol_number("unknown_transport").has_value());
  EXPECT_FALSE(protocol_number("").has_value());
}

// The lower address goes first, and the ports move with their addresses.
TEST(FlowTupleTest, OrdersTwoWayTupleByAddress) {
  const std::vector<std::uint8_t> expected = {10, 0, 0, 1, 127, 0, 0, 1, 6, 0, 0x00, 0x50, 0x04, 0xd2};
  EXPECT_EQ(bytes_of(canonical_tuple(tuple_of(6, "127.0.0.1", "10.0.0.1", 1234, 80))), expected);
  EXPECT_EQ(bytes_of(canonical_tuple(tuple_of(6, "10.0.0.1", "127.0.0.1", 80, 1234))), expected);
}

// With equal addresses the lower port goes first.
TEST(FlowTupleTest, OrdersEqualAddressesByPort) {
  const std::vector<std::uint8_t> expected = {10, 0, 0, 1, 10, 0, 0, 1, 17, 0, 0x00, 0x35, 0x04, 0xd2};
  EXPECT_EQ(bytes_of(canonical_tuple(tuple_of(17, "10.0.0.1", "10.0.0.1", 1234, 53))), expected);
}

// An ICMP type with a counterpart hashes as (type, counterpart) and may be
// swapped; other types keep (type, code) and their direction.
TEST(FlowTupleTest, MapsIcmpTypesAndKeepsOneWayDirection) {
  const std::vector<std::uint8_t> echo = {1, 2, 3, 4, 5, 6, 7, 8, 1, 0, 0, 8, 0, 0};
  EXPECT_EQ(bytes_of(canonical_tuple(tuple_of(1, "5.6.7.8", "1.2.3.4", 0, 0))), echo);  // a reply
  EXPECT_EQ(bytes_of(canonical_tuple(tuple_of(1, "1.2.3.4", "5.6.7.8", 8, 0))), echo);  // its request

  const std::vector<std::uint8_t> unreachable = {5, 6, 7, 8, 1, 2, 3, 4, 1, 0, 0, 3, 0, 1};
  EXPECT_EQ(bytes_of(canonical_tuple(tuple_of(1, "5.6.7.8", "1.2.3.4", 3, 1))), unreachable);
}

// ICMPv6 uses its own pairs: 135 pairs with 136 there, but not in ICMPv4.
TEST(FlowTupleTest, UsesIcmpV6PairsOnlyForProtocol58) {
  const CanonicalTuple v6 = canonical_tuple(tuple_of(58, "2001:db8::10", "2001:db8::1", 135, 0));
  EXPECT_EQ(v6.size, 16u + 16u + 2u + 4u);
  EXPECT_EQ(v6.bytes[32], 58);
  EXPECT_EQ(v6.bytes[15], 0x01);  // swapped: ::1 is the lower address
  EXPECT_EQ(v6.bytes[35], 136);   // (136, 135) after the swap
  EXPECT_EQ(v6.bytes[37], 135);

  const CanonicalTuple as_v4 = canonical_tuple(tuple_of(1, "2001:db8::10", "2001:db8::1", 135, 0));
  EXPECT_EQ(as_v4.bytes[15], 0x10);  // one-way in the ICMPv4 table: no swap
  EXPECT_EQ(as_v4.bytes[35], 135);
  EXPECT_EQ(as_v4.bytes[37], 0);
}

// Protocols without ports hash no port bytes.
TEST(FlowTupleTest, OmitsPortsForOtherProtocols) {
  EXPECT_EQ(canonical_tuple(tuple_of(47, "1.2.3.4", "5.6.7.8", 1, 2)).size, 4u + 4u + 2u);
  EXPECT_FALSE(protocol_has_ports(47));
  EXPECT_TRUE(protocol_has_ports(132));
}

// Members are found at the top level only, past strings with braces,
// escaped quotes and nested containers.
TEST(FlowTupleTest, FindsTopLevelMembersOnly) {
  const std::string text =
      R"({"a":{"saddr":"nested"}, "b" : "x\"}{,", "arr":[1,{"saddr":2}],"saddr" : "10.0.0.1" ,"n":-1.5e3})";
  const std::array<std::string_view, 3> names = {"saddr", "n", "missing"};
  std::array<MemberValue, 3> found{};
  ASSERT_TRUE(find_members(text, names, found));
  std::string scratch;
  ASSERT_TRUE(found[0].found);
  EXPECT_EQ(member_text(text, found[0], scratch), "10.0.0.1");
  ASSERT_TRUE(found[1].found);
  EXPECT_EQ(found[1].kind, ValueKind::Number);
  EXPECT_EQ(member_text(text, found[1], scratch), "-1.5e3");
  EXPECT_FALSE(found[2].found);
}

// Escapes in names and values are decoded before they are compared or used.
TEST(FlowTupleTest, DecodesEscapedNamesAndValues) {
  const std::string text = R"({"sa\u0064dr":"10.0.0.\u0031"})";
  const std::array<std::string_view, 1> names = {"saddr"};
  std::array<MemberValue, 1> found{};
  ASSERT_TRUE(find_members(text, names, found));
  ASSERT_TRUE(found[0].found);
  std::string scratch;
  EXPECT_EQ(member_text(text, found[0], scratch), "10.0.0.1");
}

// A name whose first byte is escaped still matches, although find_members
// skips names by their first byte.
TEST(FlowTupleTest, FindsNameWithEscapedFirstByte) {
  const std::string text = R"({"other":1,"\u0073addr":"10.0.0.1"})";
  const std::array<std::string_view, 1> names = {"saddr"};
  std::array<MemberValue, 1> found{};
  ASSERT_TRUE(find_members(text, names, found));
  ASSERT_TRUE(found[0].found);
  std::string scratch;
  EXPECT_EQ(member_text(text, found[0], scratch), "10.0.0.1");
}

// Text that is not a complete JSON object is reported, not read past its end.
TEST(FlowTupleTest, RejectsTextThatIsNotAnObject) {
  const std::array<std::string_view, 1> names = {"a"};
  std::array<MemberValue, 1> found{};
  for (const std::string_view text : {"[1]", "", "{\"a\":1", "{\"a\" 1}", "{\"a\":\"open}", "{\"a\":[1,2}"}) {
    EXPECT_FALSE(find_members(text, names, found)) << text;
  }
  EXPECT_TRUE(find_members(" {} ", names, found));
}

// A fingerprint replaces an existing member in place or is appended.
TEST(FlowTupleTest, WritesStringMemberInPlaceOrAtEnd) {
  const std::array<std::string_view, 1> names = {"aid"};
  std::string out;

  std::array<MemberValue, 1> found{};
  const std::string existing = R"({"aid": "", "b": 1})";
  ASSERT_TRUE(find_members(existing, names, found));
  write_with_string_member(existing, found[0], "\"aid\"", "2:x=", out);
  EXPECT_EQ(out, R"({"aid": "2:x=", "b": 1})");

  found = {};
  const std::string absent = "{\"b\": 1 }\n";
  ASSERT_TRUE(find_members(absent, names, found));
  write_with_string_member(absent, found[0], "\"aid\"", "2:x=", out);
  EXPECT_EQ(out, "{\"b\": 1,\"aid\":\"2:x=\" }\n");

  found = {};
  ASSERT_TRUE(find_members("{ }", names, found));
  write_with_string_member("{ }", found[0], "\"aid\"", "2:x=", out);
  EXPECT_EQ(out, R"({"aid":"2:x=" })");
}

}  // namespace
}  // namespace slipway::filters::flow
