#include "filters/idea/idea_syntax.hpp"

#include <arpa/inet.h>

#include <array>
#include <cstring>

namespace slipway::filters::idea {

namespace {

// Longest IPv6 text form: eight groups of four digits and seven colons, or
// six groups followed by a dotted quad.
constexpr std::size_t kMaxIpv6TextLength = 45;
constexpr int kMaxIpv4PrefixLength = 32;
constexpr int kMaxIpv6PrefixLength = 128;

constexpr bool is_alpha(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); }
constexpr bool is_digit(char c) { return c >= '0' && c <= '9'; }
constexpr bool is_alnum(char c) { return is_alpha(c) || is_digit(c); }
bool is_word_char(char c) { return is_alnum(c) || c == '_' || c == '-'; }
bool is_hex(char c) { return is_digit(c) || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F'); }

bool all_word_chars(std::string_view text) {
  if (text.empty()) {
    return false;
  }
  for (const char c : text) {
    if (!is_word_char(c)) {
      return false;
    }
  }
  return true;
}

// A decimal number without leading zeros, from 0 to `max`.
bool is_small_number(std::string_view text, int max) {
  if (text.empty() || text.size() > 3 || (text.size() > 1 && text[0] == '0')) {
    return false;
  }
  int value = 0;
  for (const char c : text) {
    if (!is_digit(c)) {
      return false;
    }
    value = value * 10 + (c - '0');
  }
  return value <= max;
}

// Splits `text` at the first '/' or '-' into an address and a suffix that
// is either a prefix length or the range's end address.
struct NetParts {
  std::string_view address;
  char separator = '\0';
  std::string_view rest;
};

NetParts split_net(std::string_view text) {
  for (std::size_t index = 0; index < text.size(); ++index) {
    if (text[index] == '/' || text[index] == '-') {
      return NetParts{text.substr(0, index), text[index], text.substr(index + 1)};
    }
  }
  return NetParts{text, '\0', {}};
}

}  // namespace

bool is_idea_id(std::string_view text) {
  // A table instead of comparisons: IDs are checked for every record and
  // every related ID, and an alert lists hundreds.
  static constexpr std::array<bool, 256> kIdCharacters = [] {
    std::array<bool, 256> allowed{};
    for (int c = 0; c < 256; ++c) {
      const char character = static_cast<char>(c);
      allowed[static_cast<std::size_t>(c)] = is_alnum(character) || c == '.' || c == '_' || c == '-';
    }
    return allowed;
  }();
  if (text.empty()) {
    return false;
  }
  for (const char c : text) {
    if (!kIdCharacters[static_cast<unsigned char>(c)]) {
      return false;
    }
  }
  return true;
}

bool is_event_tag(std::string_view text) {
  const std::size_t dot = text.find('.');
  if (dot == std::string_view::npos) {
    return all_word_chars(text);
  }
  return all_word_chars(text.substr(0, dot)) && all_word_chars(text.substr(dot + 1));
}

bool is_tag(std::string_view text) { return all_word_chars(text); }

bool is_nsid(std::string_view text) {
  while (true) {
    const std::size_t dot = text.find('.');
    const std::string_view label = text.substr(0, dot);
    if (!all_word_chars(label) || label.front() == '-') {
      return false;
    }
    if (dot == std::string_view::npos) {
      return true;
    }
    text.remove_prefix(dot + 1);
  }
}

bool is_ipv4(std::string_view text) {
  for (int octet_index = 0; octet_index < 4; ++octet_index) {
    const std::size_t dot = octet_index < 3 ? text.find('.') : text.size();
    if (dot == std::string_view::npos || !is_small_number(text.substr(0, dot), 255)) {
      return false;
    }
    text.remove_prefix(octet_index < 3 ? dot + 1 : dot);
  }
  return text.empty();
}

bool is_net4(std::string_view text) {
  const NetParts parts = split_net(text);
  if (!is_ipv4(parts.address)) {
    return false;
  }
  switch (parts.separator) {
    case '\0':
      return true;
    case '/':
      return is_small_number(parts.rest, kMaxIpv4PrefixLength);
    default:
      return is_ipv4(parts.rest);
  }
}

bool is_ipv6(std::string_view text) {
  if (text.size() < 2 || text.size() > kMaxIpv6TextLength || text.find(':') == std::string_view::npos) {
    return false;
  }
  std::array<char, kMaxIpv6TextLength + 1> terminated{};
  std::memcpy(terminated.data(), text.data(), text.size());
  std::array<unsigned char, 16> binary{};
  return ::inet_pton(AF_INET6, terminated.data(), binary.data()) == 1;
}

bool is_net6(std::string_view text) {
  const NetParts parts = split_net(text);
  if (!is_ipv6(parts.address)) {
    return false;
  }
  switch (parts.separator) {
    case '\0':
      return true;
    case '/':
      return is_small_number(parts.rest, kMaxIpv6PrefixLength);
    default:
      return is_ipv6(parts.rest);
  }
}

bool is_mac(std::string_view text) {
  constexpr std::size_t kMacTextLength = 17;
  if (text.size() != kMacTextLength) {
    return false;
  }
  for (std::size_t index = 0; index < text.size(); ++index) {
    const bool colon_position = index % 3 == 2;
    if (colon_position ? text[index] != ':' : !is_hex(text[index])) {
      return false;
    }
  }
  return true;
}

bool is_hash(std::string_view text) {
  const std::size_t colon = text.find(':');
  if (colon == std::string_view::npos || colon == 0 || colon + 1 == text.size() || !is_alpha(text[0])) {
    return false;
  }
  for (const char c : text.substr(0, colon)) {
    if (!is_alnum(c) && c != '-') {
      return false;
    }
  }
  for (const char c : text.substr(colon + 1)) {
    if (!is_hex(c)) {
      return false;
    }
  }
  return true;
}

bool is_protocol_name(std::string_view text) {
  if (text.empty() || !is_alnum(text.front()) || !is_alnum(text.back())) {
    return false;
  }
  bool has_letter = false;
  for (const char c : text) {
    if (!is_alnum(c) && c != '-') {
      return false;
    }
    has_letter = has_letter || is_alpha(c);
  }
  return has_letter;
}

}  // namespace slipway::filters::idea
