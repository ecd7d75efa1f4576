// Slips evidence types and their IDEA0 Category and Source Type tag, as
// Slips 1.1 (the last version that wrote them) assigned them. A classifier
// recovers the type from the description of an IDMEFv2 line, which
// carries no type.
#pragma once

#include <string_view>

namespace slipway::filters::idea {

struct EvidenceType {
  std::string_view name;        // Slips' evidence_type, e.g. "HORIZONTAL_PORT_SCAN"
  std::string_view category;    // IDEA0 Category, e.g. "Recon.Scanning"
  std::string_view source_tag;  // IDEA0 Source Type tag, empty when the type has none
};

// Category of evidence whose type is unknown or unrecognised.
inline constexpr std::string_view kOtherCategory = "Other";
// Evidence type reported for descriptions that match no classifier rule.
inline constexpr std::string_view kUnknownEvidenceType = "UNKNOWN";

// The table entry for `name`; nullptr for a name outside the table.
const EvidenceType* find_evidence_type(std::string_view name);

// Recovers the evidence type from a description without its threat-level
// suffix. Rules match case-sensitively, first match wins; nullptr when no
// rule matches.
const EvidenceType* classify_description(std::string_view description);

struct DescriptionParts {
  std::string_view text;          // the description without the suffix
  std::string_view threat_level;  // canonical lower-case level, empty when there was no suffix
};

// Splits the " Threat level: high." suffix (lower-case "threat level"
// before Slips 1.1.20) off a description.
DescriptionParts split_threat_level(std::string_view description);

// The canonical lower-case threat level ("info", "low", "medium", "high",
// "critical") for any capitalisation; empty for anything else. The view
// refers to static storage.
std::string_view canonical_threat_level(std::string_view level);

// Returns Slips' spelling of a detection method ("Heuristic", "AI"), which
// IDMEFv2 lines write capitalised and Redis payloads in upper case. A name
// outside Slips' methods is returned unchanged.
std::string_view canonical_method(std::string_view method);

}  // namespace slipway::filters::idea
