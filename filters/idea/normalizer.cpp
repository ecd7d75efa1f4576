#include "filters/idea/normalizer.hpp"

#include <algorithm>
#include <array>
#include <cstring>

#include <fmt/format.h>

#include "filters/idea/dialects.hpp"
#include "filters/idea/evidence_types.hpp"
#include "filters/idea/idea_syntax.hpp"
#include "filters/idea/idea_writer.hpp"

namespace slipway::filters::idea {

namespace {

// An alert is Slips' verdict that one host's behaviour in one time window
// added up to enough evidence, of whatever kinds, to pass a threshold. No
// single attack class fits, and the IDMEFv2 incident line does not even
// name its evidence types. A fixed category keeps the same alert in the
// same class whichever generation it came from, and the attack classes
// are on the evidence records that CorrelID links.
constexpr std::string_view kAlertCategory = "Anomaly.Behaviour";
constexpr std::string_view kTestCategory = "Test";

constexpr std::string_view kNotSlipsReason =
    "not a Slips record: expected an IDMEFv2 alerts.json line (\"Version\" and \"Status\"), an IDEA0 line "
    "(\"Format\"), a Redis evidence payload (\"evidence_type\" and \"attacker\") or a Redis alert payload "
    "(\"correl_id\" and \"profile\")";

// Slips names the C&C server in the description after one of these.
constexpr std::array<std::string_view, 2> kServerMarkers = {"server IP: ", "destination IP: "};

bool has_address(const Endpoint& endpoint, std::string_view address) {
  return std::find(endpoint.ip4.begin(), endpoint.ip4.end(), address) != endpoint.ip4.end() ||
         std::find(endpoint.ip6.begin(), endpoint.ip6.end(), address) != endpoint.ip6.end();
}

std::string_view command_and_control_server(std::string_view description) {
  for (const std::string_view marker : kServerMarkers) {
    const std::size_t at = description.find(marker);
    if (at == std::string_view::npos) {
      continue;
    }
    std::string_view server = description.substr(at + marker.size());
    server = server.substr(0, server.find(' '));
    if (is_ipv4(server) || is_ipv6(server)) {
      return server;
    }
  }
  return {};
}

// Slips 1.1 described a C&C channel with two Sources: the infected client
// tagged Botnet and the server tagged CC, carrying the connection's port
// and protocol. The current formats give the client as attacker and the
// server as victim; this restores the two-Source form.
void apply_command_and_control_roles(IdeaRecord& record) {
  const std::string_view server = command_and_control_server(record.description);
  if (server.empty()) {
    record.source(0).add_type("Botnet");
    return;
  }
  // The twin evidence has the server as attacker.
  if (has_address(record.source(0), server)) {
    record.source(0).add_type("CC");
    return;
  }
  record.source(0).add_type("Botnet");
  Endpoint& server_source = record.add_source();
  server_source.add_address(server);
  server_source.add_type("CC");
  server_source.protocols = record.source(0).protocols;
  for (std::size_t index = 0; index < record.target_count(); ++index) {
    if (has_address(record.target(index), server)) {
      server_source.ports = record.target(index).ports;
    }
  }
}

void apply_source_tag(IdeaRecord& record, const EvidenceType& type) {
  if (record.source_count() == 0) {
    return;
  }
  if (type.name == "COMMAND_AND_CONTROL_CHANNEL" && record.format != InputFormat::Idea0) {
    apply_command_and_control_roles(record);
    return;
  }
  if (!type.source_tag.empty() && record.source(0).types.empty()) {
    record.source(0).add_type(type.source_tag);
  }
}

void describe_alert(IdeaRecord& record) {
  std::string& text = record.owned_description;
  text = "Slips alert: ";
  text += record.slips.profile_ip.empty() ? std::string_view("a host") : record.slips.profile_ip;
  text += " detected as malicious";
  if (record.slips.timewindow) {
    text += fmt::format(" in time window {}", *record.slips.timewindow);
  }
  if (record.slips.accumulated_threat_level) {
    text += fmt::format(" with accumulated threat level {}", *record.slips.accumulated_threat_level);
  }
  text += '.';
  record.description = text;
}

void settle_description(IdeaRecord& record) {
  if (record.kind == RecordKind::Alert) {
    describe_alert(record);
    return;
  }
  const DescriptionParts parts = split_threat_level(record.description);
  record.description = parts.text;
  if (record.slips.threat_level.empty()) {
    record.slips.threat_level = parts.threat_level;
  }
}

// The Warden exporter of Slips 1.1.21 writes only "Test" in place of the
// real category. Such a record gets its category recovered as if it had none.
bool has_real_category(const IdeaRecord& record) {
  return std::any_of(record.categories.begin(), record.categories.end(),
                     [](std::string_view category) { return category != kTestCategory; });
}

void settle_category(IdeaRecord& record, bool test_category) {
  const bool derive_category = !has_real_category(record);
  // The type is looked up only when something depends on it: a category
  // to derive, or an evidence type the input did not name.
  const EvidenceType* type = nullptr;
  if (record.kind == RecordKind::Evidence && (derive_category || record.slips.evidence_type.empty())) {
    type = find_evidence_type(record.slips.evidence_type);
    if (type == nullptr) {
      type = classify_description(record.description);
    }
    if (record.slips.evidence_type.empty()) {
      record.slips.evidence_type = type != nullptr ? type->name : kUnknownEvidenceType;
    }
  }

  if (derive_category) {
    const std::string_view category = record.kind == RecordKind::Alert ? kAlertCategory
                                       : type != nullptr               ? type->category
                                                                       : kOtherCategory;
    record.categories.insert(record.categories.begin(), category);
    if (type != nullptr) {
      apply_source_tag(record, *type);
    }
  }
  if (test_category) {
    record.add_category(kTestCategory);
  }
}

void settle_times(IdeaRecord& record) {
  // An activity cannot start after it was detected. Slips 1.1.1 and
  // earlier wrote the logging time, a few microseconds after DetectTime, as
  // EventTime, and such a value carries nothing about the activity.
  if (record.event_time && record.detect_time && *record.event_time > *record.detect_time) {
    record.time_notes.push_back(
        TimeNote{"EventTime", {}, "later than DetectTime, left out", timestamp::format_utc(*record.event_time)});
    record.event_time.reset();
  }
}

void settle_confidence(IdeaRecord& record) {
  // NOTE: out-of-range confidence is clamped to [0, 1] without a note —
  // Slips computes an alert's confidence from its threat level without
  // bounds, and IDEA0 rejects values outside that range.
  if (record.confidence) {
    record.confidence = std::clamp(*record.confidence, 0.0, 1.0);
  }
}

}  // namespace

struct Normalizer::State {
  NormalizerOptions options;
  dom::parser parser;
  std::string buffer;  // the input with simdjson's required padding
  NestedJson note;
  NestedJson source_note;
  NestedJson target_note;
  IdeaRecord record;
};

Normalizer::Normalizer(NormalizerOptions options) : state_(std::make_unique<State>()) {
  state_->options = std::move(options);
}

Normalizer::~Normalizer() = default;

bool Normalizer::normalize(std::string_view json, std::string& out, std::string& reason) {
  State& state = *state_;
  IdeaRecord& record = state.record;
  record.clear();

  state.buffer.resize(json.size() + simdjson::SIMDJSON_PADDING);
  std::memcpy(state.buffer.data(), json.data(), json.size());
  dom::element document;
  if (const simdjson::error_code error = state.parser.parse(state.buffer.data(), json.size(), false).get(document)) {
    reason = fmt::format("invalid JSON: {}", simdjson::error_message(error));
    return false;
  }
  dom::object root;
  if (document.get_object().get(root) != simdjson::SUCCESS) {
    reason = "top-level value is not a JSON object";
    return false;
  }
  const Members members(root);
  const std::optional<InputFormat> format = detect_format(members);
  if (!format) {
    reason = kNotSlipsReason;
    return false;
  }

  ReadContext context{state.options.zoneless_zone, state.note, state.source_note, state.target_note, reason};
  bool read = false;
  switch (*format) {
    case InputFormat::Idmef:
      read = read_idmef(members, context, record);
      break;
    case InputFormat::Idea0:
      read = read_idea0(members, context, record);
      break;
    case InputFormat::RedisEvidence:
      read = read_redis_evidence(members, context, record);
      break;
    case InputFormat::RedisAlert:
      read = read_redis_alert(members, context, record);
      break;
  }
  if (!read) {
    return false;
  }

  settle_times(record);
  settle_confidence(record);
  settle_description(record);
  settle_category(record, state.options.test_category);
  write_idea(record, WriterOptions{state.options.node_name}, out);
  return true;
}

}  // namespace slipway::filters::idea
