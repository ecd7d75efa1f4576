// IDEA0 lines: Slips 1.1.1 and earlier wrote evidence as IDEA0 with extra
// members (uids, accumulated_threat_level, timewindow) and the description
// only as an attachment. Values are re-checked against the IDEA0 syntax,
// since older Slips versions wrote some of them wrongly (upper-case
// protocols, Size outside Attach).
#include <fmt/format.h>

#include "filters/idea/dialects.hpp"
#include "filters/idea/evidence_types.hpp"
#include "filters/idea/idea_syntax.hpp"

namespace slipway::filters::idea {

namespace {

constexpr std::string_view kTextContentType = "text/plain";
// Appended to the ID of a legacy alert line, which reuses the ID of the
// evidence it was copied from.
constexpr std::string_view kAlertIdSuffix = "-alert";

void read_endpoint(const dom::object& object, Endpoint& endpoint) {
  for (const dom::key_value_pair field : object) {
    const std::string_view key = field.key;
    const dom::element& value = field.value;
    // Both address lists are re-classified: a value under the wrong key, or
    // one that is no address, must not make the record invalid.
    if (key == "IP4" || key == "IP6") {
      for_each_string(value, [&](std::string_view address) { endpoint.add_address(address); });
    } else if (key == "Hostname") {
      for_each_string(value, [&](std::string_view name) { endpoint.add_hostname(name); });
    } else if (key == "URL") {
      for_each_string(value, [&](std::string_view url) {
        if (!url.empty()) {
          endpoint.urls.push_back(url);
        }
      });
    } else if (key == "MAC") {
      for_each_string(value, [&](std::string_view mac) {
        if (is_mac(mac)) {
          endpoint.macs.push_back(mac);
        }
      });
    } else if (key == "Port") {
      add_ports(value, endpoint.ports);
    } else if (key == "Proto") {
      for_each_string(value, [&](std::string_view protocol) { endpoint.add_protocol(protocol); });
    } else if (key == "Type") {
      for_each_string(value, [&](std::string_view tag) { endpoint.add_type(tag); });
    } else if (key == "ASN") {
      add_asns(value, endpoint);
    } else if (key == "Note") {
      endpoint.note = value.is_string() ? value.get_string().value_unsafe() : std::string_view{};
    }
  }
}

// Text attachments supply the description when the line has none (Slips
// wrote it only there); file attachments are kept. Slips put a file's
// "Size" at the top level, where IDEA0 does not define it.
void read_attachments(const Members& root, IdeaRecord& record) {
  const std::optional<std::int64_t> top_level_size = integer_member(root, "Size");
  for_each_object(root, "Attach", [&](const dom::object& object) {
    std::string_view content;
    std::string_view content_type;
    FileAttachment file;
    for (const dom::key_value_pair field : object) {
      const std::string_view key = field.key;
      if (key == "Content" && field.value.is_string()) {
        content = field.value.get_string().value_unsafe();
      } else if (key == "ContentType" && field.value.is_string()) {
        content_type = field.value.get_string().value_unsafe();
      } else if (key == "Hash") {
        for_each_string(field.value, [&](std::string_view hash) {
          if (is_hash(hash)) {
            file.hashes.push_back(hash);
          }
        });
      } else if (key == "Type") {
        for_each_string(field.value, [&](std::string_view tag) {
          if (is_tag(tag)) {
            file.types.push_back(tag);
          }
        });
      } else if (key == "FileName") {
        for_each_string(field.value, [&](std::string_view name) { file.file_names.push_back(name); });
      } else if (key == "Size") {
        std::int64_t size = 0;
        if (field.value.get_int64().get(size) == simdjson::SUCCESS) {
          file.size = size;
        }
      }
    }
    if (!content.empty() && (content_type.empty() || content_type == kTextContentType) && record.description.empty()) {
      record.description = content;
    }
    if (file.hashes.empty() && file.file_names.empty() && file.types.empty()) {
      return;
    }
    if (!file.size) {
      file.size = top_level_size;
    }
    record.files.push_back(std::move(file));
  });
}

void read_nodes(const Members& root, IdeaRecord& record) {
  for_each_object(root, "Node", [&](const dom::object& node_object) {
    const Members object(node_object);
    NodeEntry node;
    if (const std::string_view name = string_member(object, "Name"); is_nsid(name)) {
      node.name = name;
    }
    for_each_string_member(object, "Type", [&](std::string_view tag) {
      if (is_tag(tag)) {
        node.types.push_back(tag);
      }
    });
    for_each_string_member(object, "SW", [&](std::string_view software) { node.software.push_back(software); });
    record.nodes.push_back(std::move(node));
  });
}

// True when read_common_extras takes this member of a Slips Note over
// into the extras without loss. The "confidence" member is Slips' label
// (High, Medium or low) for the Confidence value, which the record keeps.
bool is_lifted_extra(std::string_view key, const dom::element& value) {
  using Type = dom::element_type;
  const Type type = value.type();
  if (key == "uids") {
    return type == Type::ARRAY;
  }
  if (key == "accumulated_threat_level") {
    return type == Type::INT64 || type == Type::UINT64 || type == Type::DOUBLE;
  }
  if (key == "timewindow") {
    return type == Type::INT64;
  }
  if (key == "threat_level") {
    return type == Type::STRING && !canonical_threat_level(value.get_string().value_unsafe()).empty();
  }
  return (key == "evidence_type" || key == "profileid" || key == "profile" || key == "confidence") &&
         type == Type::STRING;
}

// Takes the Slips extras out of a Note that is a JSON object, as Slips and
// Slips-like producers write it. When everything in it went into the
// extras the Note is left out; otherwise it stays as written.
void read_note(const Members& root, ReadContext& context, IdeaRecord& record) {
  record.note = string_member(root, "Note");
  dom::object extras;
  if (!record.note.starts_with('{') || !context.note.parse_object(record.note, extras)) {
    return;
  }
  read_common_extras(extras, record);
  for (const dom::key_value_pair field : extras) {
    if (!is_lifted_extra(field.key, field.value)) {
      return;
    }
  }
  record.note = {};
}

bool read_times(const Members& root, ReadContext& context, IdeaRecord& record) {
  const TimeCandidate event_time = time_candidate(root, "EventTime");
  if (!resolve_detect_time({time_candidate(root, "DetectTime"), event_time, time_candidate(root, "CreateTime")},
                           context, record)) {
    return false;
  }
  record.event_time = resolve_time("EventTime", event_time, context, record);
  record.cease_time = resolve_time("CeaseTime", time_candidate(root, "CeaseTime"), context, record);
  record.window_start_time = resolve_time("WinStartTime", time_candidate(root, "WinStartTime"), context, record);
  record.window_end_time = resolve_time("WinEndTime", time_candidate(root, "WinEndTime"), context, record);
  return true;
}

// A legacy alert line is its last evidence written again with "Format":
// "Json", the same ID and the alert sentence as attachment. It becomes an
// alert about the profile IP with an ID of its own, correlated with that
// evidence, so the evidence and the alert cannot be mistaken for
// duplicates downstream.
void convert_legacy_alert(const Members& root, IdeaRecord& record) {
  record.correl_ids.push_back(record.id);
  record.owned_id.assign(record.id);
  record.owned_id += kAlertIdSuffix;
  record.id = record.owned_id;
  record.categories.clear();
  record.description = {};
  record.conn_count.reset();
  record.slips.evidence_type = {};
  if (!record.slips.profile_ip.empty()) {
    record.add_source().add_address(record.slips.profile_ip);
    return;
  }
  for_each_object(root, "Source", [&](const dom::object& object) { read_endpoint(object, record.add_source()); });
}

}  // namespace

// NOTE: AltNames, Ref, AggrID, PredID and members IDEA0 does not define
// are not copied (Slips never wrote them) — a non-Slips IDEA0 producer loses them here.
bool read_idea0(const Members& root, ReadContext& context, IdeaRecord& record) {
  record.format = InputFormat::Idea0;
  const std::string_view format = string_member(root, "Format");
  if (format != "IDEA0" && format != "Json") {
    context.reason = fmt::format(
        "\"Format\" is \"{}\", expected \"IDEA0\" (or \"Json\" for a Slips 1.1.1 alert line)", format);
    return false;
  }
  const bool legacy_alert = format == "Json";
  record.kind = legacy_alert ? RecordKind::Alert : RecordKind::Evidence;
  if (!take_id(root, "ID", context, record)) {
    return false;
  }
  if (!read_times(root, context, record)) {
    return false;
  }

  // A legacy alert's "Category" is the string "Alert"; convert_legacy_alert replaces it.
  for_each_string_member(root, "Category", [&](std::string_view category) { record.add_category(category); });
  record.confidence = number_member(root, "Confidence");
  record.description = string_member(root, "Description");
  read_attachments(root, record);
  read_note(root, context, record);
  read_common_extras(root.object(), record);
  record.conn_count = integer_member(root, "ConnCount");
  record.flow_count = integer_member(root, "FlowCount");
  record.packet_count = integer_member(root, "PacketCount");
  record.byte_count = integer_member(root, "ByteCount");
  add_ids(root, "RelID", record.rel_ids);
  add_ids(root, "CorrelID", record.correl_ids);
  read_nodes(root, record);

  if (legacy_alert) {
    convert_legacy_alert(root, record);
    return true;
  }
  for_each_object(root, "Source", [&](const dom::object& object) { read_endpoint(object, record.add_source()); });
  for_each_object(root, "Target", [&](const dom::object& object) { read_endpoint(object, record.add_target()); });
  return true;
}

}  // namespace slipway::filters::idea
