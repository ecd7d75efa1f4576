#include "filters/flow_fields.hpp"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <limits>

#include "engine/json.hpp"
#include "engine/timestamp.hpp"

namespace slipway::filters::flow {

namespace {

constexpr std::size_t kNotFound = std::string_view::npos;
constexpr std::uint16_t kMaxPort = 65535;
constexpr std::uint8_t kMaxProtocol = 255;
constexpr int kMicrosecondDigits = 6;
// Python prints floats outside [1e-4, 1e16) with an exponent, and aid_hash
// rejects a timestamp text that is not plain digits around one dot.
constexpr double kSmallestPlainFloat = 1e-4;
constexpr double kLargestPlainFloat = 1e16;
// Slips' port conversion turns any hexadecimal port string into this.
constexpr std::uint16_t kSlipsHexPort = 8;

// Paths by FlowField, in the order of its enumerators.
const std::array<std::string, kFlowFieldCount> kSlipsPaths = {"saddr", "daddr", "sport",   "dport",
                                                              "proto", "ip_proto", "starttime"};
const std::array<std::string, kFlowFieldCount> kZeekPaths = {"id.orig_h", "id.resp_h", "id.orig_p", "id.resp_p",
                                                             "proto",     "ip_proto",  "ts"};
constexpr std::array<std::string_view, kFlowFieldCount> kOverrideKeys = {
    "source_address_field", "destination_address_field", "source_port_field", "destination_port_field",
    "protocol_field",       "ip_protocol_field",         "time_field"};

bool equals_ignoring_case(std::string_view left, std::string_view right) {
  return left.size() == right.size() && std::equal(left.begin(), left.end(), right.begin(), [](char a, char b) {
           return (a >= 'A' && a <= 'Z' ? static_cast<char>(a - 'A' + 'a') : a) == b;
         });
}

template <typename Integer>
bool parse_whole(std::string_view text, Integer& value, int base = 10) {
  const auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value, base);
  return !text.empty() && error == std::errc() && end == text.data() + text.size();
}

bool parse_whole_double(std::string_view text, double& value) {
  const auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value);
  return !text.empty() && error == std::errc() && end == text.data() + text.size();
}

bool is_nested_path(std::string_view path) { return path.find_first_of(".[") != kNotFound; }

}  // namespace

std::string_view describe(ReadError error) {
  switch (error) {
    case ReadError::None:
      return "no error";
    case ReadError::MissingField:
      return "a field of the flow tuple is missing";
    case ReadError::InvalidAddress:
      return "invalid IP address";
    case ReadError::MixedAddressFamilies:
      return "one address is IPv4 and the other IPv6";
    case ReadError::UnknownProtocol:
      return "unknown IP protocol";
    case ReadError::UnhashedProtocol:
      return "Slips hashes only tcp, udp and icmp flows";
    case ReadError::InvalidPort:
      return "invalid port, expected an integer from 0 to 65535";
    case ReadError::InvalidTime:
      return "invalid start time, expected Unix epoch seconds or an RFC 3339 time from 1970 on";
    case ReadError::NotAnObject:
      return "the event is not a JSON object";
  }
  return "unknown error";
}

std::string_view counter_name(ReadError error) {
  switch (error) {
    case ReadError::None:
      return "none";
    case ReadError::MissingField:
      return "missing_field";
    case ReadError::InvalidAddress:
      return "invalid_address";
    case ReadError::MixedAddressFamilies:
      return "mixed_address_families";
    case ReadError::UnknownProtocol:
      return "unknown_protocol";
    case ReadError::UnhashedProtocol:
      return "unhashed_protocol";
    case ReadError::InvalidPort:
      return "invalid_port";
    case ReadError::InvalidTime:
      return "invalid_time";
    case ReadError::NotAnObject:
      return "not_an_object";
  }
  return "unknown";
}

void FlowFieldsConfig::add_schema_fields(std::vector<config::Field>& fields, bool with_time) {
  fields.push_back(config::Field{
      .name = "field_names",
      .type = config::FieldType::Enum,
      .doc = "Field names of the flow tuple: slips (saddr, daddr, sport, dport, proto, starttime), zeek (id.orig_h, "
             "id.resp_h, id.orig_p, id.resp_p, proto, ts), or auto (slips when the event has saddr, else zeek)",
      .default_text = "auto",
      .choices = {"auto", "slips", "zeek"}});
  const std::array<std::string_view, kFlowFieldCount> docs = {
      "Path of the source address, replacing the one field_names gives",
      "Path of the destination address, replacing the one field_names gives",
      "Path of the source port (the ICMP type for ICMP), replacing the one field_names gives",
      "Path of the destination port (the ICMP code or counterpart type for ICMP), replacing the one field_names "
      "gives",
      "Path of the protocol name or number, replacing the one field_names gives",
      "Path of the IP protocol number, used before the protocol name when present (Zeek's ip_proto); ignored with "
      "slips_compatible",
      "Path of the flow start time (epoch seconds or RFC 3339; UTC when no offset), replacing the one field_names "
      "gives"};
  const std::size_t count = with_time ? kFlowFieldCount : kFlowFieldCount - 1;
  for (std::size_t field_idx = 0; field_idx < count; ++field_idx) {
    fields.push_back(config::Field{.name = std::string(kOverrideKeys[field_idx]),
                                   .type = config::FieldType::String,
                                   .doc = std::string(docs[field_idx])});
  }
}

FlowFieldsConfig FlowFieldsConfig::parse(const config::Section& settings, bool with_time) {
  FlowFieldsConfig config;
  const std::string names = settings.string("field_names");
  if (names == "slips") {
    config.field_names = FieldNames::Slips;
  } else if (names == "zeek") {
    config.field_names = FieldNames::Zeek;
  }
  const std::size_t count = with_time ? kFlowFieldCount : kFlowFieldCount - 1;
  for (std::size_t field_idx = 0; field_idx < count; ++field_idx) {
    config.overrides[field_idx] = settings.string(kOverrideKeys[field_idx]);
  }
  config.slips_compatible = settings.boolean("slips_compatible");
  return config;
}

std::optional<std::uint64_t> slips_aid_time(double seconds) {
  if (!std::isfinite(seconds) || seconds < 0 || seconds >= kLargestPlainFloat ||
      (seconds != 0 && seconds < kSmallestPlainFloat)) {
    return std::nullopt;
  }
  // Without a precision, std::to_chars writes the shortest text that reads
  // back as the same double, the digits Python's repr() prints.
  char buffer[64];
  const auto [end, error] = std::to_chars(buffer, buffer + sizeof buffer, seconds, std::chars_format::fixed);
  if (error != std::errc()) {
    return std::nullopt;
  }

  std::uint64_t value = 0;
  int fraction_digits = -1;  // -1 until the dot
  const auto append_digit = [&value](unsigned digit) {
    if (value > (std::numeric_limits<std::uint64_t>::max() - digit) / 10) {
      return false;
    }
    value = value * 10 + digit;
    return true;
  };
  for (const char* cursor = buffer; cursor != end; ++cursor) {
    if (*cursor == '.') {
      fraction_digits = 0;
      continue;
    }
    if (!append_digit(static_cast<unsigned>(*cursor - '0'))) {
      return std::nullopt;
    }
    if (fraction_digits >= 0) {
      ++fraction_digits;
    }
  }
  for (int padded = std::max(fraction_digits, 0); padded < kMicrosecondDigits; ++padded) {
    if (!append_digit(0)) {
      return std::nullopt;
    }
  }
  return value;
}

FlowReader::FlowReader(const FlowFieldsConfig& config, Options options, std::string target_field)
    : config_(config), options_(options), slips_paths_(kSlipsPaths), zeek_paths_(kZeekPaths),
      target_field_(std::move(target_field)) {
  for (std::size_t field_idx = 0; field_idx < kFlowFieldCount; ++field_idx) {
    if (!config_.overrides[field_idx].empty()) {
      slips_paths_[field_idx] = config_.overrides[field_idx];
      zeek_paths_[field_idx] = config_.overrides[field_idx];
    }
  }
  const auto add_name = [this](std::string_view name) {
    if (std::find(scan_names_.begin(), scan_names_.end(), name) == scan_names_.end()) {
      scan_names_.push_back(name);
    }
  };
  for (std::size_t field_idx = 0; field_idx < kFlowFieldCount; ++field_idx) {
    if (config_.field_names != FieldNames::Zeek) {
      add_name(slips_paths_[field_idx]);
    }
    if (config_.field_names != FieldNames::Slips) {
      add_name(zeek_paths_[field_idx]);
    }
  }
  add_name(target_field_);
  scan_found_.resize(scan_names_.size());

  const auto index_of = [this](std::string_view name) {
    return static_cast<std::size_t>(std::find(scan_names_.begin(), scan_names_.end(), name) - scan_names_.begin());
  };
  for (std::size_t field_idx = 0; field_idx < kFlowFieldCount; ++field_idx) {
    slips_scan_index_[field_idx] = index_of(slips_paths_[field_idx]);
    zeek_scan_index_[field_idx] = index_of(zeek_paths_[field_idx]);
  }
  target_scan_index_ = index_of(target_field_);
}

const std::string& FlowReader::path(FieldNames names, FlowField field) const {
  const auto index = static_cast<std::size_t>(field);
  return names == FieldNames::Slips ? slips_paths_[index] : zeek_paths_[index];
}

FlowReader::Text FlowReader::field_text(std::string_view event_json, FieldNames names, FlowField field) {
  const std::string& field_path = path(names, field);
  std::string& scratch = scratch_[static_cast<std::size_t>(field)];
  const auto field_idx = static_cast<std::size_t>(field);
  const std::size_t name_idx = names == FieldNames::Slips ? slips_scan_index_[field_idx] : zeek_scan_index_[field_idx];
  if (name_idx < scan_found_.size() && scan_found_[name_idx].found) {
    const MemberValue& value = scan_found_[name_idx];
    return Text{value.kind, member_text(event_json, value, scratch), true};
  }
  if (!is_nested_path(field_path)) {
    return Text{};
  }

  // A member named "id.orig_h" was not there, so the path is read as
  // nested members, which needs the whole document.
  json::ParseResult parsed = json::parse(event_json);
  const json::Value* value = parsed.value ? parsed.value->at_path(field_path) : nullptr;
  if (value == nullptr) {
    return Text{};
  }
  if (value->is_string() || value->is_number()) {
    scratch = value->is_string() ? value->as_string() : value->number_text();
    return Text{value->is_string() ? ValueKind::String : ValueKind::Number, scratch, true};
  }
  return Text{ValueKind::Other, {}, true};
}

ReadResult FlowReader::read(std::string_view event_json, FlowRecord& record, MemberValue& target) {
  std::fill(scan_found_.begin(), scan_found_.end(), MemberValue{});
  if (!find_members(event_json, scan_names_, scan_found_)) {
    return ReadResult{ReadError::NotAnObject, {}, {}};
  }
  target = scan_found_[target_scan_index_];

  FieldNames names = config_.field_names;
  if (names == FieldNames::Auto) {
    names = field_text(event_json, FieldNames::Slips, FlowField::SourceAddress).found ? FieldNames::Slips
                                                                                      : FieldNames::Zeek;
  }

  IpAddress* const addresses[] = {&record.tuple.source, &record.tuple.destination};
  const FlowField address_fields[] = {FlowField::SourceAddress, FlowField::DestinationAddress};
  for (std::size_t side = 0; side < 2; ++side) {
    const Text text = field_text(event_json, names, address_fields[side]);
    const std::string_view field_path = path(names, address_fields[side]);
    if (!text.found) {
      return ReadResult{ReadError::MissingField, field_path, {}};
    }
    const std::optional<IpAddress> address =
        text.kind == ValueKind::String ? parse_ip_address(text.text) : std::nullopt;
    if (!address) {
      return ReadResult{ReadError::InvalidAddress, field_path, text.text};
    }
    *addresses[side] = *address;
  }
  if (record.tuple.source.size != record.tuple.destination.size) {
    return ReadResult{ReadError::MixedAddressFamilies, path(names, FlowField::DestinationAddress), {}};
  }

  const Text protocol = field_text(event_json, names, FlowField::Protocol);
  const Text ip_protocol = config_.slips_compatible ? Text{} : field_text(event_json, names, FlowField::IpProtocol);
  if (ReadResult result = read_protocol(protocol, ip_protocol, record.tuple.source.is_ipv6(), record.tuple.protocol);
      result.error != ReadError::None) {
    result.field = path(names, ip_protocol.found ? FlowField::IpProtocol : FlowField::Protocol);
    return result;
  }

  if (protocol_has_ports(record.tuple.protocol)) {
    for (const FlowField port_field : {FlowField::SourcePort, FlowField::DestinationPort}) {
      std::uint16_t& port =
          port_field == FlowField::SourcePort ? record.tuple.source_port : record.tuple.destination_port;
      if (ReadResult result = read_port(field_text(event_json, names, port_field), port);
          result.error != ReadError::None) {
        result.field = path(names, port_field);
        return result;
      }
    }
  }

  if (options_.read_time) {
    if (ReadResult result = read_time(field_text(event_json, names, FlowField::Time), record.aid_time);
        result.error != ReadError::None) {
      result.field = path(names, FlowField::Time);
      return result;
    }
  }
  return ReadResult{};
}

ReadResult FlowReader::read_protocol(const Text& protocol, const Text& ip_protocol, bool ipv6,
                                     std::uint8_t& number) const {
  if (ip_protocol.found) {
    unsigned value = 0;
    if (ip_protocol.kind == ValueKind::Other || !parse_whole(ip_protocol.text, value) || value > kMaxProtocol) {
      return ReadResult{ReadError::UnknownProtocol, {}, ip_protocol.text};
    }
    number = static_cast<std::uint8_t>(value);
    return ReadResult{};
  }
  if (!protocol.found) {
    return ReadResult{ReadError::MissingField, {}, {}};
  }

  if (config_.slips_compatible) {
    // Slips lower-cases the name and hashes tcp, udp and icmp only. Zeek
    // writes "icmp" for ICMPv6 too, so such flows are hashed as protocol 1
    // with the ICMPv4 message types.
    if (protocol.kind == ValueKind::String) {
      for (const std::string_view name : {"tcp", "udp", "icmp"}) {
        if (equals_ignoring_case(protocol.text, name)) {
          number = *protocol_number(name);
          return ReadResult{};
        }
      }
    }
    return ReadResult{ReadError::UnhashedProtocol, {}, protocol.text};
  }

  const std::optional<std::uint8_t> known =
      protocol.kind == ValueKind::Other ? std::nullopt : protocol_number(protocol.text);
  if (!known) {
    return ReadResult{ReadError::UnknownProtocol, {}, protocol.text};
  }
  // Zeek names ICMPv6 "icmp" as well, so the addresses tell the two apart.
  const bool icmp_name = protocol.kind == ValueKind::String && equals_ignoring_case(protocol.text, "icmp");
  number = icmp_name && ipv6 ? kProtocolIcmpV6 : *known;
  return ReadResult{};
}

ReadResult FlowReader::read_port(const Text& text, std::uint16_t& port) const {
  if (!text.found) {
    return ReadResult{ReadError::MissingField, {}, {}};
  }
  if (text.kind == ValueKind::Other) {
    return ReadResult{ReadError::InvalidPort, {}, {}};
  }

  std::uint32_t value = 0;
  const bool hexadecimal = text.kind == ValueKind::String && text.text.size() > 2 && text.text[0] == '0' &&
                           (text.text[1] == 'x' || text.text[1] == 'X');
  bool parsed = false;
  if (hexadecimal && options_.hex_ports_are_eight) {
    value = kSlipsHexPort;
    parsed = true;
  } else if (hexadecimal) {
    parsed = parse_whole(text.text.substr(2), value, 16);
  } else {
    parsed = parse_whole(text.text, value);
  }
  if (!parsed || value > kMaxPort) {
    return ReadResult{ReadError::InvalidPort, {}, text.text};
  }
  port = static_cast<std::uint16_t>(value);
  return ReadResult{};
}

ReadResult FlowReader::read_time(const Text& text, std::uint64_t& value) const {
  if (!text.found) {
    return ReadResult{ReadError::MissingField, {}, {}};
  }
  const ReadResult invalid{ReadError::InvalidTime, {}, text.text};
  if (text.kind == ValueKind::Other) {
    return invalid;
  }

  if (config_.slips_compatible) {
    // Slips reads the time into a Python float before it formats it.
    double seconds = 0;
    if (!parse_whole_double(text.text, seconds)) {
      const timestamp::ParsedTime parsed = timestamp::parse(text.text, timestamp::TimeZone::utc());
      if (!parsed.ok()) {
        return invalid;
      }
      seconds = static_cast<double>(parsed.utc_micros) / 1e6;
    }
    const std::optional<std::uint64_t> slips_value = slips_aid_time(seconds);
    if (!slips_value) {
      return invalid;
    }
    value = *slips_value;
    return ReadResult{};
  }

  // NOTE: digits past the sixth fractional one are cut, so the time hashes as
  // whole microseconds. aid_hash would hash every digit, which only the
  // Slips-compatible mode reproduces.
  const timestamp::ParsedTime parsed = text.kind == ValueKind::Number
                                           ? timestamp::parse_epoch_seconds(text.text)
                                           : timestamp::parse(text.text, timestamp::TimeZone::utc());
  if (!parsed.ok() || parsed.utc_micros < 0) {
    return invalid;
  }
  value = static_cast<std::uint64_t>(parsed.utc_micros);
  return ReadResult{};
}

}  // namespace slipway::filters::flow
