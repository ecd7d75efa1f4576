// UTF-8 checking and repair, and JSON string quoting: the text rules every
// writer in slipway shares, so no output can emit invalid UTF-8.
#include <cstdint>
#include <string>
#include <string_view>

#include "engine/json.hpp"

namespace slipway::json {

namespace {

constexpr std::string_view kReplacementCharacter = "\xEF\xBF\xBD";  // U+FFFD in UTF-8

// Length of the valid UTF-8 sequence at the start of `text`, or 0 when the
// first bytes are not one. Follows the well-formed byte table of Unicode
// (Table 3-7): no overlong forms, no surrogates, nothing above U+10FFFF.
std::size_t valid_sequence_length(std::string_view text) {
  const auto byte = [&](std::size_t index) { return static_cast<unsigned char>(text[index]); };
  const unsigned char lead = byte(0);
  if (lead < 0x80) {
    return 1;
  }

  std::size_t length = 0;
  unsigned char second_min = 0x80;
  unsigned char second_max = 0xBF;
  if (lead >= 0xC2 && lead <= 0xDF) {
    length = 2;
  } else if (lead >= 0xE0 && lead <= 0xEF) {
    length = 3;
    if (lead == 0xE0) {
      second_min = 0xA0;
    } else if (lead == 0xED) {
      second_max = 0x9F;
    }
  } else if (lead >= 0xF0 && lead <= 0xF4) {
    length = 4;
    if (lead == 0xF0) {
      second_min = 0x90;
    } else if (lead == 0xF4) {
      second_max = 0x8F;
    }
  } else {
    return 0;
  }

  if (text.size() < length || byte(1) < second_min || byte(1) > second_max) {
    return 0;
  }
  for (std::size_t index = 2; index < length; ++index) {
    if (byte(index) < 0x80 || byte(index) > 0xBF) {
      return 0;
    }
  }
  return length;
}

// Length of the maximal subpart of an ill-formed sequence at the start of
// `text`: the longest prefix that could still begin a valid sequence, or
// one byte. Each such subpart becomes one U+FFFD.
std::size_t maximal_subpart_length(std::string_view text) {
  const auto byte = [&](std::size_t index) { return static_cast<unsigned char>(text[index]); };
  const unsigned char lead = byte(0);
  std::size_t expected = 0;
  unsigned char second_min = 0x80;
  unsigned char second_max = 0xBF;
  if (lead >= 0xC2 && lead <= 0xDF) {
    expected = 2;
  } else if (lead >= 0xE0 && lead <= 0xEF) {
    expected = 3;
    second_min = lead == 0xE0 ? 0xA0 : 0x80;
    second_max = lead == 0xED ? 0x9F : 0xBF;
  } else if (lead >= 0xF0 && lead <= 0xF4) {
    expected = 4;
    second_min = lead == 0xF0 ? 0x90 : 0x80;
    second_max = lead == 0xF4 ? 0x8F : 0xBF;
  } else {
    return 1;
  }

  std::size_t length = 1;
  while (length < expected && length < text.size()) {
    const unsigned char next = byte(length);
    const unsigned char low = length == 1 ? second_min : 0x80;
    const unsigned char high = length == 1 ? second_max : 0xBF;
    if (next < low || next > high) {
      break;
    }
    ++length;
  }
  return length;
}

bool needs_no_escape(unsigned char byte) { return byte >= 0x20 && byte < 0x7F && byte != '"' && byte != '\\'; }

void append_unicode_escape(unsigned char byte, std::string& out) {
  static constexpr char kHexDigits[] = "0123456789abcdef";
  out += "\\u00";
  out += kHexDigits[byte >> 4];
  out += kHexDigits[byte & 0x0F];
}

}  // namespace

bool is_valid_utf8(std::string_view text) {
  while (!text.empty()) {
    const std::size_t length = valid_sequence_length(text);
    if (length == 0) {
      return false;
    }
    text.remove_prefix(length);
  }
  return true;
}

std::size_t append_sanitized_utf8(std::string_view text, std::string& out) {
  std::size_t replacements = 0;
  while (!text.empty()) {
    const std::size_t length = valid_sequence_length(text);
    if (length > 0) {
      out.append(text.substr(0, length));
      text.remove_prefix(length);
      continue;
    }
    out += kReplacementCharacter;
    ++replacements;
    text.remove_prefix(maximal_subpart_length(text));
  }
  return replacements;
}

void append_quoted(std::string_view text, std::string& out) {
  out += '"';
  while (!text.empty()) {
    // Copy the run of bytes that need no escaping in one piece: most
    // alert text is plain ASCII.
    std::size_t run = 0;
    while (run < text.size() && needs_no_escape(static_cast<unsigned char>(text[run]))) {
      ++run;
    }
    out.append(text.substr(0, run));
    text.remove_prefix(run);
    if (text.empty()) {
      break;
    }

    const unsigned char byte = static_cast<unsigned char>(text.front());
    if (byte >= 0x80) {
      const std::size_t length = valid_sequence_length(text);
      if (length == 0) {
        out += kReplacementCharacter;
        text.remove_prefix(maximal_subpart_length(text));
      } else {
        out.append(text.substr(0, length));
        text.remove_prefix(length);
      }
      continue;
    }

    switch (byte) {
      case '"':
        out += "\\\"";
        break;
      case '\\':
        out += "\\\\";
        break;
      case '\n':
        out += "\\n";
        break;
      case '\r':
        out += "\\r";
        break;
      case '\t':
        out += "\\t";
        break;
      case '\b':
        out += "\\b";
        break;
      case '\f':
        out += "\\f";
        break;
      default:
        if (byte < 0x20 || byte == 0x7F) {
          append_unicode_escape(byte, out);
        } else {
          out += static_cast<char>(byte);
        }
    }
    text.remove_prefix(1);
  }
  out += '"';
}

}  // namespace slipway::json
