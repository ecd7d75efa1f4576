#include "outputs/taxii/taxii11.hpp"

#include <algorithm>
#include <array>

#include <fmt/format.h>

#include "engine/json.hpp"

namespace slipway::outputs::taxii {

namespace {

constexpr std::string_view kMessageNamespace = "http://taxii.mitre.org/messages/taxii_xml_binding-1.1";
// STIX 1.x ids are qualified names; this prefix's namespace marks ids
// slipway made, and the UUID part is the one of the STIX 2.1 id.
constexpr std::string_view kIdNamespace = "urn:slipway:stix";

struct Observable {
  std::string object_type;  // ipv4-addr, ipv6-addr, domain-name, url
  bool network = false;     // an ISSUBSET comparison: a CIDR block
  std::string value;
};

void append_xml_text(std::string_view text, std::string& out) {
  for (const char character : text) {
    switch (character) {
      case '&':
        out += "&amp;";
        break;
      case '<':
        out += "&lt;";
        break;
      case '>':
        out += "&gt;";
        break;
      case '"':
        out += "&quot;";
        break;
      case '\'':
        out += "&apos;";
        break;
      default:
        // XML 1.0 allows no control characters other than tab, LF and CR.
        if (static_cast<unsigned char>(character) < 0x20 && character != '\t' && character != '\n' &&
            character != '\r') {
          out += ' ';
        } else {
          out += character;
        }
    }
  }
}

std::string string_member(const json::Value& object, std::string_view key) {
  const json::Value* value = object.find(key);
  return value != nullptr && value->is_string() ? value->as_string() : std::string();
}

// Reads the comparisons of a pattern in the form the `stix` filter writes:
// `[<type>:value = '<literal>' OR <type>:value ISSUBSET '<literal>' ...]`.
std::optional<std::vector<Observable>> read_pattern(std::string_view pattern) {
  if (pattern.size() < 2 || pattern.front() != '[' || pattern.back() != ']') {
    return std::nullopt;
  }
  std::vector<Observable> observables;
  std::size_t position = 1;
  while (true) {
    const std::size_t colon = pattern.find(":value ", position);
    if (colon == std::string_view::npos) {
      return std::nullopt;
    }
    Observable observable;
    observable.object_type = std::string(pattern.substr(position, colon - position));
    position = colon + 7;
    if (pattern.substr(position, 3) == "= '") {
      position += 3;
    } else if (pattern.substr(position, 10) == "ISSUBSET '") {
      observable.network = true;
      position += 10;
    } else {
      return std::nullopt;
    }
    while (position < pattern.size() && pattern[position] != '\'') {
      if (pattern[position] == '\\' && position + 1 < pattern.size()) {
        ++position;
      }
      observable.value += pattern[position++];
    }
    ++position;  // the closing quote
    observables.push_back(std::move(observable));
    if (pattern.substr(position, 4) == " OR ") {
      position += 4;
      continue;
    }
    if (position + 1 == pattern.size()) {
      return observables;
    }
    return std::nullopt;
  }
}

std::string uuid_of(std::string_view stix_id) {
  const std::size_t separator = stix_id.find("--");
  return std::string(separator == std::string_view::npos ? stix_id : stix_id.substr(separator + 2));
}

void append_object(const Observable& observable, std::string& out) {
  out += "<cybox:Object><cybox:Properties ";
  if (observable.object_type == "ipv4-addr" || observable.object_type == "ipv6-addr") {
    const std::string category = observable.object_type.substr(0, 4) + (observable.network ? "-net" : "-addr");
    out += "xsi:type=\"AddressObj:AddressObjectType\" category=\"" + category +
           "\"><AddressObj:Address_Value condition=\"Equals\">";
    append_xml_text(observable.value, out);
    out += "</AddressObj:Address_Value>";
  } else if (observable.object_type == "domain-name") {
    out += "xsi:type=\"DomainNameObj:DomainNameObjectType\"><DomainNameObj:Value condition=\"Equals\">";
    append_xml_text(observable.value, out);
    out += "</DomainNameObj:Value>";
  } else {
    out += "xsi:type=\"URIObj:URIObjectType\" type=\"URL\"><URIObj:Value condition=\"Equals\">";
    append_xml_text(observable.value, out);
    out += "</URIObj:Value>";
  }
  out += "</cybox:Properties></cybox:Object>";
}

bool append_indicator(const json::Value& indicator, std::string& out) {
  const std::optional<std::vector<Observable>> observables = read_pattern(string_member(indicator, "pattern"));
  if (!observables || observables->empty()) {
    return false;
  }
  const std::string uuid = uuid_of(string_member(indicator, "id"));
  out += "<stix:Indicator xsi:type=\"indicator:IndicatorType\" id=\"slipway:indicator-" + uuid + "\" timestamp=\"";
  append_xml_text(string_member(indicator, "modified"), out);
  out += "\"><indicator:Title>";
  append_xml_text(string_member(indicator, "name"), out);
  out += "</indicator:Title>";
  if (const std::string description = string_member(indicator, "description"); !description.empty()) {
    out += "<indicator:Description>";
    append_xml_text(description, out);
    out += "</indicator:Description>";
  }
  out += "<indicator:Valid_Time_Position><indicator:Start_Time>";
  append_xml_text(string_member(indicator, "valid_from"), out);
  out += "</indicator:Start_Time></indicator:Valid_Time_Position>";
  out += "<indicator:Observable id=\"slipway:Observable-" + uuid + "\">";
  if (observables->size() == 1) {
    append_object(observables->front(), out);
  } else {
    out += "<cybox:Observable_Composition operator=\"OR\">";
    for (const Observable& observable : *observables) {
      out += "<cybox:Observable>";
      append_object(observable, out);
      out += "</cybox:Observable>";
    }
    out += "</cybox:Observable_Composition>";
  }
  out += "</indicator:Observable></stix:Indicator>";
  return true;
}

std::string attribute(std::string_view element, std::string_view name) {
  const std::string marker = fmt::format(" {}=\"", name);
  const std::size_t start = element.find(marker);
  if (start == std::string_view::npos) {
    return {};
  }
  const std::size_t value_start = start + marker.size();
  const std::size_t end = element.find('"', value_start);
  return end == std::string_view::npos ? std::string() : std::string(element.substr(value_start, end - value_start));
}

}  // namespace

std::vector<http::Header> taxii11_headers(std::string_view url) {
  const bool https = url.starts_with("https://");
  return {
      http::Header{"Content-Type", "application/xml"},
      http::Header{"Accept", "application/xml"},
      http::Header{"X-TAXII-Content-Type", std::string(kTaxii11MessageBinding)},
      http::Header{"X-TAXII-Accept", std::string(kTaxii11MessageBinding)},
      http::Header{"X-TAXII-Protocol",
                   https ? "urn:taxii.mitre.org:protocol:https:1.0" : "urn:taxii.mitre.org:protocol:http:1.0"},
      http::Header{"X-TAXII-Services", "urn:taxii.mitre.org:services:1.1"},
  };
}

std::optional<std::string> stix12_package(const std::vector<std::string>& objects, std::string& error) {
  std::string indicators;
  std::string package_uuid;
  for (const std::string& text : objects) {
    json::ParseResult parsed = json::parse(text);
    if (!parsed.value || string_member(*parsed.value, "type") != "indicator") {
      continue;
    }
    if (!append_indicator(*parsed.value, indicators)) {
      error = fmt::format("the pattern of {} has no form STIX 1.2 can express; only the [<type>:value = '...'] "
                          "patterns of the stix filter are converted",
                          string_member(*parsed.value, "id"));
      return std::nullopt;
    }
    if (package_uuid.empty()) {
      package_uuid = uuid_of(string_member(*parsed.value, "id"));
    }
  }
  if (indicators.empty()) {
    error = "no STIX indicator in the event; TAXII 1.1 carries indicators only";
    return std::nullopt;
  }
  return fmt::format(
      "<stix:STIX_Package xmlns:stix=\"http://stix.mitre.org/stix-1\" "
      "xmlns:indicator=\"http://stix.mitre.org/Indicator-2\" xmlns:cybox=\"http://cybox.mitre.org/cybox-2\" "
      "xmlns:AddressObj=\"http://cybox.mitre.org/objects#AddressObject-2\" "
      "xmlns:DomainNameObj=\"http://cybox.mitre.org/objects#DomainNameObject-1\" "
      "xmlns:URIObj=\"http://cybox.mitre.org/objects#URIObject-2\" "
      "xmlns:xsi=\"http://www.w3.org/2001/XMLSchema-instance\" xmlns:slipway=\"{}\" "
      "id=\"slipway:Package-{}\" version=\"1.2\"><stix:Indicators>{}</stix:Indicators></stix:STIX_Package>",
      kIdNamespace, package_uuid, indicators);
}

std::string inbox_message(std::string_view message_id, std::string_view collection,
                          const std::vector<const std::string*>& packages) {
  std::string message = fmt::format("<taxii_11:Inbox_Message xmlns:taxii_11=\"{}\" message_id=\"", kMessageNamespace);
  append_xml_text(message_id, message);
  message += "\"><taxii_11:Destination_Collection_Name>";
  append_xml_text(collection, message);
  message += "</taxii_11:Destination_Collection_Name>";
  for (const std::string* package : packages) {
    message += fmt::format("<taxii_11:Content_Block><taxii_11:Content_Binding binding_id=\"{}\"/><taxii_11:Content>",
                           kStix12ContentBinding);
    message += *package;
    message += "</taxii_11:Content></taxii_11:Content_Block>";
  }
  message += "</taxii_11:Inbox_Message>";
  return message;
}

std::optional<Taxii11Status> read_taxii11_status(std::string_view body) {
  const std::size_t element = body.find("Status_Message");
  if (element == std::string_view::npos || body.find(kMessageNamespace) == std::string_view::npos) {
    return std::nullopt;
  }
  const std::string_view start_tag = body.substr(element, body.find('>', element) - element);
  Taxii11Status status;
  status.status_type = attribute(start_tag, "status_type");
  status.in_response_to = attribute(start_tag, "in_response_to");
  if (status.status_type.empty()) {
    return std::nullopt;
  }
  const std::size_t message_start = body.find(":Message>");
  if (message_start != std::string_view::npos) {
    const std::size_t text_start = message_start + 9;
    const std::size_t text_end = body.find("</", text_start);
    if (text_end != std::string_view::npos) {
      status.message = std::string(body.substr(text_start, text_end - text_start));
    }
  }
  return status;
}

bool is_retryable_status_type(std::string_view status_type) {
  constexpr std::array<std::string_view, 3> kRetryable = {"RETRY", "PENDING", "NETWORK_ERROR"};
  return std::find(kRetryable.begin(), kRetryable.end(), status_type) != kRetryable.end();
}

bool is_content_status_type(std::string_view status_type) {
  constexpr std::array<std::string_view, 3> kContent = {"FAILURE", "BAD_MESSAGE", "UNSUPPORTED_CONTENT_BINDING"};
  return std::find(kContent.begin(), kContent.end(), status_type) != kContent.end();
}

}  // namespace slipway::outputs::taxii
