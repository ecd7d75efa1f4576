// IDMEFv2 lines of alerts.json (Slips 1.1.2 and later). Their shapes
// differ from IDEA0: addresses are single strings under "IP", protocols
// are under "Protocol", and Slips' extras are a JSON document encoded as
// the string "Note", as is each Source's and Target's enrichment.
#include <fmt/format.h>

#include "filters/idea/dialects.hpp"
#include "filters/idea/evidence_types.hpp"
#include "filters/idea/idea_syntax.hpp"

namespace slipway::filters::idea {

namespace {

// Reads one Source or Target object. `note_json` parses its Note; nullptr
// skips the Note, for objects beyond the first, which Slips never writes.
void read_endpoint(const dom::object& object, Endpoint& endpoint, NestedJson* note_json, IdeaRecord& record) {
  std::string_view note_text;
  for (const dom::key_value_pair field : object) {
    const std::string_view key = field.key;
    const dom::element& value = field.value;
    if (key == "IP") {
      for_each_string(value, [&](std::string_view address) { endpoint.add_address(address); });
    } else if (key == "Hostname") {
      for_each_string(value, [&](std::string_view name) { endpoint.add_hostname(name); });
    } else if (key == "URL") {
      for_each_string(value, [&](std::string_view url) {
        if (!url.empty()) {
          endpoint.urls.push_back(url);
        }
      });
    } else if (key == "Port") {
      add_ports(value, endpoint.ports);
    } else if (key == "Protocol") {
      for_each_string(value, [&](std::string_view protocol) { endpoint.add_protocol(protocol); });
    } else if (key == "TI") {
      for_each_string(value, [&](std::string_view feed) { add_threat_intel(feed, record); });
    } else if (key == "Note" && value.is_string()) {
      note_text = value.get_string().value_unsafe();
    }
  }

  dom::object enrichment;
  if (note_json != nullptr && !note_text.empty() && note_json->parse_object(note_text, enrichment)) {
    read_enrichment(enrichment, endpoint, record);
  }
}

// Calls `read` for each object of the array member `key`, passing the
// nested-JSON parser for the first object only.
template <typename Read>
void for_each_endpoint(const Members& root, std::string_view key, NestedJson& first_note, Read&& read) {
  bool first = true;
  for_each_object(root, key, [&](const dom::object& object) {
    read(object, first ? &first_note : nullptr);
    first = false;
  });
}

void read_attachments(const Members& root, IdeaRecord& record) {
  for_each_object(root, "Attachment", [&](const dom::object& attachment) {
    const Members object(attachment);
    // "Name" is a random UUID Slips generates, not a file name, so it is not kept.
    FileAttachment file;
    for_each_string_member(object, "Hash", [&](std::string_view hash) {
      if (is_hash(hash)) {
        file.hashes.push_back(hash);
      }
    });
    file.size = integer_member(object, "Size");
    if (!file.hashes.empty()) {
      record.files.push_back(std::move(file));
    }
  });
}

void read_analyzer_method(const Members& root, IdeaRecord& record) {
  if (const std::optional<dom::object> analyzer = object_member(root, "Analyzer")) {
    for_each_string_member(Members(*analyzer), "Method", [&](std::string_view method) {
      if (record.slips.method.empty()) {
        record.slips.method = canonical_method(method);
      }
    });
  }
}

bool read_times(const Members& root, const std::optional<Members>& note, ReadContext& context,
                IdeaRecord& record) {
  if (!resolve_detect_time({time_candidate(root, "CreateTime"), time_candidate(root, "StartTime")}, context, record)) {
    return false;
  }
  if (record.kind == RecordKind::Evidence) {
    record.event_time = resolve_time("EventTime", time_candidate(root, "StartTime"), context, record);
    return true;
  }
  // An incident's StartTime and Note.EndTime bound Slips' time window.
  record.window_start_time = resolve_time("WinStartTime", time_candidate(root, "StartTime"), context, record);
  if (note) {
    record.window_end_time = resolve_time("WinEndTime", time_candidate(*note, "EndTime"), context, record);
  }
  return true;
}

}  // namespace

bool read_idmef(const Members& root, ReadContext& context, IdeaRecord& record) {
  record.format = InputFormat::Idmef;
  const std::string_view status = string_member(root, "Status");
  if (status == "Event") {
    record.kind = RecordKind::Evidence;
  } else if (status == "Incident") {
    record.kind = RecordKind::Alert;
  } else {
    context.reason = fmt::format("IDMEFv2 \"Status\" is \"{}\", expected \"Event\" or \"Incident\"", status);
    return false;
  }
  if (!take_id(root, "ID", context, record)) {
    return false;
  }

  std::optional<Members> note;
  if (const std::string_view note_text = string_member(root, "Note"); !note_text.empty()) {
    dom::object parsed;
    if (context.note.parse_object(note_text, parsed)) {
      note.emplace(parsed);
      read_common_extras(parsed, record);
    }
  }
  if (!read_times(root, note, context, record)) {
    return false;
  }

  record.confidence = number_member(root, "Confidence");
  record.description = string_member(root, "Description");
  read_analyzer_method(root, record);
  for_each_endpoint(root, "Source", context.source_note, [&](const dom::object& object, NestedJson* note_json) {
    read_endpoint(object, record.add_source(), note_json, record);
  });
  for_each_endpoint(root, "Target", context.target_note, [&](const dom::object& object, NestedJson* note_json) {
    read_endpoint(object, record.add_target(), note_json, record);
  });
  // Slips writes the protocol on the Source only; it is the protocol of
  // the connection, so the Target gets it too.
  if (record.source_count() > 0) {
    for (std::size_t index = 0; index < record.target_count(); ++index) {
      if (record.target(index).protocols.empty()) {
        record.target(index).protocols = record.source(0).protocols;
      }
    }
  }
  read_attachments(root, record);
  add_ids(root, "RelID", record.rel_ids);
  add_ids(root, "CorrelID", record.correl_ids);

  if (record.slips.threat_level.empty()) {
    record.slips.threat_level = split_threat_level(record.description).threat_level;
  }
  // Severity is coarser (Slips writes critical as High), so it comes last.
  if (record.slips.threat_level.empty()) {
    record.slips.threat_level = canonical_threat_level(string_member(root, "Severity"));
  }
  if (record.kind == RecordKind::Alert && record.source_count() > 0) {
    const Endpoint& profile = record.source(0);
    record.slips.profile_ip = !profile.ip4.empty() ? profile.ip4.front()
                              : !profile.ip6.empty() ? profile.ip6.front()
                                                     : std::string_view{};
  }
  return true;
}

}  // namespace slipway::filters::idea
