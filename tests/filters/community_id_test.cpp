// Community ID v1: the specification's vectors, the ICMP and IPv6 field
// case from Zeek and Slips records, and the `community_id` filter.
#include "filters/community_id.hpp"

#include <fstream>
#include <optional>
#include <string>
#include <vector>

#include <fmt/format.h>
#include <gtest/gtest.h>

#include "engine/json.hpp"
#include "tests/filters/filter_test_support.hpp"
#include "tests/inputs/sqlite/sqlite_test_support.hpp"
#include "tests/support/temp_dir.hpp"

namespace slipway::filters {
namespace {

using filters::testing::RecordingContext;
using filters::testing::settings_from;

constexpr std::string_view kV6Low = "fe80:0001:0203:0405:0607:0809:0A0B:0C0D";
constexpr std::string_view kV6High = "fe80:1011:1213:1415:1617:1819:1A1B:1C1D";

struct CommunityIdVector {
  std::uint8_t protocol;
  std::string source;
  std::string destination;
  std::uint16_t source_port;
  std::uint16_t destination_port;
  std::string seed0;
  std::string seed1;
};

// The specification's baseline table, with seed 0 and seed 1.
const std::vector<CommunityIdVector> kSpecVectors = {
    {6, "1.2.3.4", "5.6.7.8", 1122, 3344, "1:wCb3OG7yAFWelaUydu0D+125CLM=", "1:HhA1B+6CoLbiKPEs5nhNYN4XWfk="},
    {6, "5.6.7.8", "1.2.3.4", 3344, 1122, "1:wCb3OG7yAFWelaUydu0D+125CLM=", "1:HhA1B+6CoLbiKPEs5nhNYN4XWfk="},
    {17, "1.2.3.4", "5.6.7.8", 1122, 3344, "1:0Mu9InQx6z4ZiCZM/7HXi2WMhOg=", "1:OShq+iKDAMVouh/4bMxB9Sz4amw="},
    {132, "1.2.3.4", "5.6.7.8", 1122, 3344, "1:EKt4MsxuyaE6mL+hmrEkQ9csDD8=", "1:uitchpn5MMGAQKBJh7bIr/bAr7s="},
    {1, "1.2.3.4", "5.6.7.8", 8, 0, "1:crodRHL2FEsHjbv3UkRrfbs4bZ0=", "1:9pr4ZGTICiuZoIh90RRYE2RyXpU="},
    {1, "5.6.7.8", "1.2.3.4", 0, 0, "1:crodRHL2FEsHjbv3UkRrfbs4bZ0=", "1:9pr4ZGTICiuZoIh90RRYE2RyXpU="},
    {1, "1.2.3.4", "5.6.7.8", 11, 0, "1:f/YiSyWqczrTgfUCZlBUnvHRcPk=", "1:1DD7cWGC/Yg91YGsQeni8du3pIA="},
    {58, std::string(kV6Low), std::string(kV6High), 128, 0, "1:0bf7hyMJUwt3fMED7z8LIfRpBeo=",
     "1:IO27GQzPuCtNnwFvjWALMHu5tJE="},
    {58, std::string(kV6High), std::string(kV6Low), 129, 0, "1:0bf7hyMJUwt3fMED7z8LIfRpBeo=",
     "1:IO27GQzPuCtNnwFvjWALMHu5tJE="},
    {58, std::string(kV6Low), std::string(kV6High), 146, 0, "1:fYC8+pz24E+EhANP1EZhpX0Dw10=",
     "1:Cv4IKJe56BNkF0MBW2YxQ3Nwc3s="},
    {46, "1.2.3.4", "5.6.7.8", 0, 0, "1:ikv3kmf89luf73WPz1jOs49S768=", "1:/buhqeOmaRCopOZFy9HnoJd5XW8="},
    {46, std::string(kV6Low), std::string(kV6High), 0, 0, "1:wQ/2mwrnXP4lmJcHdGL5ePjR+e0=",
     "1:j6EyyfBzL4vWKHFXgUqb5Az3OxM="},
};

struct PcapVector {
  std::uint8_t protocol;
  std::string source;
  std::string destination;
  std::uint16_t source_port;
  std::uint16_t destination_port;
  std::string seed0;
};

// Vectors the specification derives from its sample captures.
const std::vector<PcapVector> kPcapVectors = {
    {6, "128.232.110.120", "66.35.250.204", 34855, 80, "1:LQU9qZlK+B5F3KDmev6m5PMibrg="},
    {17, "192.168.1.52", "8.8.8.8", 54585, 53, "1:d/FP5EW3wiY1vCndhwleRRKHowQ="},
    {6, "2001:470:e5bf:dead:4957:2174:e82c:4887", "2607:f8b0:400c:c03::1a", 63943, 25,
     "1:/qFaeAR+gFe1KYjMzVDsMv+wgU4="},
    {1, "192.168.0.89", "192.168.0.1", 8, 0, "1:X0snYXpgwiv9TZtqg64sgzUn6Dk="},
    {132, "192.168.170.8", "192.168.170.56", 7, 7, "1:MP2EtRCAUIZvTw6MxJHLV7N7JDs="},
    {46, "10.1.12.1", "10.1.12.2", 0, 0, "1:KHlLkgoJW7ifUTyTSgyVfkFHzKw="},
};

std::string community_id_of(std::uint8_t protocol, const std::string& source, const std::string& destination,
                            std::uint16_t source_port, std::uint16_t destination_port, std::uint16_t seed = 0,
                            bool base64 = true) {
  flow::FlowTuple tuple;
  tuple.source = flow::parse_ip_address(source).value();
  tuple.destination = flow::parse_ip_address(destination).value();
  tuple.protocol = protocol;
  tuple.source_port = source_port;
  tuple.destination_port = destination_port;
  flow::FlowHasher hasher;
  std::string out;
  EXPECT_TRUE(flow::compute_community_id(hasher, tuple, seed, base64, out));
  return out;
}

std::vector<std::string> read_lines(const std::filesystem::path& path) {
  std::vector<std::string> lines;
  std::ifstream stream(path);
  for (std::string line; std::getline(stream, line);) {
    if (!line.empty()) {
      lines.push_back(line);
    }
  }
  return lines;
}

std::string string_member(const std::string& event, const std::string& name) {
  json::ParseResult parsed = json::parse(event);
  const json::Value* value = parsed.value ? parsed.value->find(name) : nullptr;
  return value != nullptr && value->is_string() ? value->as_string() : std::string("<absent>");
}

class CommunityIdFilterTest : public ::testing::Test {
 protected:
  std::unique_ptr<CommunityIdFilter> make(const std::string& yaml) {
    config::Errors errors;
    settings_ = std::make_unique<filters::testing::TestSettings>(settings_from(
        CommunityIdFilterConfig::kSchema, yaml.empty() ? "{}" : yaml, "filter \"cid\" (community_id)", errors));
    EXPECT_FALSE(errors.has_errors()) << errors.format();
    return std::make_unique<CommunityIdFilter>(CommunityIdFilterConfig::parse(settings_->section, errors));
  }

  // The field each event has after the filter, in order ("<absent>" when missing).
  std::vector<std::string> field_after(CommunityIdFilter& filter, const std::vector<std::string>& events,
                                       const std::string& field = "community_id") {
    RecordingContext context;
    filter.process(filters::testing::batch_of(events), context);
    std::vector<std::string> values;
    for (const std::string& event : context.events()) {
      values.push_back(string_member(event, field));
    }
    return values;
  }

  std::unique_ptr<filters::testing::TestSettings> settings_;
};

// The Community ID field case: the right ID of each of the 13 flows, the
// same from Zeek and from Slips records.
const std::vector<std::string> kCase024Ids = {
    "1:lDIsanJTXFqQC2gXEn1021E3VLs=", "1:lDIsanJTXFqQC2gXEn1021E3VLs=", "1:lDIsanJTXFqQC2gXEn1021E3VLs=",
    "1:jmntg8LFEEaghy+eYqJ7KugCPJM=", "1:kJP941FpZUgBnMTPeXDec/dQsNI=", "1:kJP941FpZUgBnMTPeXDec/dQsNI=",
    "1:bpjCe+PDsfqwa7AQNhbGO07IEQ8=", "1:noQoIdTZUyGkl0zKFUF+xvnCjYQ=", "1:ESQBBtDyikE/42yCeuEDvyCcdDo=",
    "1:npDMros1iCsMaScDT9tCvY4pFAs=", "1:npDMros1iCsMaScDT9tCvY4pFAs=", "1:bktwipDoAI63ny9QuqNbfWppMps=",
    "1:As6eVbuDDdzrcZ1A+m/aWUbzoow=",
};

// Every row of the specification's baseline table, with seed 0 and seed 1.
TEST(CommunityIdTest, MatchesSpecificationBaseline) {
  for (const CommunityIdVector& vector : kSpecVectors) {
    EXPECT_EQ(community_id_of(vector.protocol, vector.source, vector.destination, vector.source_port,
                              vector.destination_port, 0),
              vector.seed0)
        << int{vector.protocol} << " " << vector.source << " -> " << vector.destination;
    EXPECT_EQ(community_id_of(vector.protocol, vector.source, vector.destination, vector.source_port,
                              vector.destination_port, 1),
              vector.seed1)
        << int{vector.protocol} << " " << vector.source << " -> " << vector.destination << " seed 1";
  }
}

// The hex form of the specification's first TCP vector.
TEST(CommunityIdTest, WritesHexWhenBase64IsOff) {
  EXPECT_EQ(community_id_of(6, "1.2.3.4", "5.6.7.8", 1122, 3344, 0, false),
            "1:c026f7386ef200559e95a53276ed03fb5db908b3");
}

// The vectors the specification derives from its sample captures.
TEST(CommunityIdTest, MatchesCaptureVectors) {
  for (const PcapVector& vector : kPcapVectors) {
    EXPECT_EQ(community_id_of(vector.protocol, vector.source, vector.destination, vector.source_port,
                              vector.destination_port),
              vector.seed0)
        << int{vector.protocol} << " " << vector.source << " -> " << vector.destination;
  }
}

// One-way ICMP messages keep their direction, so the two directions of a
// destination-unreachable pair get different IDs.
TEST(CommunityIdTest, KeepsDirectionOfOneWayIcmp) {
  const std::string forward = community_id_of(1, "203.0.113.5", "192.0.2.10", 3, 3);
  const std::string backward = community_id_of(1, "192.0.2.10", "203.0.113.5", 3, 3);
  EXPECT_EQ(forward, "1:bpjCe+PDsfqwa7AQNhbGO07IEQ8=");
  EXPECT_EQ(backward, "1:noQoIdTZUyGkl0zKFUF+xvnCjYQ=");
}

// Zeek conn records of the field case: ICMP over IPv6 is ICMPv6, one-way
// ICMP keeps its direction, and a protocol without ports hashes none.
TEST_F(CommunityIdFilterTest, MatchesFieldCaseFromZeekRecords) {
  const auto path = slipway::testing::shared_path("cases/024-community-id-icmp-ipv6/zeek-conn.jsonl");
  if (path.empty()) {
    GTEST_SKIP() << "the Community ID field case (cases/024-community-id-icmp-ipv6) is not in the shared tree";
  }
  auto filter = make("");
  EXPECT_EQ(field_after(*filter, read_lines(path)), kCase024Ids);
  EXPECT_EQ(filter->hashed_events(), 13u);
}

// Slips records of the same flows give the same IDs, except the last: Slips
// keeps only Zeek's protocol name "unknown_transport", which names no
// protocol, so that event passes on without an ID.
TEST_F(CommunityIdFilterTest, MatchesFieldCaseFromSlipsRecords) {
  const auto path = slipway::testing::shared_path("cases/024-community-id-icmp-ipv6/slips-flows.jsonl");
  if (path.empty()) {
    GTEST_SKIP() << "the Community ID field case (cases/024-community-id-icmp-ipv6) is not in the shared tree";
  }
  auto filter = make("");
  std::vector<std::string> expected(kCase024Ids.begin(), kCase024Ids.end() - 1);
  expected.push_back("<absent>");
  EXPECT_EQ(field_after(*filter, read_lines(path)), expected);
  EXPECT_EQ(filter->hashed_events(), 12u);
  EXPECT_EQ(filter->skipped_events(flow::ReadError::UnknownProtocol), 1u);
}

// Hashing ICMP over IPv6 as protocol 1, or two zero ports for a protocol
// without ports, gives the wrong IDs the field case warns about.
TEST(CommunityIdTest, DiffersFromKnownWrongValues) {
  EXPECT_EQ(community_id_of(1, "2001:db8::10", "2001:db8::1", 135, 136), "1:6y0UYDIJJWd1CA73V5bKhmZQ5M8=");
  EXPECT_NE(community_id_of(58, "2001:db8::10", "2001:db8::1", 135, 136), "1:6y0UYDIJJWd1CA73V5bKhmZQ5M8=");
  EXPECT_EQ(community_id_of(47, "192.0.2.10", "198.51.100.20", 0, 0), "1:As6eVbuDDdzrcZ1A+m/aWUbzoow=");
}

// The seed is read from the configuration and hashed.
TEST_F(CommunityIdFilterTest, UsesConfiguredSeed) {
  auto filter = make("seed: 1");
  EXPECT_EQ(field_after(*filter, {R"({"id.orig_h":"2001:db8::10","id.orig_p":51515,"id.resp_h":"2001:db8:ffff::443",)"
                                  R"("id.resp_p":443,"proto":"tcp"})"}),
            std::vector<std::string>{"1:c1VhQbwHo6dbVCNHCeaNUzLWwDQ="});
}

// The Slips-compatible mode hashes "icmp" with IPv6 addresses as protocol 1,
// as Slips stored it in the community_id column.
TEST_F(CommunityIdFilterTest, HashesIcmpOverIpv6ByMode) {
  const std::string event =
      R"({"saddr":"::","daddr":"ff02::1:ff8e:c3d1","proto":"icmp","sport":135,"dport":136})";
  auto spec = make("");
  EXPECT_EQ(field_after(*spec, {event}), std::vector<std::string>{"1:Sgdro0vlJ6m+JCrbkzfRP5mUTqo="});
  auto compatible = make("slips_compatible: true");
  EXPECT_EQ(field_after(*compatible, {event}), std::vector<std::string>{"1:1cxuJSjk4QmEBNkHro70q4GUQ+Y="});
}

// Field paths can be set one by one, and a path below the top level is
// read when no member carries its literal name.
TEST_F(CommunityIdFilterTest, ReadsConfiguredAndNestedPaths) {
  auto filter = make(R"(
field: flow.cid
source_address_field: src.ip
destination_address_field: dst.ip
source_port_field: src.port
destination_port_field: dst.port
protocol_field: transport
)");
  const std::vector<std::string> values = field_after(
      *filter,
      {R"({"src":{"ip":"1.2.3.4","port":1122},"dst":{"ip":"5.6.7.8","port":3344},"transport":"TCP"})"},
      "flow.cid");
  EXPECT_EQ(values, std::vector<std::string>{"1:wCb3OG7yAFWelaUydu0D+125CLM="});
}

// Zeek's numeric ip_proto decides the protocol when present; the
// Slips-compatible mode ignores it, as Slips does.
TEST_F(CommunityIdFilterTest, PrefersIpProtoUnlessSlipsCompatible) {
  const std::string event =
      R"({"id.orig_h":"192.0.2.10","id.orig_p":0,"id.resp_h":"198.51.100.20","id.resp_p":0,)"
      R"("proto":"unknown_transport","ip_proto":47})";
  auto spec = make("");
  EXPECT_EQ(field_after(*spec, {event}), std::vector<std::string>{"1:As6eVbuDDdzrcZ1A+m/aWUbzoow="});
  auto compatible = make("slips_compatible: true");
  EXPECT_EQ(field_after(*compatible, {event}), std::vector<std::string>{"<absent>"});
}

// Every flows row of a real Slips database is read by the sqlite input. The
// stored community_id of the 368 tcp, udp and ICMPv4 rows is the
// specification's value. Slips hashed the 6 ICMPv6 rows as protocol 1, so
// they match only in the Slips-compatible mode.
TEST_F(CommunityIdFilterTest, ReproducesSlipsDatabaseValues) {
  const auto fixture = slipway::testing::shared_path("fixtures/slips/flows-test7.sqlite");
  if (fixture.empty()) {
    GTEST_SKIP() << "the Slips flows database fixture (fixtures/slips/flows-test7.sqlite) is absent";
  }
  slipway::testing::TempDir dir;
  std::filesystem::copy_file(fixture, dir / "flows.sqlite");
  const std::vector<Event> rows = inputs::sqlite_testing::read_to_end(dir / "flows.sqlite", "tables: [flows]", dir.path());
  ASSERT_EQ(rows.size(), 374u);
  std::vector<std::string> texts;
  for (const Event& row : rows) {
    texts.push_back(row.json);
  }

  for (const bool slips_compatible : {false, true}) {
    auto filter = make(fmt::format("field: computed\nslips_compatible: {}", slips_compatible));
    RecordingContext context;
    filter->process(filters::testing::batch_of(texts), context);
    const std::vector<std::string> events = context.events();
    ASSERT_EQ(events.size(), rows.size());

    std::size_t matched = 0;
    std::size_t icmpv6_rows = 0;
    for (const std::string& event : events) {
      const bool icmpv6 = string_member(event, "proto") == "icmp" &&
                          string_member(event, "saddr").find(':') != std::string::npos;
      icmpv6_rows += icmpv6 ? 1 : 0;
      const bool match = string_member(event, "computed") == string_member(event, "community_id");
      matched += match ? 1 : 0;
      EXPECT_TRUE(match || (icmpv6 && !slips_compatible)) << event;
    }
    EXPECT_EQ(icmpv6_rows, 6u);
    EXPECT_EQ(matched, slips_compatible ? 374u : 368u) << "slips_compatible=" << slips_compatible;
  }
}

}  // namespace
}  // namespace slipway::filters
