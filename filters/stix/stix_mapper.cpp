#include "filters/stix/stix_mapper.hpp"

#include <arpa/inet.h>

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstring>
#include <optional>
#include <span>
#include <vector>

#include <fmt/format.h>
#include <simdjson.h>

#include "engine/json.hpp"
#include "engine/timestamp.hpp"
#include "filters/stix/stix_text.hpp"

namespace slipway::stix {

namespace {

namespace dom = simdjson::dom;

// The identity changes only with its name and class, and both are part of
// its id, so one fixed version time keeps every run sending the same object.
constexpr std::string_view kIdentityTimestamp = "2024-01-01T00:00:00.000Z";
constexpr std::int64_t kMaxCount = 999'999'999;  // STIX bound of count and number_observed
constexpr double kMaxConfidence = 100.0;

// One comparison of a pattern: `<object>:value <operator> '<value>'`.
struct Comparison {
  std::string_view object_type;  // "ipv4-addr", "ipv6-addr", "domain-name", "url"
  std::string_view op;           // "=" or "ISSUBSET"
  std::string value;
};

// One attacker IoC: the comparisons of its pattern, joined by OR. A plain
// value or a CIDR block needs one, an address range one per CIDR block it
// covers.
struct Ioc {
  std::vector<Comparison> comparisons;
  std::string pattern;
  std::string indicator_id;
};

struct Address {
  unsigned __int128 value = 0;
  int bits = 0;  // 32 or 128
};

std::optional<Address> parse_address(std::string_view text) {
  char terminated[INET6_ADDRSTRLEN + 1];
  if (text.empty() || text.size() >= sizeof terminated) {
    return std::nullopt;
  }
  std::memcpy(terminated, text.data(), text.size());
  terminated[text.size()] = '\0';
  unsigned char bytes[16];
  int bits = 0;
  if (::inet_pton(AF_INET, terminated, bytes) == 1) {
    bits = 32;
  } else if (::inet_pton(AF_INET6, terminated, bytes) == 1) {
    bits = 128;
  } else {
    return std::nullopt;
  }
  Address address{0, bits};
  for (int byte_idx = 0; byte_idx < bits / 8; ++byte_idx) {
    address.value = (address.value << 8) | bytes[byte_idx];
  }
  return address;
}

std::string format_address(unsigned __int128 value, int bits) {
  unsigned char bytes[16];
  for (int byte_idx = bits / 8 - 1; byte_idx >= 0; --byte_idx) {
    bytes[byte_idx] = static_cast<unsigned char>(value & 0xFF);
    value >>= 8;
  }
  char text[INET6_ADDRSTRLEN];
  ::inet_ntop(bits == 32 ? AF_INET : AF_INET6, bytes, text, sizeof text);
  return text;
}

// Appends the CIDR blocks that exactly cover first..last, largest first
// at each step, as ISSUBSET comparisons.
void add_range_blocks(Address first, Address last, std::string_view object_type, std::vector<Comparison>& out) {
  const int bits = first.bits;
  const unsigned __int128 top = bits == 128 ? ~static_cast<unsigned __int128>(0)
                                            : (static_cast<unsigned __int128>(1) << bits) - 1;
  // The offset of the last address in a block of 2^block_bits addresses.
  const auto last_offset = [&](int block_bits) {
    return block_bits >= bits ? top : (static_cast<unsigned __int128>(1) << block_bits) - 1;
  };
  unsigned __int128 start = first.value;
  while (true) {
    int block_bits = 0;
    while (block_bits < bits && ((start >> block_bits) & 1) == 0 &&
           start + last_offset(block_bits + 1) <= last.value) {
      ++block_bits;
    }
    out.push_back(Comparison{object_type, "ISSUBSET",
                             fmt::format("{}/{}", format_address(start, bits), bits - block_bits)});
    const unsigned __int128 block_last = start + last_offset(block_bits);
    if (block_last >= last.value) {
      return;
    }
    start = block_last + 1;
  }
}

// Reads an IDEA0 IP4 or IP6 value: an address, a CIDR block or a range.
// Returns false for any other value.
bool add_network(std::string_view text, std::string_view object_type, std::vector<Comparison>& out) {
  if (const std::size_t dash = text.find('-'); dash != std::string_view::npos) {
    const std::optional<Address> first = parse_address(text.substr(0, dash));
    const std::optional<Address> last = parse_address(text.substr(dash + 1));
    if (!first || !last || first->bits != last->bits || first->value > last->value) {
      return false;
    }
    add_range_blocks(*first, *last, object_type, out);
    return true;
  }
  const std::size_t slash = text.find('/');
  const std::optional<Address> address = parse_address(text.substr(0, slash));
  if (!address) {
    return false;
  }
  if (slash == std::string_view::npos) {
    out.push_back(Comparison{object_type, "=", std::string(text)});
    return true;
  }
  int prefix = -1;
  const std::string_view digits = text.substr(slash + 1);
  if (!digits.empty() && digits.size() <= 3 && std::all_of(digits.begin(), digits.end(), [](char c) {
        return c >= '0' && c <= '9';
      })) {
    prefix = std::stoi(std::string(digits));
  }
  if (prefix < 0 || prefix > address->bits) {
    return false;
  }
  out.push_back(Comparison{object_type, "ISSUBSET", std::string(text)});
  return true;
}

std::optional<std::string_view> string_member(const dom::object& object, std::string_view key) {
  std::string_view value;
  if (object.at_key(key).get_string().get(value) != simdjson::SUCCESS) {
    return std::nullopt;
  }
  return value;
}

std::optional<std::int64_t> time_member(const dom::object& object, std::string_view key) {
  const std::optional<std::string_view> text = string_member(object, key);
  if (!text) {
    return std::nullopt;
  }
  const timestamp::ParsedTime parsed = timestamp::parse(*text, timestamp::TimeZone::utc());
  if (!parsed.ok()) {
    return std::nullopt;
  }
  return parsed.utc_micros;
}

std::optional<std::int64_t> integer_member(const dom::object& object, std::string_view key) {
  std::int64_t value = 0;
  if (object.at_key(key).get_int64().get(value) != simdjson::SUCCESS) {
    return std::nullopt;
  }
  return value;
}

void append_string_member(std::string_view key, std::string_view value, std::string& out) {
  out += ",\"";
  out += key;
  out += "\":";
  json::append_quoted(value, out);
}

void append_integer(std::int64_t value, std::string& out) {
  char digits[24];
  const auto result = std::to_chars(digits, digits + sizeof digits, value);
  out.append(digits, result.ptr);
}

void append_time_member(std::string_view key, std::int64_t utc_micros, std::string& out) {
  out += ",\"";
  out += key;
  out += "\":\"";
  append_timestamp(utc_micros, out);
  out += '"';
}

// indicator-type-ov: an anomaly is not proof of malice, and a botnet
// Source is a host that was taken over rather than the attacker behind it.
std::string_view indicator_type_for(std::string_view category) {
  if (category.starts_with("Anomaly.")) {
    return "anomalous-activity";
  }
  if (category == "Intrusion.Botnet") {
    return "compromised";
  }
  return "malicious-activity";
}

}  // namespace

struct StixMapper::State {
  MapperOptions options;
  dom::parser parser;
  std::string buffer;  // the input with simdjson's required padding
  UuidV5 uuid;
  std::string identity_id;
  std::string identity_json;
  // The IoCs of the current record are the first ioc_count entries; the
  // rest are spares kept, like their strings, for their capacity.
  std::vector<Ioc> iocs;
  std::size_t ioc_count = 0;
  std::vector<Comparison> comparisons;
  std::vector<std::string_view> categories;
  std::vector<std::string> observable_ids;
  std::string scratch;
  std::string created;  // the record's created and modified time

  // Collects the Source values of the record into `iocs`, each once.
  bool collect_iocs(const dom::object& root, std::string& reason);
  // Adds the IoC that `comparisons` describe, unless the record has it already.
  void add_ioc();
  std::span<Ioc> current_iocs() { return std::span<Ioc>(iocs.data(), ioc_count); }
  void append_observables(std::string& out);
};

bool StixMapper::State::collect_iocs(const dom::object& root, std::string& reason) {
  ioc_count = 0;
  dom::array sources;
  if (root.at_key("Source").get_array().get(sources) != simdjson::SUCCESS) {
    return true;  // no attacker given: no indicator
  }
  constexpr std::array<std::pair<std::string_view, std::string_view>, 4> kKeys = {{
      {"IP4", "ipv4-addr"},
      {"IP6", "ipv6-addr"},
      {"Hostname", "domain-name"},
      {"URL", "url"},
  }};
  for (const dom::element source_element : sources) {
    dom::object source;
    if (source_element.get_object().get(source) != simdjson::SUCCESS) {
      continue;
    }
    for (const auto& [key, object_type] : kKeys) {
      dom::array values;
      if (source.at_key(key).get_array().get(values) != simdjson::SUCCESS) {
        continue;
      }
      for (const dom::element value_element : values) {
        std::string_view value;
        if (value_element.get_string().get(value) != simdjson::SUCCESS || value.empty()) {
          continue;
        }
        comparisons.clear();
        if (key == "IP4" || key == "IP6") {
          if (!add_network(value, object_type, comparisons)) {
            reason = fmt::format("Source {} value \"{}\" is not an address, CIDR block or range", key, value);
            return false;
          }
        } else {
          comparisons.push_back(Comparison{object_type, "=", std::string(value)});
        }
        add_ioc();
      }
    }
  }
  return true;
}

void StixMapper::State::add_ioc() {
  if (ioc_count == iocs.size()) {
    iocs.emplace_back();
  }
  Ioc& ioc = iocs[ioc_count];
  ioc.pattern.assign(1, '[');
  for (std::size_t index = 0; index < comparisons.size(); ++index) {
    if (index > 0) {
      ioc.pattern += " OR ";
    }
    const Comparison& comparison = comparisons[index];
    ioc.pattern += comparison.object_type;
    ioc.pattern += ":value ";
    ioc.pattern += comparison.op;
    ioc.pattern += ' ';
    append_pattern_literal(comparison.value, ioc.pattern);
  }
  ioc.pattern += ']';
  const auto previous = std::span<Ioc>(iocs.data(), ioc_count);
  if (std::any_of(previous.begin(), previous.end(), [&](const Ioc& other) { return other.pattern == ioc.pattern; })) {
    return;
  }
  ioc.comparisons.assign(comparisons.begin(), comparisons.end());
  ++ioc_count;
}

// Appends one cyber-observable per compared value, each once, with the id
// STIX derives from its value, and records the ids for object_refs.
void StixMapper::State::append_observables(std::string& out) {
  observable_ids.clear();
  for (const Ioc& ioc : current_iocs()) {
    for (const Comparison& comparison : ioc.comparisons) {
      scratch.assign("{\"value\":");
      json::append_quoted(comparison.value, scratch);
      scratch += '}';
      std::string id = uuid.id(comparison.object_type, kObservableNamespace, scratch);
      if (std::find(observable_ids.begin(), observable_ids.end(), id) != observable_ids.end()) {
        continue;
      }
      out += ",{\"type\":\"";
      out += comparison.object_type;
      out += "\",\"spec_version\":\"2.1\",\"id\":\"";
      out += id;
      out += '"';
      append_string_member("value", comparison.value, out);
      out += '}';
      observable_ids.push_back(std::move(id));
    }
  }
}

StixMapper::StixMapper(MapperOptions options) : state_(std::make_unique<State>()) {
  State& state = *state_;
  state.options = std::move(options);
  state.identity_id =
      state.uuid.id("identity", kSlipwayNamespace, "identity/" + state.options.identity_class + "/" +
                                                       state.options.identity_name);
  std::string& identity = state.identity_json;
  identity = "{\"type\":\"identity\",\"spec_version\":\"2.1\",\"id\":\"" + state.identity_id + "\"";
  append_string_member("created", kIdentityTimestamp, identity);
  append_string_member("modified", kIdentityTimestamp, identity);
  append_string_member("name", state.options.identity_name, identity);
  append_string_member("identity_class", state.options.identity_class, identity);
  identity += '}';
}

StixMapper::~StixMapper() = default;

const std::string& StixMapper::identity_id() const { return state_->identity_id; }

MapOutcome StixMapper::map(std::string_view idea_json, std::string& out, std::string& reason) {
  State& state = *state_;

  state.buffer.resize(idea_json.size() + simdjson::SIMDJSON_PADDING);
  std::memcpy(state.buffer.data(), idea_json.data(), idea_json.size());
  dom::element document;
  if (const simdjson::error_code error =
          state.parser.parse(state.buffer.data(), idea_json.size(), false).get(document)) {
    reason = fmt::format("invalid JSON: {}", simdjson::error_message(error));
    return MapOutcome::Invalid;
  }
  dom::object root;
  if (document.get_object().get(root) != simdjson::SUCCESS || string_member(root, "Format") != "IDEA0") {
    reason = "not an IDEA0 record (no \"Format\": \"IDEA0\"); put idea_normalize before stix";
    return MapOutcome::Invalid;
  }
  const std::optional<std::string_view> alert_id = string_member(root, "ID");
  if (!alert_id || alert_id->empty()) {
    reason = "IDEA0 record without an ID; STIX ids are derived from it";
    return MapOutcome::Invalid;
  }
  const std::optional<std::int64_t> detect_time = time_member(root, "DetectTime");
  if (!detect_time) {
    reason = "IDEA0 record without a valid DetectTime; STIX created and modified come from it";
    return MapOutcome::Invalid;
  }
  if (!state.collect_iocs(root, reason)) {
    return MapOutcome::Invalid;
  }
  if (state.ioc_count == 0) {
    return MapOutcome::NoIndicator;
  }

  // Read the rest of the record.
  const std::int64_t event_time = time_member(root, "EventTime").value_or(*detect_time);
  const std::int64_t cease_time = std::max(event_time, time_member(root, "CeaseTime").value_or(event_time));
  state.categories.clear();
  dom::array categories;
  if (root.at_key("Category").get_array().get(categories) == simdjson::SUCCESS) {
    for (const dom::element category : categories) {
      std::string_view text;
      if (category.get_string().get(text) == simdjson::SUCCESS) {
        state.categories.push_back(text);
      }
    }
  }
  std::optional<double> confidence;
  if (double value = 0; root.at_key("Confidence").get_double().get(value) == simdjson::SUCCESS) {
    confidence = value;
  }
  const std::optional<std::string_view> description = string_member(root, "Description");
  std::optional<std::string_view> evidence_type;
  std::optional<std::string_view> threat_level;
  if (dom::object slips; root.at_key("_Slips").get_object().get(slips) == simdjson::SUCCESS) {
    evidence_type = string_member(slips, "EvidenceType");
    threat_level = string_member(slips, "ThreatLevel");
  }
  const std::int64_t count =
      std::clamp<std::int64_t>(integer_member(root, "ConnCount").value_or(1), 1, kMaxCount);
  const MapperOptions& options = state.options;

  // The bundle and the identity.
  out += "{\"type\":\"bundle\",\"id\":\"";
  state.scratch.assign(*alert_id).append("/bundle");
  state.uuid.append_id("bundle", kSlipwayNamespace, state.scratch, out);
  out += "\",\"objects\":[";
  out += state.identity_json;

  // One indicator per IoC.
  std::string& created = state.created;
  created.clear();
  append_timestamp(*detect_time, created);
  for (Ioc& ioc : state.current_iocs()) {
    ioc.indicator_id.clear();
    state.scratch.assign(*alert_id).append("/indicator/").append(ioc.pattern);
    state.uuid.append_id("indicator", kSlipwayNamespace, state.scratch, ioc.indicator_id);

    out += ",{\"type\":\"indicator\",\"spec_version\":\"2.1\",\"id\":\"";
    out += ioc.indicator_id;
    out += "\",\"created_by_ref\":\"";
    out += state.identity_id;
    out += '"';
    append_string_member("created", created, out);
    append_string_member("modified", created, out);
    if (evidence_type && !evidence_type->empty()) {
      append_string_member("name", *evidence_type, out);
    } else if (!state.categories.empty()) {
      append_string_member("name", state.categories.front(), out);
    }
    if (description && !description->empty()) {
      append_string_member("description", *description, out);
    }
    out += ",\"indicator_types\":[\"";
    out += indicator_type_for(state.categories.empty() ? std::string_view() : state.categories.front());
    out += "\"]";
    append_string_member("pattern", ioc.pattern, out);
    out += ",\"pattern_type\":\"stix\",\"pattern_version\":\"2.1\"";
    append_time_member("valid_from", event_time, out);
    if (confidence) {
      const double scaled = std::clamp(std::round(*confidence * kMaxConfidence), 0.0, kMaxConfidence);
      out += ",\"confidence\":";
      append_integer(static_cast<std::int64_t>(scaled), out);
    }
    if (!state.categories.empty()) {
      out += ",\"labels\":[";
      for (std::size_t index = 0; index < state.categories.size(); ++index) {
        out += index == 0 ? "" : ",";
        json::append_quoted(state.categories[index], out);
      }
      out += ']';
    }
    if (options.slips_properties) {
      append_string_member("x_slips_evidence_id", *alert_id, out);
      if (threat_level && !threat_level->empty()) {
        append_string_member("x_slips_threat_level", *threat_level, out);
      }
    }
    out += '}';
  }

  // Observables and what was observed.
  std::string observed_data_id;
  if (options.observed_data) {
    state.append_observables(out);
    state.scratch.assign(*alert_id).append("/observed-data");
    state.uuid.append_id("observed-data", kSlipwayNamespace, state.scratch, observed_data_id);
    out += ",{\"type\":\"observed-data\",\"spec_version\":\"2.1\",\"id\":\"";
    out += observed_data_id;
    out += "\",\"created_by_ref\":\"";
    out += state.identity_id;
    out += '"';
    append_string_member("created", created, out);
    append_string_member("modified", created, out);
    append_time_member("first_observed", event_time, out);
    append_time_member("last_observed", cease_time, out);
    out += ",\"number_observed\":";
    append_integer(count, out);
    out += ",\"object_refs\":[";
    for (std::size_t index = 0; index < state.observable_ids.size(); ++index) {
      out += index == 0 ? "\"" : ",\"";
      out += state.observable_ids[index];
      out += '"';
    }
    out += "]}";
  }

  // One sighting of each indicator by this sensor.
  if (options.sighting) {
    for (const Ioc& ioc : state.current_iocs()) {
      out += ",{\"type\":\"sighting\",\"spec_version\":\"2.1\",\"id\":\"";
      state.scratch.assign(*alert_id).append("/sighting/").append(ioc.pattern);
      state.uuid.append_id("sighting", kSlipwayNamespace, state.scratch, out);
      out += "\",\"created_by_ref\":\"";
      out += state.identity_id;
      out += '"';
      append_string_member("created", created, out);
      append_string_member("modified", created, out);
      append_time_member("first_seen", event_time, out);
      append_time_member("last_seen", cease_time, out);
      out += ",\"count\":";
      append_integer(count, out);
      append_string_member("sighting_of_ref", ioc.indicator_id, out);
      if (!observed_data_id.empty()) {
        out += ",\"observed_data_refs\":[\"" + observed_data_id + "\"]";
      }
      out += ",\"where_sighted_refs\":[\"" + state.identity_id + "\"]}";
    }
  }

  out += "]}";
  return MapOutcome::Mapped;
}

}  // namespace slipway::stix
