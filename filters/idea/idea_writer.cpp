#include "filters/idea/idea_writer.hpp"

#include <array>
#include <span>
#include <utility>

#include "filters/idea/object_writer.hpp"

namespace slipway::filters::idea {

namespace {

constexpr std::string_view kDescriptionHandle = "att1";
constexpr std::string_view kFileHandlePrefix = "att";
constexpr std::string_view kTextContentType = "text/plain";
constexpr std::string_view kUnparsedAddressNote = "address neither IPv4 nor IPv6: ";

// Node Type tag for a detection method in Slips' spelling (see
// canonical_method). A method that is also a Warden node tag maps to
// itself, and Slips' machine-learning detectors ("AI") count as
// statistical. Other methods get no tag.
std::string_view node_tag_for_method(std::string_view method) {
  static constexpr std::array<std::pair<std::string_view, std::string_view>, 12> kTags = {{
      {"AI", "Statistical"},
      {"Blackhole", "Blackhole"},
      {"Correlation", "Correlation"},
      {"Heuristic", "Heuristic"},
      {"Honeypot", "Honeypot"},
      {"Integrity", "Integrity"},
      {"Monitor", "Monitor"},
      {"Policy", "Policy"},
      {"Recon", "Recon"},
      {"Signature", "Signature"},
      {"Statistical", "Statistical"},
      {"Tarpit", "Tarpit"},
  }};
  for (const auto& [name, tag] : kTags) {
    if (method == name) {
      return tag;
    }
  }
  return {};
}

void write_endpoint(const Endpoint& endpoint, std::string& out) {
  ObjectWriter object(out);
  object.plain_strings("IP4", endpoint.ip4);
  object.plain_strings("IP6", endpoint.ip6);
  object.strings("Hostname", endpoint.hostnames);
  object.strings("URL", endpoint.urls);
  object.plain_strings("MAC", endpoint.macs);
  object.integers("Port", endpoint.ports);
  object.protocols("Proto", endpoint.protocols);
  object.plain_strings("Type", endpoint.types);
  object.integers("ASN", endpoint.asns);
  if (endpoint.unparsed_addresses.empty()) {
    object.string("Note", endpoint.note);
    return;
  }
  std::string note(endpoint.note);
  for (const std::string_view address : endpoint.unparsed_addresses) {
    note += note.empty() ? "" : "; ";
    note += kUnparsedAddressNote;
    note += address;
  }
  object.string("Note", note);
}

template <typename EndpointAt>
void write_endpoints(ObjectWriter& parent, std::string_view name, std::size_t count, EndpointAt&& endpoint_at,
                     std::string& out) {
  bool open = false;
  for (std::size_t index = 0; index < count; ++index) {
    const Endpoint& endpoint = endpoint_at(index);
    if (endpoint.empty()) {
      continue;
    }
    if (open) {
      out += ',';
    } else {
      parent.key(name) += '[';
      open = true;
    }
    write_endpoint(endpoint, out);
  }
  if (open) {
    out += ']';
  }
}

void write_attachments(ObjectWriter& parent, const IdeaRecord& record, std::string& out) {
  if (record.description.empty() && record.files.empty()) {
    return;
  }
  parent.key("Attach") += '[';
  std::size_t handle_number = 1;
  if (!record.description.empty()) {
    ObjectWriter attachment(out);
    attachment.plain_string("Handle", kDescriptionHandle);
    attachment.string("Content", record.description);
    attachment.plain_string("ContentType", kTextContentType);
    ++handle_number;
  }
  for (const FileAttachment& file : record.files) {
    if (handle_number > 1) {
      out += ',';
    }
    ObjectWriter attachment(out);
    attachment.plain_string("Handle", std::string(kFileHandlePrefix) + std::to_string(handle_number++));
    attachment.plain_strings("Type", file.types);
    attachment.plain_strings("Hash", file.hashes);
    attachment.strings("FileName", file.file_names);
    attachment.integer("Size", file.size);
  }
  out += ']';
}

void write_nodes(ObjectWriter& parent, const IdeaRecord& record, const WriterOptions& options, std::string& out) {
  if (options.node_name.empty() && record.nodes.empty()) {
    return;
  }
  parent.key("Node") += '[';
  bool first = true;
  if (!options.node_name.empty()) {
    ObjectWriter node(out);
    node.plain_string("Name", options.node_name);
    // Slips detects from network flows; the method adds how.
    const std::string_view method_tag = node_tag_for_method(record.slips.method);
    const std::array<std::string_view, 2> types = {"Flow", method_tag};
    node.plain_strings("Type", std::span(types.data(), method_tag.empty() ? 1 : 2));
    static constexpr std::array<std::string_view, 1> kSoftware = {"Slips"};
    node.strings("SW", kSoftware);
    first = false;
  }
  for (const NodeEntry& entry : record.nodes) {
    if (!first) {
      out += ',';
    }
    first = false;
    ObjectWriter node(out);
    node.plain_string("Name", entry.name);
    node.plain_strings("Type", entry.types);
    node.strings("SW", entry.software);
  }
  out += ']';
}

void write_time_notes(ObjectWriter& parent, const std::vector<TimeNote>& notes, std::string& out) {
  if (notes.empty()) {
    return;
  }
  parent.key("TimeNotes") += '[';
  for (std::size_t index = 0; index < notes.size(); ++index) {
    if (index > 0) {
      out += ',';
    }
    ObjectWriter note(out);
    note.string("Field", notes[index].field);
    note.string("Source", notes[index].source);
    note.string("Issue", notes[index].issue);
    note.string("Raw", notes[index].raw);
  }
  out += ']';
}

void write_extras(ObjectWriter& parent, const IdeaRecord& record, std::string& out) {
  const SlipsExtras& slips = record.slips;
  parent.key(kExtensionMember);
  ObjectWriter extras(out);
  extras.plain_string("InputFormat", input_format_name(record.format));
  extras.plain_string("Kind", record.kind == RecordKind::Alert ? "alert" : "evidence");
  extras.string("EvidenceType", slips.evidence_type);
  extras.plain_string("ThreatLevel", slips.threat_level);
  extras.number("AccumulatedThreatLevel", slips.accumulated_threat_level);
  extras.integer("TimeWindow", slips.timewindow);
  extras.string("ProfileIP", slips.profile_ip);
  extras.strings("UIDs", slips.uids);
  extras.strings("ThreatIntel", slips.threat_intel);
  extras.string("Method", slips.method);
  write_time_notes(extras, record.time_notes, out);
}

}  // namespace

void write_idea(const IdeaRecord& record, const WriterOptions& options, std::string& out) {
  ObjectWriter idea(out);
  idea.plain_string("Format", "IDEA0");
  idea.plain_string("ID", record.id);
  idea.time("DetectTime", record.detect_time);
  idea.time("EventTime", record.event_time);
  idea.time("CeaseTime", record.cease_time);
  idea.time("WinStartTime", record.window_start_time);
  idea.time("WinEndTime", record.window_end_time);
  idea.plain_strings("Category", record.categories);
  idea.number("Confidence", record.confidence);
  idea.string("Description", record.description);
  idea.string("Note", record.note);
  write_endpoints(idea, "Source", record.source_count(),
                  [&](std::size_t index) -> const Endpoint& { return record.source(index); }, out);
  write_endpoints(idea, "Target", record.target_count(),
                  [&](std::size_t index) -> const Endpoint& { return record.target(index); }, out);
  write_attachments(idea, record, out);
  idea.integer("ConnCount", record.conn_count);
  idea.integer("FlowCount", record.flow_count);
  idea.integer("PacketCount", record.packet_count);
  idea.integer("ByteCount", record.byte_count);
  idea.plain_strings("RelID", record.rel_ids);
  idea.plain_strings("CorrelID", record.correl_ids);
  write_nodes(idea, record, options, out);
  write_extras(idea, record, out);
}

}  // namespace slipway::filters::idea
