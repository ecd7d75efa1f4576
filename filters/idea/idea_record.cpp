#include "filters/idea/idea_record.hpp"

#include <algorithm>

#include "filters/idea/idea_syntax.hpp"

namespace slipway::filters::idea {

namespace {

void add_unique(std::vector<std::string_view>& values, std::string_view value) {
  if (std::find(values.begin(), values.end(), value) == values.end()) {
    values.push_back(value);
  }
}

Endpoint& next_endpoint(std::vector<Endpoint>& endpoints, std::size_t& count) {
  if (count == endpoints.size()) {
    endpoints.emplace_back();
  }
  return endpoints[count++];
}

}  // namespace

std::string_view input_format_name(InputFormat format) {
  switch (format) {
    case InputFormat::Idmef:
      return "IDMEFv2";
    case InputFormat::Idea0:
      return "IDEA0";
    case InputFormat::RedisEvidence:
      return "Redis evidence";
    case InputFormat::RedisAlert:
      return "Redis alert";
  }
  return "unknown";
}

void Endpoint::clear() {
  ip4.clear();
  ip6.clear();
  hostnames.clear();
  urls.clear();
  macs.clear();
  ports.clear();
  protocols.clear();
  types.clear();
  asns.clear();
  unparsed_addresses.clear();
  note = {};
}

bool Endpoint::empty() const {
  return ip4.empty() && ip6.empty() && hostnames.empty() && urls.empty() && macs.empty() && ports.empty() &&
         protocols.empty() && types.empty() && asns.empty() && unparsed_addresses.empty() && note.empty();
}

void Endpoint::add_address(std::string_view address) {
  if (address.empty()) {
    return;
  }
  if (is_net4(address)) {
    add_unique(ip4, address);
  } else if (is_net6(address)) {
    add_unique(ip6, address);
  } else {
    add_unique(unparsed_addresses, address);
  }
}

void Endpoint::add_hostname(std::string_view hostname) {
  if (!hostname.empty()) {
    add_unique(hostnames, hostname);
  }
}

void Endpoint::add_protocol(std::string_view protocol) {
  if (!is_protocol_name(protocol)) {
    return;
  }
  // Names differing only by case are the same protocol.
  const auto lower = [](char c) { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c; };
  for (const std::string_view known : protocols) {
    if (known.size() == protocol.size() &&
        std::equal(known.begin(), known.end(), protocol.begin(),
                   [&](char left, char right) { return lower(left) == lower(right); })) {
      return;
    }
  }
  protocols.push_back(protocol);
}

void Endpoint::add_type(std::string_view tag) {
  if (is_tag(tag)) {
    add_unique(types, tag);
  }
}

void SlipsExtras::clear() {
  evidence_type = {};
  threat_level = {};
  accumulated_threat_level.reset();
  timewindow.reset();
  profile_ip = {};
  uids.clear();
  threat_intel.clear();
  method = {};
}

void IdeaRecord::clear() {
  format = InputFormat::Idmef;
  kind = RecordKind::Evidence;
  id = {};

  detect_time.reset();
  event_time.reset();
  cease_time.reset();
  window_start_time.reset();
  window_end_time.reset();

  categories.clear();
  confidence.reset();
  description = {};
  note = {};
  files.clear();
  conn_count.reset();
  flow_count.reset();
  packet_count.reset();
  byte_count.reset();
  rel_ids.clear();
  correl_ids.clear();
  nodes.clear();
  slips.clear();
  time_notes.clear();

  owned_id.clear();
  owned_description.clear();
  owned_hash.clear();

  // Only the used endpoints are cleared; the spares beyond them already are.
  for (std::size_t index = 0; index < source_count_; ++index) {
    sources_[index].clear();
  }
  for (std::size_t index = 0; index < target_count_; ++index) {
    targets_[index].clear();
  }
  source_count_ = 0;
  target_count_ = 0;
}

Endpoint& IdeaRecord::add_source() { return next_endpoint(sources_, source_count_); }

Endpoint& IdeaRecord::add_target() { return next_endpoint(targets_, target_count_); }

void IdeaRecord::add_category(std::string_view category) {
  if (is_event_tag(category)) {
    add_unique(categories, category);
  }
}

}  // namespace slipway::filters::idea
