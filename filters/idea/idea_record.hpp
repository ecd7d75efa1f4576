// The canonical IDEA0 record between reading a Slips line and writing it.
// Every reader fills the same structure, so one writer decides the layout
// of every output. Text fields are views into the parsed input or into the
// record's own strings: they stay valid until the next record is read. The
// record is reused from event to event so its vectors keep their capacity.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace slipway::filters::idea {

enum class InputFormat : std::uint8_t { Idmef, Idea0, RedisEvidence, RedisAlert };
// Name written as _Slips.InputFormat, e.g. "IDMEFv2".
std::string_view input_format_name(InputFormat format);

enum class RecordKind : std::uint8_t { Evidence, Alert };

// One IDEA0 Source or Target object. Every value was checked against the
// IDEA0 syntax when it was added.
struct Endpoint {
  std::vector<std::string_view> ip4;
  std::vector<std::string_view> ip6;
  std::vector<std::string_view> hostnames;
  std::vector<std::string_view> urls;
  std::vector<std::string_view> macs;
  std::vector<std::int64_t> ports;
  std::vector<std::string_view> protocols;  // any case; written lower case
  std::vector<std::string_view> types;
  std::vector<std::int64_t> asns;
  // Values given as an address that are neither IPv4 nor IPv6; written
  // into Note so they are not lost and not mislabelled.
  std::vector<std::string_view> unparsed_addresses;
  std::string_view note;

  void clear();
  bool empty() const;
  // Files `address` under IP4 or IP6 by its form, or under unparsed_addresses.
  void add_address(std::string_view address);
  void add_hostname(std::string_view hostname);  // skips empty and repeated names
  void add_protocol(std::string_view protocol);  // skips invalid and repeated names
  void add_type(std::string_view tag);           // skips invalid and repeated tags
};

// An Attach object for a file, such as a downloaded malware sample.
struct FileAttachment {
  std::vector<std::string_view> hashes;  // "md5:<hex>"
  std::vector<std::string_view> types;
  std::vector<std::string_view> file_names;
  std::optional<std::int64_t> size;
};

// A Node entry copied from an IDEA0 input.
struct NodeEntry {
  std::string_view name;
  std::vector<std::string_view> types;
  std::vector<std::string_view> software;
};

// Record of a time member taken from elsewhere, changed or left out.
struct TimeNote {
  std::string_view field;   // output member, e.g. "DetectTime"
  std::string_view source;  // input member the value came from, e.g. "StartTime"
  std::string issue;        // e.g. "missing", "invalid: no such calendar date"
  std::string raw;          // the input value as written, empty when missing
};

// Slips data that IDEA0 has no member for; written as the _Slips object.
struct SlipsExtras {
  std::string_view evidence_type;
  std::string_view threat_level;  // canonical lower case
  std::optional<double> accumulated_threat_level;
  std::optional<std::int64_t> timewindow;
  std::string_view profile_ip;
  std::vector<std::string_view> uids;
  std::vector<std::string_view> threat_intel;  // feed names
  std::string_view method;                     // detection method, e.g. "Heuristic"

  void clear();
};

struct IdeaRecord {
  InputFormat format = InputFormat::Idmef;
  RecordKind kind = RecordKind::Evidence;
  std::string_view id;
  std::optional<std::int64_t> detect_time;  // UTC microseconds
  std::optional<std::int64_t> event_time;
  std::optional<std::int64_t> cease_time;
  std::optional<std::int64_t> window_start_time;
  std::optional<std::int64_t> window_end_time;
  std::vector<std::string_view> categories;
  std::optional<double> confidence;
  std::string_view description;
  std::string_view note;
  std::vector<FileAttachment> files;
  std::optional<std::int64_t> conn_count;
  std::optional<std::int64_t> flow_count;
  std::optional<std::int64_t> packet_count;
  std::optional<std::int64_t> byte_count;
  std::vector<std::string_view> rel_ids;
  std::vector<std::string_view> correl_ids;
  std::vector<NodeEntry> nodes;
  SlipsExtras slips;
  std::vector<TimeNote> time_notes;
  // Storage for text the record builds itself (an alert's description, a
  // derived ID, an MD5 indicator as a Hash), which the views above refer to.
  std::string owned_id;
  std::string owned_description;
  std::string owned_hash;

  void clear();
  Endpoint& add_source();
  Endpoint& add_target();
  std::size_t source_count() const { return source_count_; }
  std::size_t target_count() const { return target_count_; }
  Endpoint& source(std::size_t index) { return sources_[index]; }
  const Endpoint& source(std::size_t index) const { return sources_[index]; }
  Endpoint& target(std::size_t index) { return targets_[index]; }
  const Endpoint& target(std::size_t index) const { return targets_[index]; }
  void add_category(std::string_view category);  // skips invalid and repeated tags

 private:
  // Endpoints beyond the counts are cleared spares kept for their capacity.
  std::vector<Endpoint> sources_;
  std::vector<Endpoint> targets_;
  std::size_t source_count_ = 0;
  std::size_t target_count_ = 0;
};

}  // namespace slipway::filters::idea
