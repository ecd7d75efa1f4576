// AID v2: the published aid_hash vectors, Slips' own values, and the `aid`
// filter reading Slips flows and Zeek conn records.
#include "filters/aid.hpp"

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

flow::FlowTuple tuple_of(std::uint8_t protocol, const std::string& source, const std::string& destination,
                         std::uint16_t source_port = 0, std::uint16_t destination_port = 0) {
  flow::FlowTuple tuple;
  tuple.source = flow::parse_ip_address(source).value();
  tuple.destination = flow::parse_ip_address(destination).value();
  tuple.protocol = protocol;
  tuple.source_port = source_port;
  tuple.destination_port = destination_port;
  return tuple;
}

struct AidVector {
  std::uint8_t protocol;
  std::string time;  // as aid_hash receives it
  std::string source;
  std::string destination;
  std::uint16_t source_port;
  std::uint16_t destination_port;
  std::string base64;       // seed 0
  std::string hex;          // seed 0
  std::string base64_seed1;
};

// The aid_hash 1.1 test suite: every row in base64, hex and with seed 1.
const std::vector<AidVector> kLibraryVectors = {
    {1, "14234568.125489", "192.168.0.89", "192.168.0.1", 8, 0, "2:cm8+zVFOJ2b9ropzTEn4ugg4n5E=",
     "2:726f3ecd514e2766fdae8a734c49f8ba08389f91", "2:glOZwPuOQH7UeZrYwbkxRSPrQ7A="},
    {1, "14234568.125489", "192.168.0.1", "192.168.0.89", 0, 8, "2:cm8+zVFOJ2b9ropzTEn4ugg4n5E=",
     "2:726f3ecd514e2766fdae8a734c49f8ba08389f91", "2:glOZwPuOQH7UeZrYwbkxRSPrQ7A="},
    {1, "14234568.125489", "192.168.0.89", "192.168.0.1", 20, 0, "2:F6i0vCAMWZ3/7vfRWjguh+U+mBc=",
     "2:17a8b4bc200c599dffeef7d15a382e87e53e9817", "2:CF2kexupPNXSMIuECZUn28smQbY="},
    {1, "14234568.125489", "192.168.0.89", "192.168.0.1", 20, 1, "2:q7o0rNRuJDJoCb/DCbT3h848Xp0=",
     "2:abba34acd46e24326809bfc309b4f787ce3c5e9d", "2:oydrqNjjYKjRj7j9VXkXrR7WASs="},
    {1, "14234568.125489", "192.168.0.1", "192.168.0.89", 0, 20, "2:cm8+zVFOJ2b9ropzTEn4ugg4n5E=",
     "2:726f3ecd514e2766fdae8a734c49f8ba08389f91", "2:glOZwPuOQH7UeZrYwbkxRSPrQ7A="},
    {58, "14.125489", "fe80::200:86ff:fe05:80da", "fe80::260:97ff:fe07:69ea", 135, 0,
     "2:G52qOZ/Xl1IQatX7QFj1xiF9zu0=", "2:1b9daa399fd79752106ad5fb4058f5c6217dceed", "2:TR3VmEV+YrJoSxUp91WrSBvp+94="},
    {58, "14.125489", "fe80::260:97ff:fe07:69ea", "fe80::200:86ff:fe05:80da", 136, 0,
     "2:G52qOZ/Xl1IQatX7QFj1xiF9zu0=", "2:1b9daa399fd79752106ad5fb4058f5c6217dceed", "2:TR3VmEV+YrJoSxUp91WrSBvp+94="},
    {58, "14.125489", "3ffe:507:0:1:260:97ff:fe07:69ea", "3ffe:507:0:1:200:86ff:fe05:80da", 3, 0,
     "2:RMrI795nS5JuNlQg09BReQ83tOM=", "2:44cac8efde674b926e365420d3d051790f37b4e3", "2:zVGE0p0rqzfBh60XCsEj7Esunus="},
    {58, "14.125489", "3ffe:507:0:1:200:86ff:fe05:80da", "3ffe:507:0:1:260:97ff:fe07:69ea", 3, 0,
     "2:q/0YO81FIf88HRBiEggjZt10f9w=", "2:abfd183bcd4521ff3c1d106212082366dd747fdc", "2:vZvndwCMoeqoaPkyOrcphZ9SxCM="},
    {132, "14.125489", "192.168.170.8", "192.168.170.56", 7, 80, "2:RiAuFagiMtzFGK9YcfeuvUui8Rc=",
     "2:46202e15a82232dcc518af5871f7aebd4ba2f117", "2:F+w4BmjStIy6NBS5KU50q56KjS0="},
    {132, "14.125489", "192.168.170.56", "192.168.170.8", 80, 7, "2:RiAuFagiMtzFGK9YcfeuvUui8Rc=",
     "2:46202e15a82232dcc518af5871f7aebd4ba2f117", "2:F+w4BmjStIy6NBS5KU50q56KjS0="},
    {6, "14.125489", "128.232.110.120", "66.35.250.204", 34855, 80, "2:HWVGag5ileXtZaijMED7wFK2Wnw=",
     "2:1d65466a0e6295e5ed65a8a33040fbc052b65a7c", "2:UlZmMdor6J1xeG2ufTBCLvORHWk="},
    {6, "14.125489", "66.35.250.204", "128.232.110.120", 80, 34855, "2:HWVGag5ileXtZaijMED7wFK2Wnw=",
     "2:1d65466a0e6295e5ed65a8a33040fbc052b65a7c", "2:UlZmMdor6J1xeG2ufTBCLvORHWk="},
    {6, "142548.12", "10.0.0.1", "10.0.0.2", 10, 11569, "2:NGw+yq/J+dtY5lWAXVjAOPhiZDk=",
     "2:346c3ecaafc9f9db58e655805d58c038f8626439", "2:DpBjUG3upN0w1n4I6uOqY3r9sf8="},
    {17, "1601998366.806331", "192.168.1.52", "8.8.8.8", 54585, 53, "2:rEQ2fCKqQlrXOHmljIGNL0W7mes=",
     "2:ac44367c22aa425ad73879a58c818d2f45bb99eb", "2:Wv56hNj9UvXtDVsCe3UwB0+nGNM="},
    {17, "14.125489", "8.8.8.8", "192.168.1.52", 53, 54585, "2:MFrVR5TU1GlRA1eJE/RpqFNCPd0=",
     "2:305ad54794d4d4695103578913f469a853423ddd", "2:UfdfqxbJ/Y2j+QW7x0yzQbwHTno="},
    {46, "1601998366.806331", "10.1.24.4", "10.1.12.1", 0, 0, "2:f/jCaTaql4i2dkiYbPbpRQA5lWg=",
     "2:7ff8c26936aa9788b67648986cf6e94500399568", "2:QM69eDk9KKO7pt4fCHRR3WoQ5Ds="},
    {46, "160166.806", "10.1.12.1", "10.1.24.4", 0, 0, "2:QszWW4WqKjNZRMQ6ZdzYHYwTi84=",
     "2:42ccd65b85aa2a335944c43a65dcd81d8c138bce", "2:lDb1HTeX/VTrraT295C2ZD/hTv8="},
};

std::string aid_of(const AidVector& vector, std::uint16_t seed, bool base64) {
  flow::FlowHasher hasher;
  std::string out;
  const std::optional<std::uint64_t> time = flow::aid_time_from_text(vector.time);
  EXPECT_TRUE(time.has_value()) << vector.time;
  EXPECT_TRUE(flow::compute_aid(hasher,
                                tuple_of(vector.protocol, vector.source, vector.destination, vector.source_port,
                                         vector.destination_port),
                                time.value_or(0), seed, base64, out));
  return out;
}

class AidFilterTest : public ::testing::Test {
 protected:
  std::unique_ptr<AidFilter> make(const std::string& yaml) {
    config::Errors errors;
    settings_ = std::make_unique<filters::testing::TestSettings>(
        settings_from(AidFilterConfig::kSchema, yaml.empty() ? "{}" : yaml, "filter \"aid\" (aid)", errors));
    EXPECT_FALSE(errors.has_errors()) << errors.format();
    return std::make_unique<AidFilter>(AidFilterConfig::parse(settings_->section, errors));
  }

  // The value the filter wrote into `field` of the single event, or nullopt when absent.
  std::optional<std::string> field_after(AidFilter& filter, const std::string& event,
                                         const std::string& field = "aid") {
    RecordingContext context;
    filter.process(filters::testing::batch_of({event}), context);
    const std::vector<std::string> events = context.events();
    EXPECT_EQ(events.size(), 1u);
    if (events.empty()) {
      return std::nullopt;
    }
    json::ParseResult parsed = json::parse(events.front());
    EXPECT_TRUE(parsed.value.has_value()) << events.front();
    const json::Value* value = parsed.value ? parsed.value->find(field) : nullptr;
    if (value == nullptr || !value->is_string()) {
      return std::nullopt;
    }
    return value->as_string();
  }

  std::unique_ptr<filters::testing::TestSettings> settings_;
};

// Every aid_hash suite row gives the published base64 AID.
TEST(AidTest, MatchesLibraryVectorsInBase64) {
  for (const AidVector& vector : kLibraryVectors) {
    EXPECT_EQ(aid_of(vector, 0, true), vector.base64) << vector.source << " -> " << vector.destination;
  }
}

// Every aid_hash suite row gives the published hex AID when base64 is off.
TEST(AidTest, MatchesLibraryVectorsInHex) {
  for (const AidVector& vector : kLibraryVectors) {
    EXPECT_EQ(aid_of(vector, 0, false), vector.hex) << vector.source << " -> " << vector.destination;
  }
}

// Every aid_hash suite row gives the published AID with seed 1.
TEST(AidTest, MatchesLibraryVectorsWithSeedOne) {
  for (const AidVector& vector : kLibraryVectors) {
    EXPECT_EQ(aid_of(vector, 1, true), vector.base64_seed1) << vector.source << " -> " << vector.destination;
  }
}

// The aid_hash README example, whose hashed bytes are spelled out byte by byte.
TEST(AidTest, MatchesReadmeExample) {
  const AidVector readme{6, "14.125487", "127.0.0.1", "10.0.0.1", 1234, 80, "", "", ""};
  EXPECT_EQ(aid_of(readme, 0, true), "2:7RJA0SqvF3nbfatPoP1dkZnVvWw=");
}

// aid_hash deletes the dot of the time text, so digits concatenate rather than scale.
TEST(AidTest, ReadsTimeTextAsConcatenatedDigits) {
  EXPECT_EQ(flow::aid_time_from_text("14.125489"), 14125489u);
  EXPECT_EQ(flow::aid_time_from_text("142548.12"), 14254812u);
  EXPECT_EQ(flow::aid_time_from_text("1680971400.000000"), 1680971400000000u);
  EXPECT_FALSE(flow::aid_time_from_text("1680971400").has_value());
  EXPECT_FALSE(flow::aid_time_from_text("-1.5").has_value());
  EXPECT_FALSE(flow::aid_time_from_text("1.2.3").has_value());
  EXPECT_FALSE(flow::aid_time_from_text("99999999999999999999.9").has_value());
}

// Slips formats the float start time as Python prints it and pads the
// fraction to six digits; longer fractions keep all their digits.
TEST(AidTest, FormatsSlipsTimeLikePython) {
  EXPECT_EQ(flow::slips_aid_time(1680971400.0), 1680971400000000u);
  EXPECT_EQ(flow::slips_aid_time(1680807896.789), 1680807896789000u);
  EXPECT_EQ(flow::slips_aid_time(1520628557.51993), 1520628557519930u);
  EXPECT_EQ(flow::slips_aid_time(14.1254875), 141254875u);
  EXPECT_EQ(flow::slips_aid_time(0.0), 0u);
  EXPECT_FALSE(flow::slips_aid_time(-1.0).has_value());
  EXPECT_FALSE(flow::slips_aid_time(1e16).has_value());
  EXPECT_FALSE(flow::slips_aid_time(0.00001).has_value());
}

// Slips' unit test: ISO start times become epoch floats before hashing.
TEST_F(AidFilterTest, MatchesSlipsUnitTestValues) {
  struct Case {
    std::string proto, starttime, saddr, daddr;
    int sport, dport;
    std::string aid;
  };
  const std::vector<Case> cases = {
      {"tcp", "2023-04-06T19:04:56.789+00:00", "192.168.1.1", "192.168.1.2", 12345, 80,
       "2:QvutQFnBACLoMzzMRnfCDeD9p2Q="},
      {"udp", "2023-04-07T10:15:20.123+00:00", "10.0.0.1", "8.8.8.8", 53, 53, "2:oEZri3S+HOEAIC9NpaI+YymWO5g="},
      {"icmp", "2023-04-08T16:30:00.000+00:00", "172.16.1.100", "172.16.1.1", 8, 0,
       "2:XVH75J7X132sIZ4YUqF1bvnwsAg="},
  };
  for (const bool slips_compatible : {false, true}) {
    auto filter = make(fmt::format("slips_compatible: {}", slips_compatible));
    for (const Case& flow_case : cases) {
      const std::string event =
          fmt::format(R"({{"starttime":"{}","saddr":"{}","daddr":"{}","proto":"{}","sport":{},"dport":{}}})",
                      flow_case.starttime, flow_case.saddr, flow_case.daddr, flow_case.proto, flow_case.sport,
                      flow_case.dport);
      EXPECT_EQ(field_after(*filter, event), flow_case.aid) << event << " slips_compatible=" << slips_compatible;
    }
  }
}

// Values computed with Slips' rules from real Slips test data, read as Zeek
// conn records (the first one) and as Slips flows (the other two).
TEST_F(AidFilterTest, MatchesValuesFromSlipsTestData) {
  auto filter = make("");
  EXPECT_EQ(field_after(*filter,
                        R"({"ts":1677024003.714845,"uid":"C6SgKom3WB2KEL2ae","id.orig_h":"192.168.1.107",)"
                        R"("id.orig_p":65164,"id.resp_h":"66.63.168.35","id.resp_p":5888,"proto":"tcp"})"),
            "2:e8dvyLklKok9UtBWeD13nz4KFaA=");
  EXPECT_EQ(field_after(*filter,
                        R"({"starttime":1601998366.785668,"saddr":"2001:718:2:1663:dc58:6d9:ef13:51a5",)"
                        R"("daddr":"2001:718:2:1611:0:1:0:90","proto":"udp","sport":54170,"dport":53})"),
            "2:1GTslQklqMyGvOwMRxcr7TdznXs=");
  EXPECT_EQ(field_after(*filter,
                        R"({"starttime":1601998368.999581,"saddr":"147.32.83.174","daddr":"224.0.0.251",)"
                        R"("proto":"udp","sport":5353,"dport":5353})"),
            "2:WeB4H/sknsMpBt1KPHs5qjpdks0=");
}

// Seed, hex output and the target field are configurable.
TEST_F(AidFilterTest, AppliesSeedEncodingAndField) {
  const std::string event =
      R"({"starttime":14.125489,"saddr":"128.232.110.120","daddr":"66.35.250.204","proto":"tcp","sport":34855,)"
      R"("dport":80})";
  auto seeded = make("seed: 1\nfield: flow_aid");
  EXPECT_EQ(field_after(*seeded, event, "flow_aid"), "2:UlZmMdor6J1xeG2ufTBCLvORHWk=");
  auto hex = make("base64: false");
  EXPECT_EQ(field_after(*hex, event), "2:1d65466a0e6295e5ed65a8a33040fbc052b65a7c");
}

// By the specification, Zeek's "icmp" with IPv6 addresses is ICMPv6 (58);
// Slips hashes it as protocol 1, and only the compatible mode does the same.
TEST_F(AidFilterTest, HashesIcmpOverIpv6ByMode) {
  const std::string event =
      R"({"starttime":14.125489,"saddr":"fe80::200:86ff:fe05:80da","daddr":"fe80::260:97ff:fe07:69ea",)"
      R"("proto":"icmp","sport":135,"dport":136})";
  auto spec = make("");
  EXPECT_EQ(field_after(*spec, event), "2:G52qOZ/Xl1IQatX7QFj1xiF9zu0=");

  auto compatible = make("slips_compatible: true");
  flow::FlowHasher hasher;
  std::string as_protocol_one;
  ASSERT_TRUE(flow::compute_aid(hasher, tuple_of(1, "fe80::200:86ff:fe05:80da", "fe80::260:97ff:fe07:69ea", 135, 136),
                                14125489, 0, true, as_protocol_one));
  EXPECT_EQ(field_after(*compatible, event), as_protocol_one);
  EXPECT_NE(as_protocol_one, "2:G52qOZ/Xl1IQatX7QFj1xiF9zu0=");
}

// Slips turns any hexadecimal port string into 8; by the specification the
// hexadecimal value counts.
TEST_F(AidFilterTest, ReadsHexPortsByMode) {
  const std::string event =
      R"({"starttime":14234568.125489,"saddr":"192.168.0.89","daddr":"192.168.0.1","proto":"icmp",)"
      R"("sport":"0x0014","dport":"0x0000"})";
  auto spec = make("");
  EXPECT_EQ(field_after(*spec, event), "2:F6i0vCAMWZ3/7vfRWjguh+U+mBc=");  // type 20
  auto compatible = make("slips_compatible: true");
  EXPECT_EQ(field_after(*compatible, event), "2:cm8+zVFOJ2b9ropzTEn4ugg4n5E=");  // type 8
}

// Slips hashes only tcp, udp and icmp; the specification hashes any protocol.
TEST_F(AidFilterTest, HashesOtherProtocolsOnlyBySpecification) {
  const std::string event =
      R"({"starttime":1601998366.806331,"saddr":"10.1.24.4","daddr":"10.1.12.1","proto":"rsvp"})";
  auto spec = make("");
  EXPECT_EQ(field_after(*spec, event), "2:f/jCaTaql4i2dkiYbPbpRQA5lWg=");
  auto compatible = make("slips_compatible: true");
  EXPECT_EQ(field_after(*compatible, event), std::nullopt);
  EXPECT_EQ(compatible->skipped_events(flow::ReadError::UnhashedProtocol), 1u);
}

// Beyond six fractional digits Slips keeps every digit, while the
// specification mode hashes whole microseconds.
TEST_F(AidFilterTest, HashesLongFractionsByMode) {
  const std::string event =
      R"({"starttime":14.1254891,"saddr":"128.232.110.120","daddr":"66.35.250.204","proto":"tcp","sport":34855,)"
      R"("dport":80})";
  auto spec = make("");
  EXPECT_EQ(field_after(*spec, event), "2:HWVGag5ileXtZaijMED7wFK2Wnw=");  // as 14.125489
  auto compatible = make("slips_compatible: true");
  const std::optional<std::string> slips_value = field_after(*compatible, event);
  flow::FlowHasher hasher;
  std::string expected;
  ASSERT_TRUE(flow::compute_aid(hasher, tuple_of(6, "128.232.110.120", "66.35.250.204", 34855, 80), 141254891, 0,
                                true, expected));
  EXPECT_EQ(slips_value, expected);
}

// An event without a readable tuple passes on byte for byte and is counted.
TEST_F(AidFilterTest, PassesUnreadableEventsUnchanged) {
  auto filter = make("");
  RecordingContext context;
  const std::vector<std::string> events = {
      R"({"starttime":1.5,"saddr":"10.0.0.1","daddr":"10.0.0.2","query":"example.com","type_":"dns"})",
      R"({"starttime":1.5,"saddr":"10.0.0.1","daddr":"not an address","proto":"tcp","sport":1,"dport":2})",
      R"({"starttime":1.5,"saddr":"10.0.0.1","daddr":"::1","proto":"tcp","sport":1,"dport":2})",
      R"({"starttime":1.5,"saddr":"10.0.0.1","daddr":"10.0.0.2","proto":"tcp","sport":1,"dport":70000})",
      R"({"starttime":-1.5,"saddr":"10.0.0.1","daddr":"10.0.0.2","proto":"tcp","sport":1,"dport":2})",
      R"({"starttime":1.5,"saddr":"10.0.0.1","daddr":"10.0.0.2","proto":"unknown_transport"})",
  };
  filter->process(filters::testing::batch_of(events), context);

  EXPECT_EQ(context.events(), events);
  EXPECT_EQ(context.forwarded_batches, 1u);
  EXPECT_EQ(filter->hashed_events(), 0u);
  EXPECT_EQ(filter->skipped_events(flow::ReadError::MissingField), 1u);
  EXPECT_EQ(filter->skipped_events(flow::ReadError::InvalidAddress), 1u);
  EXPECT_EQ(filter->skipped_events(flow::ReadError::MixedAddressFamilies), 1u);
  EXPECT_EQ(filter->skipped_events(flow::ReadError::InvalidPort), 1u);
  EXPECT_EQ(filter->skipped_events(flow::ReadError::InvalidTime), 1u);
  EXPECT_EQ(filter->skipped_events(flow::ReadError::UnknownProtocol), 1u);
}

// A batch mixing flows and other records keeps every event, in order, and
// the acknowledgements of the input batch.
TEST_F(AidFilterTest, KeepsOrderAndAcknowledgementsOfMixedBatch) {
  auto filter = make("");
  RecordingContext context;
  auto tracker = std::make_shared<AckTracker>([](const std::vector<CheckpointEntry>&) {});
  const AckRef ack = tracker->track(CheckpointEntry{"k", "v"});
  const std::string dns = R"({"saddr":"10.0.0.1","type_":"dns"})";
  const std::string conn =
      R"({"starttime":14.125489,"saddr":"128.232.110.120","daddr":"66.35.250.204","proto":"tcp","sport":34855,)"
      R"("dport":80,"aid":""})";
  filter->process(filters::testing::batch_of({dns, conn, dns}, {ack}), context);

  const std::vector<std::string> events = context.events();
  ASSERT_EQ(events.size(), 3u);
  EXPECT_EQ(events[0], dns);
  EXPECT_EQ(events[1],
            R"({"starttime":14.125489,"saddr":"128.232.110.120","daddr":"66.35.250.204","proto":"tcp","sport":34855,)"
            R"("dport":80,"aid":"2:HWVGag5ileXtZaijMED7wFK2Wnw="})");
  EXPECT_EQ(events[2], dns);
  ASSERT_EQ(context.batches[""].size(), 1u);
  ASSERT_EQ(context.batches[""].front()->acks.size(), 1u);
  EXPECT_EQ(context.batches[""].front()->acks.front(), ack);
}

// A seed outside 16 bits is rejected when the configuration loads.
TEST_F(AidFilterTest, RejectsSeedAbove16Bits) {
  config::Errors errors;
  settings_from(AidFilterConfig::kSchema, "seed: 65536", "filter \"aid\" (aid)", errors);
  ASSERT_TRUE(errors.has_errors());
  EXPECT_NE(errors.format().find("seed"), std::string::npos) << errors.format();
}

// Every flow of a real, hand-labeled Zeek conn log: the AIDs that the
// project's independent generator stores in a Slips-schema flows.sqlite
// (by Slips' rules) are reproduced in both modes, read through the sqlite input.
TEST_F(AidFilterTest, ReproducesGeneratedAidsOfZeekConnLog) {
  const auto conn_log = slipway::testing::shared_path("fixtures/zeek/conn-ctu-sme-11.log.labeled");
  const auto generator = slipway::testing::shared_path("tools/gen_slips_alerts.py");
  if (conn_log.empty() || generator.empty()) {
    GTEST_SKIP() << "the Zeek conn log fixture or tools/gen_slips_alerts.py is absent";
  }
  slipway::testing::TempDir dir;
  const std::string command = fmt::format("python3 '{}' --zeek-conn '{}' --out '{}' > '{}' 2>&1", generator.string(),
                                          conn_log.string(), dir.path().string(), (dir / "generator.log").string());
  if (std::system(command.c_str()) != 0) {
    GTEST_SKIP() << "python3 could not run the generator: " << slipway::testing::read_file(dir / "generator.log");
  }
  const std::vector<Event> rows =
      inputs::sqlite_testing::read_to_end(dir / "flows.sqlite", "tables: [flows]", dir.path());
  ASSERT_EQ(rows.size(), 766u);
  std::vector<std::string> texts;
  for (const Event& row : rows) {
    texts.push_back(row.json);
  }

  for (const bool slips_compatible : {false, true}) {
    auto filter = make(fmt::format("field: computed\nslips_compatible: {}", slips_compatible));
    RecordingContext context;
    filter->process(filters::testing::batch_of(texts), context);
    std::size_t matched = 0;
    for (const std::string& event : context.events()) {
      const std::string stored = inputs::sqlite_testing::member(Event{event, {}}, "aid");
      const std::string computed = inputs::sqlite_testing::member(Event{event, {}}, "computed");
      EXPECT_EQ(computed, stored) << event;
      matched += computed == stored ? 1 : 0;
    }
    EXPECT_EQ(matched, 766u) << "slips_compatible=" << slips_compatible;
  }
}

}  // namespace
}  // namespace slipway::filters
