// Reading a flow tuple and its start time out of an event, and writing a
// fingerprint back into it, for the `aid` and `community_id` filters. Events
// are scanned as text instead of being parsed into a document, because both
// filters sit on the per-flow path of Zeek conn logs.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "config/errors.hpp"
#include "config/schema.hpp"
#include "filters/event_members.hpp"
#include "filters/flow_tuple.hpp"

namespace slipway::filters::flow {

enum class FieldNames : std::uint8_t { Auto, Slips, Zeek };

enum class FlowField : std::uint8_t {
  SourceAddress,
  DestinationAddress,
  SourcePort,
  DestinationPort,
  Protocol,
  IpProtocol,
  Time,
};
inline constexpr std::size_t kFlowFieldCount = 7;

// Settings both fingerprint filters share: where the tuple is read from and
// whether Slips' deviations from the specifications are reproduced.
struct FlowFieldsConfig {
  FieldNames field_names = FieldNames::Auto;
  // Paths given by the user, indexed by FlowField. Empty ones come from field_names.
  std::array<std::string, kFlowFieldCount> overrides;
  bool slips_compatible = false;

  // Appends the schema fields of these settings, with time_field when `with_time`.
  static void add_schema_fields(std::vector<config::Field>& fields, bool with_time);
  static FlowFieldsConfig parse(const config::Section& settings, bool with_time);
};

enum class ReadError : std::uint8_t {
  None,
  MissingField,          // a field the tuple needs is absent
  InvalidAddress,        // not an IPv4 or IPv6 address
  MixedAddressFamilies,  // one IPv4 and one IPv6 address
  UnknownProtocol,       // no protocol number for the value
  UnhashedProtocol,      // Slips-compatible mode: Slips hashes only tcp, udp and icmp
  InvalidPort,           // not an integer from 0 to 65535
  InvalidTime,           // not a time from 1970 on
  NotAnObject,           // the event is not a JSON object
};
inline constexpr std::size_t kReadErrorCount = 9;

// A short phrase for logs, e.g. "invalid IP address".
std::string_view describe(ReadError error);
// A name for counters and summaries, e.g. "invalid_address".
std::string_view counter_name(ReadError error);

struct FlowRecord {
  FlowTuple tuple;
  // AID's timestamp value: the decimal digits of the start time in seconds
  // with at least six fractional digits, read as one integer.
  std::uint64_t aid_time = 0;
};

struct ReadResult {
  ReadError error = ReadError::None;
  std::string_view field;  // path of the field at fault, for logs
  std::string_view value;  // its text, when it had one
};

// Reads flow tuples from events. Holds buffers, so each filter thread owns one.
class FlowReader {
 public:
  struct Options {
    bool read_time = false;
    // AID in Slips-compatible mode: Slips turns every "0x..." port string
    // (Argus writes ICMP types that way) into 8.
    bool hex_ports_are_eight = false;
  };

  FlowReader(const FlowFieldsConfig& config, Options options, std::string target_field);
  // The scan list points into the reader's own strings.
  FlowReader(const FlowReader&) = delete;
  FlowReader& operator=(const FlowReader&) = delete;

  // Reads the tuple of `event_json`, and finds the target field for
  // write_with_string_member().
  ReadResult read(std::string_view event_json, FlowRecord& record, MemberValue& target);

 private:
  struct Text {
    ValueKind kind = ValueKind::Other;
    std::string_view text;
    bool found = false;
  };

  Text field_text(std::string_view event_json, FieldNames names, FlowField field);
  ReadResult read_protocol(const Text& protocol, const Text& ip_protocol, bool ipv6, std::uint8_t& number) const;
  ReadResult read_port(const Text& text, std::uint16_t& port) const;
  ReadResult read_time(const Text& text, std::uint64_t& value) const;
  const std::string& path(FieldNames names, FlowField field) const;

  FlowFieldsConfig config_;
  Options options_;
  std::array<std::string, kFlowFieldCount> slips_paths_;
  std::array<std::string, kFlowFieldCount> zeek_paths_;
  std::string target_field_;
  std::vector<std::string_view> scan_names_;  // the paths of the sets in use and the target, once each
  std::vector<MemberValue> scan_found_;
  // Position of each path in scan_names_, or its size when the set is not in use.
  std::array<std::size_t, kFlowFieldCount> slips_scan_index_{};
  std::array<std::size_t, kFlowFieldCount> zeek_scan_index_{};
  std::size_t target_scan_index_ = 0;
  std::array<std::string, kFlowFieldCount> scratch_;
};

// AID's timestamp value from epoch seconds as Slips computes it: Python's
// shortest decimal text of the float, its fraction right-padded with zeros
// to six digits, and the digits read as one integer ("1680971400.0" becomes
// 1680971400000000, "14.1254875" becomes 141254875). nullopt for negative,
// non-finite or huge values, which Slips cannot hash either.
std::optional<std::uint64_t> slips_aid_time(double seconds);

}  // namespace slipway::filters::flow
