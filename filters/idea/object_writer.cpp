#include "filters/idea/object_writer.hpp"

#include <array>
#include <cassert>
#include <charconv>
#include <cstring>

#include "engine/json.hpp"
#include "engine/timestamp.hpp"

namespace slipway::filters::idea {

namespace {

char to_lower(char c) { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c; }

void append_integer(std::int64_t value, std::string& out) {
  std::array<char, 24> digits{};
  const auto written = std::to_chars(digits.data(), digits.data() + digits.size(), value);
  out.append(digits.data(), written.ptr);
}

// Writes values with at most six decimals, such as Slips' confidences, by
// integer arithmetic: to_chars' shortest form costs several hundred
// instructions. When micros / 1e6 equals `value`, the decimal micros * 10^-6
// reads back as `value`, since both the division and decimal parsing round
// to the nearest double. Other values take the to_chars path.
void append_number(double value, std::string& out) {
  constexpr double kScale = 1e6;
  constexpr double kMaxExact = 1e12;  // keeps micros exact in a double and an int64
  const double scaled = value * kScale;
  if (value >= 0 && scaled < kMaxExact) {
    const auto micros = static_cast<std::int64_t>(scaled + 0.5);
    if (static_cast<double>(micros) / kScale == value) {
      append_integer(micros / 1'000'000, out);
      std::int64_t fraction = micros % 1'000'000;
      if (fraction != 0) {
        std::array<char, 7> digits{'.', '0', '0', '0', '0', '0', '0'};
        for (std::size_t index = 6; index > 0; --index) {
          digits[index] = static_cast<char>('0' + fraction % 10);
          fraction /= 10;
        }
        std::size_t length = digits.size();
        while (digits[length - 1] == '0') {
          --length;
        }
        out.append(digits.data(), length);
      }
      return;
    }
  }
  std::array<char, 32> digits{};
  const auto written = std::to_chars(digits.data(), digits.data() + digits.size(), value);
  out.append(digits.data(), written.ptr);
}

bool is_plain_byte(unsigned char byte) { return byte >= 0x20 && byte < 0x7F && byte != '"' && byte != '\\'; }

// Length of the prefix of `text` that goes into a JSON string unchanged:
// printable ASCII other than '"' and '\'. Tests eight bytes per step with
// the usual word-wide byte comparisons (each term is non-zero when some
// byte in the word matches), since this scan runs over every output byte.
std::size_t plain_prefix_length(std::string_view text) {
  constexpr std::uint64_t kOnes = 0x0101010101010101ULL;
  constexpr std::uint64_t kHighBits = 0x8080808080808080ULL;
  const auto has_zero_byte = [](std::uint64_t word) { return (word - kOnes) & ~word & kHighBits; };
  std::size_t index = 0;
  for (; index + sizeof(std::uint64_t) <= text.size(); index += sizeof(std::uint64_t)) {
    std::uint64_t word = 0;
    std::memcpy(&word, text.data() + index, sizeof(word));
    const std::uint64_t control = (word - kOnes * 0x20) & ~word & kHighBits;
    const std::uint64_t quote = has_zero_byte(word ^ (kOnes * '"'));
    const std::uint64_t backslash = has_zero_byte(word ^ (kOnes * '\\'));
    const std::uint64_t delete_or_non_ascii = ((word + kOnes) | word) & kHighBits;
    if ((control | quote | backslash | delete_or_non_ascii) != 0) {
      break;
    }
  }
  while (index < text.size() && is_plain_byte(static_cast<unsigned char>(text[index]))) {
    ++index;
  }
  return index;
}

}  // namespace

// ASCII text, nearly every string in an alert, is copied in runs between
// the characters that need escaping; text with other bytes goes through
// json::append_quoted.
void append_json_string(std::string_view text, std::string& out) {
  static constexpr std::string_view kHexDigits = "0123456789abcdef";
  const std::size_t start = out.size();
  const std::string_view whole = text;
  out += '"';
  while (true) {
    const std::size_t plain = plain_prefix_length(text);
    out.append(text.data(), plain);
    text.remove_prefix(plain);
    if (text.empty()) {
      break;
    }
    const auto byte = static_cast<unsigned char>(text.front());
    text.remove_prefix(1);
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
        if (byte >= 0x80) {
          out.resize(start);
          json::append_quoted(whole, out);
          return;
        }
        out += "\\u00";
        out += kHexDigits[byte >> 4];
        out += kHexDigits[byte & 0x0F];
    }
  }
  out += '"';
}

std::string& ObjectWriter::key(std::string_view name) {
  // One append instead of four: this runs for every member written. Names
  // are constants of the IDEA writer, so the bound holds.
  assert(name.size() <= kMaxKeyLength);
  std::array<char, kMaxKeyLength + 4> text;
  std::size_t length = 0;
  if (!first_) {
    text[length++] = ',';
  }
  first_ = false;
  text[length++] = '"';
  std::memcpy(text.data() + length, name.data(), name.size());
  length += name.size();
  text[length++] = '"';
  text[length++] = ':';
  out_.append(text.data(), length);
  return out_;
}

void ObjectWriter::string(std::string_view name, std::string_view value) {
  if (!value.empty()) {
    append_json_string(value, key(name));
  }
}

void ObjectWriter::strings(std::string_view name, std::span<const std::string_view> values) {
  if (values.empty()) {
    return;
  }
  key(name) += '[';
  for (std::size_t index = 0; index < values.size(); ++index) {
    if (index > 0) {
      out_ += ',';
    }
    append_json_string(values[index], out_);
  }
  out_ += ']';
}

void ObjectWriter::plain_string(std::string_view name, std::string_view value) {
  if (value.empty()) {
    return;
  }
  assert(plain_prefix_length(value) == value.size());
  std::string& out = key(name);
  out += '"';
  out += value;
  out += '"';
}

void ObjectWriter::plain_strings(std::string_view name, std::span<const std::string_view> values) {
  if (values.empty()) {
    return;
  }
  key(name) += "[\"";
  for (std::size_t index = 0; index < values.size(); ++index) {
    assert(plain_prefix_length(values[index]) == values[index].size());
    if (index > 0) {
      out_ += "\",\"";
    }
    out_ += values[index];
  }
  out_ += "\"]";
}

void ObjectWriter::integer(std::string_view name, const std::optional<std::int64_t>& value) {
  if (value) {
    append_integer(*value, key(name));
  }
}

void ObjectWriter::integers(std::string_view name, const std::vector<std::int64_t>& values) {
  if (values.empty()) {
    return;
  }
  key(name) += '[';
  for (std::size_t index = 0; index < values.size(); ++index) {
    if (index > 0) {
      out_ += ',';
    }
    append_integer(values[index], out_);
  }
  out_ += ']';
}

void ObjectWriter::number(std::string_view name, const std::optional<double>& value) {
  if (value) {
    append_number(*value, key(name));
  }
}

void ObjectWriter::time(std::string_view name, const std::optional<std::int64_t>& utc_micros) {
  if (utc_micros) {
    std::string& out = key(name);
    out += '"';
    timestamp::append_utc(*utc_micros, out);
    out += '"';
  }
}

void ObjectWriter::protocols(std::string_view name, const std::vector<std::string_view>& values) {
  if (values.empty()) {
    return;
  }
  key(name) += '[';
  for (std::size_t index = 0; index < values.size(); ++index) {
    // Protocol names are letters, digits and '-': nothing needs escaping.
    out_ += index > 0 ? ",\"" : "\"";
    for (const char c : values[index]) {
      out_ += to_lower(c);
    }
    out_ += '"';
  }
  out_ += ']';
}

}  // namespace slipway::filters::idea
