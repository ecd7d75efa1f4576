// TAXII 1.1 inbox messages (XML message binding 1.1) carrying STIX 1.2
// packages, and the reading of the server's Status_Message. A TAXII 1.1
// server responds with HTTP 200 whatever happened, so only the reply's
// status_type tells success from failure.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "outputs/http/http_client.hpp"

namespace slipway::outputs::taxii {

inline constexpr std::string_view kTaxii11MessageBinding = "urn:taxii.mitre.org:message:xml:1.1";
inline constexpr std::string_view kStix12ContentBinding = "urn:stix.mitre.org:xml:1.2";

// The headers every TAXII 1.1 HTTP request carries; the protocol binding
// follows the URL's scheme.
std::vector<http::Header> taxii11_headers(std::string_view url);

// Builds one STIX 1.2 package holding an Indicator with a CybOX observable
// for each STIX 2.1 indicator in `objects` (compact JSON texts). Returns
// nothing when there is no indicator whose pattern it can express; `error`
// then gives the reason.
std::optional<std::string> stix12_package(const std::vector<std::string>& objects, std::string& error);

// An Inbox_Message to `collection` with one Content_Block per package.
std::string inbox_message(std::string_view message_id, std::string_view collection,
                          const std::vector<const std::string*>& packages);

struct Taxii11Status {
  std::string status_type;  // e.g. "SUCCESS", "FAILURE", "UNAUTHORIZED"
  std::string in_response_to;
  std::string message;  // the Message element's text, when given
};

// Reads a Status_Message; nothing when `body` is not one.
std::optional<Taxii11Status> read_taxii11_status(std::string_view body);

// Status types after which the same message may pass later: RETRY,
// PENDING and NETWORK_ERROR.
bool is_retryable_status_type(std::string_view status_type);

// Status types that blame the message's content, so a message without
// one of its blocks may pass: FAILURE, BAD_MESSAGE and
// UNSUPPORTED_CONTENT_BINDING.
bool is_content_status_type(std::string_view status_type);

}  // namespace slipway::outputs::taxii
