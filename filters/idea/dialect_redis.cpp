// JSON that Slips publishes on Redis: evidence (evidence_added and
// export_evidence) and alerts (new_alert). Evidence is the richest form:
// it names its evidence type and gives both ports.
#include <fmt/format.h>

#include "filters/idea/dialects.hpp"
#include "filters/idea/evidence_types.hpp"
#include "filters/idea/idea_syntax.hpp"

namespace slipway::filters::idea {

namespace {

// Reads an attacker or victim object into `endpoint`. An MD5 indicator is
// a file, not a network party, so it becomes a file attachment.
void read_party(const Members& party, Endpoint& endpoint, IdeaRecord& record) {
  const std::string_view kind = string_member(party, "ioc_type");
  const std::string_view value = string_member(party, "value");
  if (kind == "IP") {
    endpoint.add_address(value);
  } else if (kind == "DOMAIN") {
    endpoint.add_hostname(value);
  } else if (kind == "URL") {
    if (!value.empty()) {
      endpoint.urls.push_back(value);
    }
  } else if (kind == "MD5" && !value.empty() && record.owned_hash.empty()) {
    // Slips uses an MD5 indicator only as the attacker of a downloaded-file
    // evidence, so one owned string suffices; a second one would be skipped.
    record.owned_hash = fmt::format("md5:{}", value);
    if (is_hash(record.owned_hash)) {
      FileAttachment file;
      file.types.push_back("Malware");
      file.hashes.push_back(record.owned_hash);
      record.files.push_back(std::move(file));
    }
  }
  read_enrichment(party.object(), endpoint, record);
}

std::string_view profile_ip(const Members& root) {
  if (const std::optional<dom::object> profile = object_member(root, "profile")) {
    return string_member(Members(*profile), "ip");
  }
  return {};
}

}  // namespace

bool read_redis_evidence(const Members& root, ReadContext& context, IdeaRecord& record) {
  record.format = InputFormat::RedisEvidence;
  record.kind = RecordKind::Evidence;
  if (!take_id(root, "id", context, record)) {
    return false;
  }
  // The evidence timestamp is the time of the flow behind it, the only time
  // the payload has, so it is both when the activity happened and the best
  // known moment of detection.
  const TimeCandidate flow_time = time_candidate(root, "timestamp");
  if (!resolve_detect_time({flow_time}, context, record)) {
    return false;
  }
  record.event_time = record.detect_time;

  record.slips.evidence_type = string_member(root, "evidence_type");
  record.description = string_member(root, "description");
  record.confidence = number_member(root, "confidence");
  record.slips.threat_level = canonical_threat_level(string_member(root, "threat_level"));
  record.slips.profile_ip = profile_ip(root);
  record.slips.method = canonical_method(string_member(root, "method"));
  if (const std::optional<dom::object> window = object_member(root, "timewindow")) {
    record.slips.timewindow = integer_member(Members(*window), "number");
  }
  for_each_string_member(root, "uid", [&](std::string_view uid) { record.slips.uids.push_back(uid); });
  add_ids(root, "rel_id", record.rel_ids);

  // "victim" is false when the evidence has none.
  Endpoint& attacker = record.add_source();
  if (const std::optional<dom::object> party = object_member(root, "attacker")) {
    read_party(Members(*party), attacker, record);
  }
  Endpoint& victim = record.add_target();
  if (const std::optional<dom::object> party = object_member(root, "victim")) {
    read_party(Members(*party), victim, record);
  }
  if (const std::optional<dom::element> port = member(root, "src_port")) {
    add_ports(*port, attacker.ports);
  }
  // A destination port without a victim (a scan of one port across many
  // hosts) still shows what was targeted, so the Target keeps it.
  if (const std::optional<dom::element> port = member(root, "dst_port")) {
    add_ports(*port, victim.ports);
  }
  const std::string_view protocol = string_member(root, "proto");
  attacker.add_protocol(protocol);
  if (!victim.empty()) {
    victim.add_protocol(protocol);
  }
  return true;
}

bool read_redis_alert(const Members& root, ReadContext& context, IdeaRecord& record) {
  record.format = InputFormat::RedisAlert;
  record.kind = RecordKind::Alert;
  if (!take_id(root, "id", context, record)) {
    return false;
  }

  std::optional<Members> window;
  if (const std::optional<dom::object> object = object_member(root, "timewindow")) {
    window.emplace(*object);
  }
  std::optional<Members> last_evidence;
  if (const std::optional<dom::object> object = object_member(root, "last_evidence")) {
    last_evidence.emplace(*object);
  }
  const TimeCandidate window_end = window ? time_candidate(*window, "end_time") : TimeCandidate{"end_time", {}};
  const TimeCandidate last_evidence_time =
      last_evidence ? time_candidate(*last_evidence, "timestamp") : TimeCandidate{"timestamp", {}};
  // The alert is raised while Slips processes the flow of its last
  // evidence, so that flow's time is the closest to the moment of detection.
  if (!resolve_detect_time({time_candidate(root, "last_flow_datetime"), last_evidence_time, window_end}, context,
                           record)) {
    return false;
  }
  if (window) {
    record.window_start_time = resolve_time("WinStartTime", time_candidate(*window, "start_time"), context, record);
    record.window_end_time = resolve_time("WinEndTime", window_end, context, record);
    record.slips.timewindow = integer_member(*window, "number");
  }

  record.confidence = number_member(root, "confidence");
  record.slips.threat_level = canonical_threat_level(string_member(root, "threat_level"));
  record.slips.accumulated_threat_level = number_member(root, "accumulated_threat_level");
  record.slips.profile_ip = profile_ip(root);
  add_ids(root, "correl_id", record.correl_ids);
  record.add_source().add_address(record.slips.profile_ip);
  return true;
}

}  // namespace slipway::filters::idea
