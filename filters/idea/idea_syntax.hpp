// Checks for the restricted string syntaxes of the IDEA0 JSON schema
// (draft-04, as shipped with Warden 3). The normalizer writes a value only
// after it passes the matching check, so every record it emits validates.
// Written as plain loops: they run per event, where a regex is too slow.
#pragma once

#include <string_view>

namespace slipway::filters::idea {

// ID: [a-zA-Z0-9._-]+
bool is_idea_id(std::string_view text);
// Category (EventTag): a word or word.word of [a-zA-Z0-9_-].
bool is_event_tag(std::string_view text);
// Source/Target, Node and Attach Type tags: [a-zA-Z0-9_-]+
bool is_tag(std::string_view text);
// Node Name (NSID): dot-separated labels of [a-zA-Z0-9_-], none starting with '-'.
bool is_nsid(std::string_view text);
// IPv4 address in dotted-quad form without leading zeros.
bool is_ipv4(std::string_view text);
// Net4: an IPv4 address, optionally with /0-32 or as a range a.b.c.d-e.f.g.h.
bool is_net4(std::string_view text);
// IPv6 address in any text form inet_pton accepts, without a zone index.
bool is_ipv6(std::string_view text);
// Net6: an IPv6 address, optionally with /0-128 or as a range.
bool is_net6(std::string_view text);
// MAC: six colon-separated pairs of hex digits.
bool is_mac(std::string_view text);
// Hash: an algorithm name, ':' and a hexadecimal digest, e.g. "md5:4b2c…".
// Stricter than the schema's URI pattern for Hash, which would also pass
// an address that old Slips versions wrote in place of the digest.
bool is_hash(std::string_view text);
// Protocol name, compared case-insensitively: [a-z0-9-], at least one
// letter, starting and ending with a letter or digit.
bool is_protocol_name(std::string_view text);

}  // namespace slipway::filters::idea
