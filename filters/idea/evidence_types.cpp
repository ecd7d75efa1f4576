#include "filters/idea/evidence_types.hpp"

#include <algorithm>
#include <array>

namespace slipway::filters::idea {

namespace {

// Sorted by name for binary search, which a static_assert below checks.
// CN_URL_MISMATCH, GRE_SCAN, LOGIN and TOR_EXIT_NODE appeared after Slips
// 1.1 and never had a category. Theirs follow their closest older
// relatives: INCOMPATIBLE_CN, the scans, SSH_SUCCESSFUL and the
// threat-intelligence types.
constexpr std::array kEvidenceTypes = {
    EvidenceType{"ARP_OUTSIDE_LOCALNET", "Anomaly.Behaviour", ""},
    EvidenceType{"ARP_SCAN", "Recon.Scanning", "Recon"},
    EvidenceType{"BAD_SMTP_LOGIN", "Attempt.Login", ""},
    EvidenceType{"CN_URL_MISMATCH", "Anomaly.Traffic", ""},
    EvidenceType{"COMMAND_AND_CONTROL_CHANNEL", "Intrusion.Botnet", "Botnet"},
    EvidenceType{"CONNECTION_TO_MULTIPLE_PORTS", "Anomaly.Connection", ""},
    EvidenceType{"CONNECTION_TO_PRIVATE_IP", "Recon", ""},
    EvidenceType{"CONNECTION_WITHOUT_DNS", "Anomaly.Connection", "Malware"},
    EvidenceType{"DATA_UPLOAD", "Malware", "OriginMalware"},
    EvidenceType{"DEVICE_CHANGING_IP", "Anomaly.Traffic", ""},
    EvidenceType{"DGA_NXDOMAINS", "Anomaly.Behaviour", "OriginMalware"},
    EvidenceType{"DHCP_SCAN", "Recon.Scanning", "Recon"},
    EvidenceType{"DIFFERENT_LOCALNET", "Anomaly.Traffic", ""},
    EvidenceType{"DNS_ARPA_SCAN", "Recon.Scanning", ""},
    EvidenceType{"DNS_WITHOUT_CONNECTION", "Anomaly.Traffic", ""},
    EvidenceType{"EMPTY_CONNECTIONS", "Anomaly.Connection", ""},
    EvidenceType{"EXECUTABLE_MIME_TYPE", "Anomaly.File", "ExecutableMIMEType"},
    EvidenceType{"GRE_SCAN", "Recon.Scanning", ""},
    EvidenceType{"GRE_TUNNEL", "Information", ""},
    EvidenceType{"HIGH_ENTROPY_DNS_ANSWER", "Anomaly.Traffic", ""},
    EvidenceType{"HORIZONTAL_PORT_SCAN", "Recon.Scanning", "Recon"},
    EvidenceType{"HTTP_TRAFFIC", "Anomaly.Traffic", "SendingUnencryptedData"},
    EvidenceType{"ICMP_ADDRESS_MASK_SCAN", "Recon.Scanning", "Recon"},
    EvidenceType{"ICMP_ADDRESS_SCAN", "Recon.Scanning", "Recon"},
    EvidenceType{"ICMP_TIMESTAMP_SCAN", "Recon.Scanning", "Recon"},
    EvidenceType{"INCOMPATIBLE_CN", "Anomaly.Traffic", ""},
    EvidenceType{"INCOMPATIBLE_USER_AGENT", "Anomaly.Behaviour", ""},
    EvidenceType{"INVALID_DNS_RESOLUTION", "Anomaly.Behaviour", ""},
    EvidenceType{"LOGIN", "Information", ""},
    EvidenceType{"LONG_CONNECTION", "Anomaly.Connection", ""},
    EvidenceType{"MALICIOUS_DOWNLOADED_FILE", "Malware", ""},
    EvidenceType{"MALICIOUS_FLOW", "Anomaly.Traffic", ""},
    EvidenceType{"MALICIOUS_IP_FROM_P2P_NETWORK", "Anomaly.Traffic", ""},
    EvidenceType{"MALICIOUS_JA3", "Intrusion.Botnet", "Botnet"},
    EvidenceType{"MALICIOUS_JA3S", "Intrusion.Botnet", "CC"},
    EvidenceType{"MALICIOUS_JARM", "Anomaly.Traffic", "Malware"},
    EvidenceType{"MALICIOUS_SSL_CERT", "Intrusion.Botnet", "CC"},
    EvidenceType{"MITM_ARP_ATTACK", "Recon", "MITM"},
    EvidenceType{"MULTIPLE_RECONNECTION_ATTEMPTS", "Anomaly.Traffic", ""},
    EvidenceType{"MULTIPLE_SSH_VERSIONS", "Anomaly.Traffic", "Recon"},
    EvidenceType{"MULTIPLE_USER_AGENT", "Anomaly.Behaviour", "MultipleUserAgent"},
    EvidenceType{"NETWORK_GPS_LOCATION_LEAKED", "Malware", "CC"},
    EvidenceType{"NON_HTTP_PORT_80_CONNECTION", "Anomaly.Traffic", ""},
    EvidenceType{"NON_SSL_PORT_443_CONNECTION", "Anomaly.Traffic", ""},
    EvidenceType{"P2P_REPORT", "Anomaly.Connection", ""},
    EvidenceType{"PASSWORD_GUESSING", "Attempt.Login", "Malware"},
    EvidenceType{"PASTEBIN_DOWNLOAD", "Anomaly.Behaviour", "Malware"},
    EvidenceType{"PORT_0_CONNECTION", "Anomaly.Connection", "Recon"},
    EvidenceType{"SELF_SIGNED_CERTIFICATE", "Anomaly.Behaviour", ""},
    EvidenceType{"SMTP_LOGIN_BRUTEFORCE", "Attempt.Login", ""},
    EvidenceType{"SSH_SUCCESSFUL", "Information", ""},
    EvidenceType{"SUSPICIOUS_USER_AGENT", "Anomaly.Traffic", "SuspiciousUserAgent"},
    EvidenceType{"THREAT_INTELLIGENCE_ANSWER_OF_BLACKLISTED_QUERY", "Anomaly.Traffic", "BlacklistedDomain"},
    EvidenceType{"THREAT_INTELLIGENCE_BLACKLISTED_ASN", "Anomaly.Traffic", "BlacklistedASN"},
    EvidenceType{"THREAT_INTELLIGENCE_BLACKLISTED_DNS_ANSWER", "Anomaly.Traffic", "BlacklistedDomain"},
    EvidenceType{"THREAT_INTELLIGENCE_BLACKLISTED_DOMAIN", "Anomaly.Traffic", "BlacklistedDomain"},
    // The name before Slips split it into the FROM and TO variants.
    EvidenceType{"THREAT_INTELLIGENCE_BLACKLISTED_IP", "Anomaly.Traffic", "BlacklistedIP"},
    EvidenceType{"THREAT_INTELLIGENCE_FROM_BLACKLISTED_IP", "Anomaly.Traffic", "BlacklistedIP"},
    EvidenceType{"THREAT_INTELLIGENCE_MALICIOUS_URL", "Malware", ""},
    EvidenceType{"THREAT_INTELLIGENCE_TO_BLACKLISTED_IP", "Anomaly.Traffic", "BlacklistedIP"},
    EvidenceType{"TOR_EXIT_NODE", "Anomaly.Traffic", ""},
    EvidenceType{"UNKNOWN_PORT", "Anomaly.Connection", ""},
    EvidenceType{"UNSOLICITED_ARP", "Information", "Recon"},
    EvidenceType{"VERTICAL_PORT_SCAN", "Recon.Scanning", "Recon"},
    EvidenceType{"WEIRD_HTTP_METHOD", "Anomaly.Traffic", ""},
    EvidenceType{"YOUNG_DOMAIN", "Anomaly.Traffic", ""},
};

constexpr bool by_name(const EvidenceType& left, const EvidenceType& right) { return left.name < right.name; }
static_assert(std::is_sorted(kEvidenceTypes.begin(), kEvidenceTypes.end(), by_name),
              "kEvidenceTypes must stay sorted by name for binary search");

// A description matches when it starts with `prefix` (empty: any) and
// contains `fragment` (empty: anything).
struct ClassifierRule {
  std::string_view prefix;
  std::string_view fragment;
  std::string_view evidence_type;
};

// Description texts of Slips' detection modules (Slips 1.1.x). Order
// matters where rules overlap: peer-to-peer reports reuse the wording of
// blacklisted-IP evidence, so they come first.
constexpr std::array kClassifierRules = {
    ClassifierRule{"", "Source: Slips P2P network.", "MALICIOUS_IP_FROM_P2P_NETWORK"},
    ClassifierRule{"Horizontal port scan to port", "", "HORIZONTAL_PORT_SCAN"},
    ClassifierRule{"new vertical port scan to IP", "", "VERTICAL_PORT_SCAN"},
    ClassifierRule{"SSH password guessing to IP", "", "PASSWORD_GUESSING"},
    ClassifierRule{"Connection to unknown destination port", "", "UNKNOWN_PORT"},
    ClassifierRule{"A connection without DNS resolution to Destination IP:", "", "CONNECTION_WITHOUT_DNS"},
    ClassifierRule{"connection to blacklisted IP:", "", "THREAT_INTELLIGENCE_TO_BLACKLISTED_IP"},
    ClassifierRule{"connection from blacklisted IP:", "", "THREAT_INTELLIGENCE_FROM_BLACKLISTED_IP"},
    ClassifierRule{"connection to a blacklisted domain", "", "THREAT_INTELLIGENCE_BLACKLISTED_DOMAIN"},
    ClassifierRule{"Connection to IP: ", "with blacklisted ASN", "THREAT_INTELLIGENCE_BLACKLISTED_ASN"},
    ClassifierRule{"DNS response with IP: ", "with blacklisted ASN", "THREAT_INTELLIGENCE_BLACKLISTED_ASN"},
    // "client IP:" since Slips 1.1; "destination IP:" in 1.0 descriptions.
    ClassifierRule{"C&C channel, ", "", "COMMAND_AND_CONTROL_CHANNEL"},
    ClassifierRule{"Long Connection.", "", "LONG_CONNECTION"},
    ClassifierRule{"Possible DGA or domain scanning.", "", "DGA_NXDOMAINS"},
    ClassifierRule{"Connecting to private IP:", "", "CONNECTION_TO_PRIVATE_IP"},
    ClassifierRule{"Connection on port 0 from", "", "PORT_0_CONNECTION"},
    ClassifierRule{"Multiple reconnection attempts", "", "MULTIPLE_RECONNECTION_ATTEMPTS"},
    ClassifierRule{"Multiple Telnet reconnection attempts", "", "MULTIPLE_RECONNECTION_ATTEMPTS"},
    ClassifierRule{"Malicious JA3s:", "", "MALICIOUS_JA3S"},
    ClassifierRule{"Malicious JA3:", "", "MALICIOUS_JA3"},
    ClassifierRule{"Malicious JARM hash detected", "", "MALICIOUS_JARM"},
    ClassifierRule{"Malicious SSL certificate to server", "", "MALICIOUS_SSL_CERT"},
    ClassifierRule{"Self-signed certificate.", "", "SELF_SIGNED_CERTIFICATE"},
    ClassifierRule{"Large data upload.", "", "DATA_UPLOAD"},
    ClassifierRule{"Connecting to a malicious URL", "", "THREAT_INTELLIGENCE_MALICIOUS_URL"},
    ClassifierRule{"Malicious downloaded file:", "", "MALICIOUS_DOWNLOADED_FILE"},
    ClassifierRule{"SSH successful to IP", "", "SSH_SUCCESSFUL"},
    ClassifierRule{"Incompatible certificate CN", "", "INCOMPATIBLE_CN"},
    ClassifierRule{"A DNS TXT answer with high entropy.", "", "HIGH_ENTROPY_DNS_ANSWER"},
    ClassifierRule{"A device changing IPs.", "", "DEVICE_CHANGING_IP"},
    ClassifierRule{"A connection from a private IP (", "", "DIFFERENT_LOCALNET"},
    ClassifierRule{"A connection to a private IP (", "", "DIFFERENT_LOCALNET"},
    ClassifierRule{"Multiple empty HTTP connections to", "", "EMPTY_CONNECTIONS"},
    ClassifierRule{"Download of an executable with MIME type:", "", "EXECUTABLE_MIME_TYPE"},
    ClassifierRule{"A downloaded file from pastebin.com.", "", "PASTEBIN_DOWNLOAD"},
    ClassifierRule{"Unencrypted HTTP traffic from", "", "HTTP_TRAFFIC"},
    ClassifierRule{"Weird HTTP method", "", "WEIRD_HTTP_METHOD"},
    ClassifierRule{"GRE tunnel from", "", "GRE_TUNNEL"},
    ClassifierRule{"GRE scan from", "", "GRE_SCAN"},
    ClassifierRule{"A connection to TOR exit node", "", "TOR_EXIT_NODE"},
    ClassifierRule{"SSH client version changing from", "", "MULTIPLE_SSH_VERSIONS"},
    ClassifierRule{"SSH server version changing from", "", "MULTIPLE_SSH_VERSIONS"},
    ClassifierRule{"Flow with malicious characteristics by ML.", "", "MALICIOUS_FLOW"},
    ClassifierRule{"HTTPS anomaly:", "", "MALICIOUS_FLOW"},
    ClassifierRule{"domain ", "resolved with no connection", "DNS_WITHOUT_CONNECTION"},
    // These phrases follow an address or a domain name, so they are found
    // anywhere in the text. Slower than prefixes, hence last.
    ClassifierRule{"", "horizontal port scan by Zeek engine.", "HORIZONTAL_PORT_SCAN"},
    ClassifierRule{"", "vertical port scan by Zeek engine.", "VERTICAL_PORT_SCAN"},
    ClassifierRule{"", "password guessing.", "PASSWORD_GUESSING"},
    ClassifierRule{"", "SSH brute force detector.", "PASSWORD_GUESSING"},
    ClassifierRule{"", "performing an arp scan.", "ARP_SCAN"},
    ClassifierRule{"", "performing a MITM ARP attack.", "MITM_ARP_ATTACK"},
    ClassifierRule{"", "broadcasting unsolicited ARP", "UNSOLICITED_ARP"},
    ClassifierRule{"", "sending ARP packet to a destination", "ARP_OUTSIDE_LOCALNET"},
    ClassifierRule{"", "Performing a DHCP scan", "DHCP_SCAN"},
    ClassifierRule{"", "Doing DNS ARPA scan.", "DNS_ARPA_SCAN"},
    ClassifierRule{"", "non-HTTP established connection to port 80.", "NON_HTTP_PORT_80_CONNECTION"},
    ClassifierRule{"", "non-SSL established connection to port 443.", "NON_SSL_PORT_443_CONNECTION"},
    ClassifierRule{"", "connection to a young domain:", "YOUNG_DOMAIN"},
    ClassifierRule{"", "a CN mismatch.", "CN_URL_MISMATCH"},
    ClassifierRule{"", "Invalid DNS answer.", "INVALID_DNS_RESOLUTION"},
    ClassifierRule{"", "Suspicious user-agent:", "SUSPICIOUS_USER_AGENT"},
    ClassifierRule{"", "using incompatible user-agent", "INCOMPATIBLE_USER_AGENT"},
    ClassifierRule{"", "Using multiple user-agents:", "MULTIPLE_USER_AGENT"},
    ClassifierRule{"", "Leaked location:", "NETWORK_GPS_LOCATION_LEAKED"},
};

constexpr std::array<std::string_view, 16> kMethods = {
    "AI",        "Biometric", "Blackhole", "Correlation", "Heat",   "Heuristic", "Honeypot",    "Integrity",
    "Monitor",   "Movement",  "Policy",    "Recon",       "Signature", "Statistical", "Tarpit", "Threshold",
};

constexpr std::array<std::string_view, 5> kThreatLevels = {"info", "low", "medium", "high", "critical"};

char to_lower(char c) { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c; }

bool equals_ignoring_case(std::string_view left, std::string_view right) {
  if (left.size() != right.size()) {
    return false;
  }
  for (std::size_t index = 0; index < left.size(); ++index) {
    if (to_lower(left[index]) != to_lower(right[index])) {
      return false;
    }
  }
  return true;
}

}  // namespace

const EvidenceType* find_evidence_type(std::string_view name) {
  const auto* found = std::lower_bound(kEvidenceTypes.begin(), kEvidenceTypes.end(), name,
                                       [](const EvidenceType& entry, std::string_view key) { return entry.name < key; });
  if (found == kEvidenceTypes.end() || found->name != name) {
    return nullptr;
  }
  return &*found;
}

const EvidenceType* classify_description(std::string_view description) {
  for (const ClassifierRule& rule : kClassifierRules) {
    // Checking the first character before the whole prefix skips most
    // rules without a call to memcmp.
    if (!rule.prefix.empty() && (description.empty() || description.front() != rule.prefix.front() ||
                                 !description.starts_with(rule.prefix))) {
      continue;
    }
    if (rule.fragment.empty() || description.find(rule.fragment, rule.prefix.size()) != std::string_view::npos) {
      return find_evidence_type(rule.evidence_type);
    }
  }
  return nullptr;
}

DescriptionParts split_threat_level(std::string_view description) {
  // "hreat level: " matches both capitalisations of the first letter.
  static constexpr std::string_view kMarker = "hreat level: ";
  if (!description.ends_with('.')) {
    return DescriptionParts{description, {}};
  }
  const std::size_t marker = description.rfind(kMarker);
  // The marker must follow " t" or " T" so that the text before it is the description.
  if (marker == std::string_view::npos || marker < 2 || description[marker - 2] != ' ' ||
      to_lower(description[marker - 1]) != 't') {
    return DescriptionParts{description, {}};
  }
  const std::size_t level_start = marker + kMarker.size();
  const std::string_view level = description.substr(level_start, description.size() - 1 - level_start);
  const std::string_view canonical = canonical_threat_level(level);
  if (canonical.empty()) {
    return DescriptionParts{description, {}};
  }
  return DescriptionParts{description.substr(0, marker - 2), canonical};
}

std::string_view canonical_method(std::string_view method) {
  for (const std::string_view known : kMethods) {
    if (equals_ignoring_case(method, known)) {
      return known;
    }
  }
  return method;
}

std::string_view canonical_threat_level(std::string_view level) {
  for (const std::string_view known : kThreatLevels) {
    if (equals_ignoring_case(level, known)) {
      return known;
    }
  }
  return {};
}

}  // namespace slipway::filters::idea
