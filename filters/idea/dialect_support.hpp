// Helpers shared by the readers of the Slips formats. They give typed access
// to simdjson members and parse nested JSON documents, which Slips encodes
// as strings. They also apply the time rules: which member becomes
// DetectTime when the preferred one is missing or invalid, and the notes
// that record each substitution.
#pragma once

#include <cstdint>
#include <initializer_list>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <simdjson.h>

#include "engine/timestamp.hpp"
#include "filters/idea/idea_record.hpp"
#include "filters/idea/members.hpp"

namespace slipway::filters::idea {

// A JSON object parsed from a string member, in a parser of its own so
// views into it stay valid while the outer document and other nested
// documents are in use.
class NestedJson {
 public:
  // Parses `text` as one JSON object; false when it is anything else.
  bool parse_object(std::string_view text, dom::object& object);

 private:
  dom::parser parser_;
  std::string buffer_;  // the text with simdjson's required padding
};

// Inputs of a reader besides the document. Views into the nested
// documents stay valid until the next record.
struct ReadContext {
  const timestamp::TimeZone& zoneless_zone;
  NestedJson& note;         // the record's Note
  NestedJson& source_note;  // the first Source's Note
  NestedJson& target_note;  // the first Target's Note
  std::string& reason;      // why the record was rejected, when a reader returns false
};

// Member access: each returns nothing for a missing member or one of
// another JSON type. Inline, like Members::find, so that literal names
// are hashed at compile time.
inline std::optional<dom::element> member(const Members& object, std::string_view key) { return object.find(key); }

inline std::string_view string_member(const Members& object, std::string_view key) {
  std::string_view text;
  const std::optional<dom::element> value = object.find(key);
  if (!value || value->get_string().get(text) != simdjson::SUCCESS) {
    return {};
  }
  return text;
}

inline std::optional<dom::object> object_member(const Members& object, std::string_view key) {
  dom::object nested;
  const std::optional<dom::element> value = object.find(key);
  if (!value || value->get_object().get(nested) != simdjson::SUCCESS) {
    return std::nullopt;
  }
  return nested;
}

inline std::optional<dom::array> array_member(const Members& object, std::string_view key) {
  dom::array items;
  const std::optional<dom::element> value = object.find(key);
  if (!value || value->get_array().get(items) != simdjson::SUCCESS) {
    return std::nullopt;
  }
  return items;
}

inline std::optional<double> number_member(const Members& object, std::string_view key) {
  double number = 0;
  // get_double also converts JSON integers.
  const std::optional<dom::element> value = object.find(key);
  if (!value || value->get_double().get(number) != simdjson::SUCCESS) {
    return std::nullopt;
  }
  return number;
}

// JSON integers only; 1.0 is not an integer count.
inline std::optional<std::int64_t> integer_member(const Members& object, std::string_view key) {
  std::int64_t number = 0;
  const std::optional<dom::element> value = object.find(key);
  if (!value || value->get_int64().get(number) != simdjson::SUCCESS) {
    return std::nullopt;
  }
  return number;
}

// Calls `read` with each object in the array member `key`.
template <typename Read>
void for_each_object(const Members& object, std::string_view key, Read&& read) {
  const std::optional<dom::array> items = array_member(object, key);
  if (!items) {
    return;
  }
  for (const dom::element item : *items) {
    dom::object nested;
    if (item.get_object().get(nested) == simdjson::SUCCESS) {
      read(nested);
    }
  }
}

// Calls `add` for a string, or for each string in an array of strings;
// other values are skipped.
template <typename Add>
void for_each_string(const dom::element& value, Add&& add) {
  std::string_view text;
  if (value.get_string().get(text) == simdjson::SUCCESS) {
    add(text);
    return;
  }
  dom::array items;
  if (value.get_array().get(items) != simdjson::SUCCESS) {
    return;
  }
  for (const dom::element item : items) {
    if (item.get_string().get(text) == simdjson::SUCCESS) {
      add(text);
    }
  }
}

template <typename Add>
void for_each_string_member(const Members& object, std::string_view key, Add&& add) {
  if (const std::optional<dom::element> value = member(object, key)) {
    for_each_string(*value, add);
  }
}

// Adds each port of a number or an array of numbers that is a valid TCP
// or UDP port. Argus writes ICMP type and code as "0x…" strings in the
// port fields; they are not ports and are skipped.
void add_ports(const dom::element& value, std::vector<std::int64_t>& ports);
// Adds the autonomous system numbers of a number or an array of them.
void add_asns(const dom::element& value, Endpoint& endpoint);
// Autonomous system number from "AS206728", "206728" or 206728.
std::optional<std::int64_t> parse_asn(const dom::element& value);
// Reads Slips' enrichment of an address: "AS" {"number": …} becomes ASN,
// "rDNS" and "SNI" become Hostname, "TI" feed names go to the extras.
void read_enrichment(const dom::object& enrichment, Endpoint& endpoint, IdeaRecord& record);
void add_threat_intel(std::string_view feed, IdeaRecord& record);

// Adds IDs that match the IDEA0 ID syntax; others are left out.
void add_ids(const Members& object, std::string_view key, std::vector<std::string_view>& ids);

// Checks the record ID (member `key`) and stores it; false with a reason
// when it is missing or has characters IDEA0 does not allow.
bool take_id(const Members& object, std::string_view key, ReadContext& context, IdeaRecord& record);

// Reads the Slips extras that appear under the same names in IDMEF Notes,
// IDEA0 lines and their Notes. Like the other readers of small objects, it
// walks the members once instead of looking up each name.
void read_common_extras(const dom::object& object, IdeaRecord& record);

// A member that may hold a time: RFC 3339 or Slips text, or epoch seconds
// as a number or numeric text.
struct TimeCandidate {
  std::string_view source;  // member name, for notes and reasons
  std::optional<dom::element> value;
};

TimeCandidate time_candidate(const Members& object, std::string_view key);

// Sets DetectTime from the first candidate that parses, noting each one
// passed over. When none parses the record is rejected with a reason
// naming every candidate: the wall clock is never a substitute.
bool resolve_detect_time(std::initializer_list<TimeCandidate> candidates, ReadContext& context, IdeaRecord& record);

// Parses an optional time for `field`; an invalid one is left out and noted.
std::optional<std::int64_t> resolve_time(std::string_view field, const TimeCandidate& candidate,
                                         ReadContext& context, IdeaRecord& record);

}  // namespace slipway::filters::idea
