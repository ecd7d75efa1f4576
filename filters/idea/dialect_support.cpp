#include "filters/idea/dialect_support.hpp"

#include <algorithm>
#include <array>
#include <charconv>
#include <cstring>

#include <fmt/format.h>

#include "filters/idea/evidence_types.hpp"
#include "filters/idea/idea_syntax.hpp"

namespace slipway::filters::idea {

namespace {

constexpr std::int64_t kMaxPort = 65535;
constexpr std::string_view kProfilePrefix = "profile_";

timestamp::ParsedTime parse_time_value(const dom::element& value, const timestamp::TimeZone& zone) {
  std::array<char, 32> digits{};
  switch (value.type()) {
    case dom::element_type::STRING:
      return timestamp::parse(value.get_string().value_unsafe(), zone);
    case dom::element_type::DOUBLE:
      return timestamp::epoch_seconds_from_double(value.get_double().value_unsafe());
    case dom::element_type::INT64: {
      const auto written = std::to_chars(digits.data(), digits.data() + digits.size(), value.get_int64().value_unsafe());
      return timestamp::parse_epoch_seconds(std::string_view(digits.data(), written.ptr - digits.data()));
    }
    case dom::element_type::UINT64: {
      const auto written = std::to_chars(digits.data(), digits.data() + digits.size(), value.get_uint64().value_unsafe());
      return timestamp::parse_epoch_seconds(std::string_view(digits.data(), written.ptr - digits.data()));
    }
    default: {
      timestamp::ParsedTime wrong_type;
      wrong_type.error = timestamp::TimeError::Malformed;
      return wrong_type;
    }
  }
}

// The value as written, for notes and reasons: strings without quotes,
// anything else as compact JSON.
std::string raw_text(const dom::element& value) {
  std::string_view text;
  if (value.get_string().get(text) == simdjson::SUCCESS) {
    return std::string(text);
  }
  return simdjson::minify(value);
}

void note_default_zone(std::string_view field, std::string_view source, const dom::element& value,
                       ReadContext& context, IdeaRecord& record) {
  record.time_notes.push_back(TimeNote{field, source,
                                       fmt::format("no UTC offset, read in {}", context.zoneless_zone.name()),
                                       raw_text(value)});
}

}  // namespace

bool NestedJson::parse_object(std::string_view text, dom::object& object) {
  buffer_.resize(text.size() + simdjson::SIMDJSON_PADDING);
  std::memcpy(buffer_.data(), text.data(), text.size());
  dom::element root;
  if (parser_.parse(buffer_.data(), text.size(), false).get(root) != simdjson::SUCCESS) {
    return false;
  }
  return root.get_object().get(object) == simdjson::SUCCESS;
}

void add_ports(const dom::element& value, std::vector<std::int64_t>& ports) {
  const auto add = [&](const dom::element& item) {
    std::int64_t port = 0;
    if (item.get_int64().get(port) == simdjson::SUCCESS && port >= 0 && port <= kMaxPort &&
        std::find(ports.begin(), ports.end(), port) == ports.end()) {
      ports.push_back(port);
    }
  };
  dom::array items;
  if (value.get_array().get(items) == simdjson::SUCCESS) {
    for (const dom::element item : items) {
      add(item);
    }
    return;
  }
  add(value);
}

void add_asns(const dom::element& value, Endpoint& endpoint) {
  const auto add = [&](const dom::element& item) {
    if (const std::optional<std::int64_t> asn = parse_asn(item);
        asn && std::find(endpoint.asns.begin(), endpoint.asns.end(), *asn) == endpoint.asns.end()) {
      endpoint.asns.push_back(*asn);
    }
  };
  dom::array items;
  if (value.get_array().get(items) == simdjson::SUCCESS) {
    for (const dom::element item : items) {
      add(item);
    }
    return;
  }
  add(value);
}

std::optional<std::int64_t> parse_asn(const dom::element& value) {
  std::int64_t number = 0;
  if (value.get_int64().get(number) == simdjson::SUCCESS) {
    return number >= 0 ? std::optional(number) : std::nullopt;
  }
  std::string_view text;
  if (value.get_string().get(text) != simdjson::SUCCESS) {
    return std::nullopt;
  }
  if (text.size() > 2 && (text[0] == 'A' || text[0] == 'a') && (text[1] == 'S' || text[1] == 's')) {
    text.remove_prefix(2);
  }
  const char* end = text.data() + text.size();
  const auto parsed = std::from_chars(text.data(), end, number);
  if (parsed.ec != std::errc() || parsed.ptr != end || number < 0) {
    return std::nullopt;
  }
  return number;
}

void read_enrichment(const dom::object& enrichment, Endpoint& endpoint, IdeaRecord& record) {
  for (const dom::key_value_pair field : enrichment) {
    const std::string_view key = field.key;
    if (key == "AS") {
      dom::element number;
      if (field.value.at_key("number").get(number) == simdjson::SUCCESS) {
        add_asns(number, endpoint);
      }
    } else if (key == "rDNS" || key == "SNI") {
      for_each_string(field.value, [&](std::string_view name) { endpoint.add_hostname(name); });
    } else if (key == "TI") {
      for_each_string(field.value, [&](std::string_view feed) { add_threat_intel(feed, record); });
    }
  }
}

void add_threat_intel(std::string_view feed, IdeaRecord& record) {
  std::vector<std::string_view>& feeds = record.slips.threat_intel;
  if (!feed.empty() && std::find(feeds.begin(), feeds.end(), feed) == feeds.end()) {
    feeds.push_back(feed);
  }
}

void add_ids(const Members& object, std::string_view key, std::vector<std::string_view>& ids) {
  for_each_string_member(object, key, [&](std::string_view id) {
    // NOTE: an ID that breaks the IDEA0 ID syntax is left out of RelID or
    // CorrelID rather than failing the record — the link is lost, the record is not.
    if (is_idea_id(id)) {
      ids.push_back(id);
    }
  });
}

bool take_id(const Members& object, std::string_view key, ReadContext& context, IdeaRecord& record) {
  const std::string_view id = string_member(object, key);
  if (id.empty()) {
    context.reason = fmt::format("missing or empty \"{}\": IDEA0 requires an ID", key);
    return false;
  }
  if (!is_idea_id(id)) {
    context.reason = fmt::format(
        "\"{}\" value \"{}\" is not a valid IDEA0 ID: only letters, digits, '.', '_' and '-' are allowed", key, id);
    return false;
  }
  record.id = id;
  return true;
}

void read_common_extras(const dom::object& object, IdeaRecord& record) {
  SlipsExtras& slips = record.slips;
  for (const dom::key_value_pair field : object) {
    const std::string_view key = field.key;
    const dom::element& value = field.value;
    std::string_view text;
    if (key == "uids") {
      for_each_string(value, [&](std::string_view uid) { slips.uids.push_back(uid); });
    } else if (key == "accumulated_threat_level") {
      double level = 0;
      if (value.get_double().get(level) == simdjson::SUCCESS) {
        slips.accumulated_threat_level = level;
      }
    } else if (key == "timewindow") {
      std::int64_t window = 0;
      if (value.get_int64().get(window) == simdjson::SUCCESS) {
        slips.timewindow = window;
      }
    } else if (key == "threat_level") {
      // A legacy alert line has a number here, the accumulated level, which is skipped.
      if (value.get_string().get(text) == simdjson::SUCCESS && !canonical_threat_level(text).empty()) {
        slips.threat_level = canonical_threat_level(text);
      }
    } else if (key == "evidence_type") {
      if (value.get_string().get(text) == simdjson::SUCCESS && !text.empty()) {
        slips.evidence_type = text;
      }
    } else if (key == "profileid" || key == "profile") {
      if (value.get_string().get(text) != simdjson::SUCCESS) {
        continue;
      }
      if (text.starts_with(kProfilePrefix)) {
        text.remove_prefix(kProfilePrefix.size());
      }
      if (!text.empty()) {
        slips.profile_ip = text;
      }
    }
  }
}

TimeCandidate time_candidate(const Members& object, std::string_view key) {
  return TimeCandidate{key, member(object, key)};
}

bool resolve_detect_time(std::initializer_list<TimeCandidate> candidates, ReadContext& context, IdeaRecord& record) {
  constexpr std::string_view kField = "DetectTime";
  const std::size_t first_note = record.time_notes.size();
  for (const TimeCandidate& candidate : candidates) {
    if (!candidate.value) {
      record.time_notes.push_back(TimeNote{kField, {}, fmt::format("{} missing", candidate.source), {}});
      continue;
    }
    const timestamp::ParsedTime parsed = parse_time_value(*candidate.value, context.zoneless_zone);
    if (!parsed.ok()) {
      record.time_notes.push_back(TimeNote{kField, {},
                                           fmt::format("{} invalid ({})", candidate.source,
                                                       timestamp::describe(parsed.error)),
                                           raw_text(*candidate.value)});
      continue;
    }
    record.detect_time = parsed.utc_micros;
    for (std::size_t index = first_note; index < record.time_notes.size(); ++index) {
      record.time_notes[index].source = candidate.source;
    }
    if (parsed.default_zone_applied) {
      note_default_zone(kField, candidate.source, *candidate.value, context, record);
    }
    return true;
  }

  std::string reason = "no valid time for DetectTime:";
  for (std::size_t index = first_note; index < record.time_notes.size(); ++index) {
    const TimeNote& note = record.time_notes[index];
    reason += index == first_note ? " " : "; ";
    reason += note.issue;
    if (!note.raw.empty()) {
      reason += fmt::format(" \"{}\"", note.raw);
    }
  }
  context.reason = std::move(reason);
  return false;
}

std::optional<std::int64_t> resolve_time(std::string_view field, const TimeCandidate& candidate,
                                         ReadContext& context, IdeaRecord& record) {
  if (!candidate.value) {
    return std::nullopt;
  }
  const timestamp::ParsedTime parsed = parse_time_value(*candidate.value, context.zoneless_zone);
  if (!parsed.ok()) {
    record.time_notes.push_back(TimeNote{
        field, {}, fmt::format("{} invalid ({})", candidate.source, timestamp::describe(parsed.error)),
        raw_text(*candidate.value)});
    return std::nullopt;
  }
  if (parsed.default_zone_applied) {
    note_default_zone(field, candidate.source, *candidate.value, context, record);
  }
  return parsed.utc_micros;
}

}  // namespace slipway::filters::idea
