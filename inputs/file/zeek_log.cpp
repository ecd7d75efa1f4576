#include "inputs/file/zeek_log.hpp"

#include <algorithm>
#include <array>
#include <cassert>
#include <cstring>
#include <set>

#include <fmt/format.h>

#include "engine/json.hpp"

namespace slipway::inputs::file {

namespace {

constexpr std::string_view kSeparatorDirective = "#separator ";
// Bounds of a row's JSON text. A raw byte becomes at most 6 bytes: a
// control byte is written as \u00XX, and a set element of one byte, such
// as T, becomes at most "true" and a comma. A column adds at most its key,
// a comma, two quotes or brackets, and the quotes of an empty element.
constexpr std::size_t kMaxBytesPerRawByte = 6;
constexpr std::size_t kMaxBytesPerColumn = 8;
// Maximum number of bytes of a bad value quoted in a reason.
constexpr std::size_t kQuotedValueBytes = 64;

// Splits `text` at every `separator`, keeping empty parts.
void split(std::string_view text, std::string_view separator, std::vector<std::string_view>& parts) {
  parts.clear();
  if (separator.size() == 1) {
    // Rows are split with memchr, because splitting is a large part of decoding a row.
    for (;;) {
      const auto* cut = static_cast<const char*>(std::memchr(text.data(), separator[0], text.size()));
      if (cut == nullptr) {
        parts.push_back(text);
        return;
      }
      const auto length = static_cast<std::size_t>(cut - text.data());
      parts.push_back(text.substr(0, length));
      text.remove_prefix(length + 1);
    }
  }
  for (;;) {
    const std::size_t cut = text.find(separator);
    if (cut == std::string_view::npos) {
      parts.push_back(text);
      return;
    }
    parts.push_back(text.substr(0, cut));
    text.remove_prefix(cut + separator.size());
  }
}

// Splits a field at runs of spaces; leading and trailing spaces make no part.
void split_at_spaces(std::string_view text, std::vector<std::string_view>& parts) {
  std::size_t begin = text.find_first_not_of(' ');
  while (begin != std::string_view::npos) {
    const std::size_t end = std::min(text.find(' ', begin), text.size());
    parts.push_back(text.substr(begin, end - begin));
    begin = text.find_first_not_of(' ', end);
  }
}

// Splits a #fields or #types line into its entries, and an entry with
// several space-separated names into those names. `widths` gets the number
// of names per entry.
std::vector<std::string_view> header_entries(std::string_view value, std::string_view separator,
                                             std::vector<std::size_t>& widths) {
  std::vector<std::string_view> entries;
  split(value, separator, entries);
  std::vector<std::string_view> names;
  widths.clear();
  for (const std::string_view entry : entries) {
    if (entry.find(' ') == std::string_view::npos) {
      names.push_back(entry);
      widths.push_back(1);
      continue;
    }
    const std::size_t before = names.size();
    split_at_spaces(entry, names);
    widths.push_back(names.size() - before);
  }
  return names;
}

bool is_digit(char character) { return character >= '0' && character <= '9'; }

char* put(char* out, std::string_view text) {
  std::memcpy(out, text.data(), text.size());
  return out + text.size();
}

// True for text that is a JSON number: -?(0|[1-9][0-9]*)(.[0-9]+)?([eE][+-]?[0-9]+)?
bool is_json_number(std::string_view text) {
  std::size_t index = 0;
  const auto digits = [&]() {
    const std::size_t start = index;
    while (index < text.size() && is_digit(text[index])) {
      ++index;
    }
    return index - start;
  };
  if (index < text.size() && text[index] == '-') {
    ++index;
  }
  const std::size_t integer_start = index;
  const std::size_t integer_digits = digits();
  if (integer_digits == 0 || (integer_digits > 1 && text[integer_start] == '0')) {
    return false;
  }
  if (index < text.size() && text[index] == '.') {
    ++index;
    if (digits() == 0) {
      return false;
    }
  }
  if (index < text.size() && (text[index] == 'e' || text[index] == 'E')) {
    ++index;
    if (index < text.size() && (text[index] == '+' || text[index] == '-')) {
      ++index;
    }
    if (digits() == 0) {
      return false;
    }
  }
  return index == text.size();
}

ZeekValueKind value_kind(std::string_view type_name) {
  for (const std::string_view number : {"count", "int", "double", "time", "interval", "port"}) {
    if (type_name == number) {
      return ZeekValueKind::Number;
    }
  }
  return type_name == "bool" ? ZeekValueKind::Bool : ZeekValueKind::String;
}

// Sets the kind of `column` from a #types entry such as "count" or "set[addr]".
void set_type(ZeekColumn& column, std::string_view type_name) {
  column.type_name = std::string(type_name);
  column.container = false;
  // Logs of older Bro versions write sets as table[...].
  for (const std::string_view prefix : {"set[", "vector[", "table["}) {
    if (type_name.starts_with(prefix) && type_name.ends_with(']')) {
      column.container = true;
      type_name = type_name.substr(prefix.size(), type_name.size() - prefix.size() - 1);
      break;
    }
  }
  column.kind = value_kind(type_name);
}

std::string quoted_for_reason(std::string_view value) {
  std::string text;
  json::append_quoted(value.substr(0, kQuotedValueBytes), text);
  if (value.size() > kQuotedValueBytes) {
    text.insert(text.size() - 1, "...");
  }
  return text;
}

// True for each byte that a JSON string can contain as it is: printable
// ASCII without the quote and the backslash, which also starts Zeek's escapes.
constexpr std::array<bool, 256> kPlainBytes = [] {
  std::array<bool, 256> plain{};
  for (int byte = 0x20; byte < 0x7f; ++byte) {
    plain[static_cast<std::size_t>(byte)] = byte != '"' && byte != '\\';
  }
  return plain;
}();

bool is_plain_text(std::string_view text) {
  for (const char character : text) {
    if (!kPlainBytes[static_cast<unsigned char>(character)]) {
      return false;
    }
  }
  return true;
}

void set_fields(ZeekHeader& header, std::string_view value, std::uint64_t offset) {
  header.columns.clear();
  header.key_bytes = 0;
  header.error.clear();
  header.fields_offset = offset;
  const std::vector<std::string_view> names = header_entries(value, header.separator, header.packed_widths);
  if (std::all_of(header.packed_widths.begin(), header.packed_widths.end(), [](std::size_t w) { return w == 1; })) {
    header.packed_widths.clear();
  }

  std::set<std::string_view> seen;
  for (const std::string_view name : names) {
    if (name.empty()) {
      header.error = fmt::format("the #fields line at offset {} has an empty field name", offset);
      return;
    }
    if (!seen.insert(name).second) {
      header.error = fmt::format("the #fields line at offset {} names the field {} twice", offset,
                                 quoted_for_reason(name));
      return;
    }
    ZeekColumn& column = header.columns.emplace_back();
    column.name = std::string(name);
    json::append_quoted(name, column.key);
    column.key += ':';
    header.key_bytes += column.key.size();
    set_type(column, "string");
  }
}

void set_types(ZeekHeader& header, std::string_view value, std::uint64_t offset) {
  if (!header.error.empty()) {
    return;
  }
  std::vector<std::size_t> widths;
  const std::vector<std::string_view> types = header_entries(value, header.separator, widths);
  if (!header.fields_offset || types.size() != header.columns.size()) {
    header.error = fmt::format("the #types line at offset {} lists {} types for {} fields", offset, types.size(),
                               header.columns.size());
    return;
  }
  for (std::size_t column_idx = 0; column_idx < types.size(); ++column_idx) {
    set_type(header.columns[column_idx], types[column_idx]);
  }
}

}  // namespace

void append_zeek_unescaped(std::string_view raw, std::string& out) {
  const auto hex_value = [](char character) -> int {
    if (is_digit(character)) {
      return character - '0';
    }
    if (character >= 'a' && character <= 'f') {
      return character - 'a' + 10;
    }
    if (character >= 'A' && character <= 'F') {
      return character - 'A' + 10;
    }
    return -1;
  };
  for (std::size_t index = 0; index < raw.size(); ++index) {
    if (raw[index] == '\\' && index + 3 < raw.size() && raw[index + 1] == 'x') {
      const int high = hex_value(raw[index + 2]);
      const int low = hex_value(raw[index + 3]);
      if (high >= 0 && low >= 0) {
        out += static_cast<char>(high * 16 + low);
        index += 3;
        continue;
      }
    }
    out += raw[index];
  }
}

void ZeekHeader::apply(std::string_view line, std::uint64_t offset) {
  // The #separator line is the only one split at a space, because it
  // defines the separator the other lines use.
  if (line.starts_with(kSeparatorDirective)) {
    std::string value;
    append_zeek_unescaped(line.substr(kSeparatorDirective.size()), value);
    if (value.empty()) {
      error = fmt::format("the #separator line at offset {} sets an empty separator", offset);
    } else {
      separator = std::move(value);
    }
    return;
  }

  const std::size_t cut = line.find(separator);
  const std::string_view directive = line.substr(0, cut);
  const std::string_view value = cut == std::string_view::npos ? std::string_view() : line.substr(cut + separator.size());
  const auto unescaped = [value]() {
    std::string text;
    append_zeek_unescaped(value, text);
    return text;
  };
  if (directive == "#set_separator") {
    set_separator = unescaped();
  } else if (directive == "#empty_field") {
    empty_field = unescaped();
  } else if (directive == "#unset_field") {
    unset_field = unescaped();
  } else if (directive == "#fields") {
    set_fields(*this, value, offset);
  } else if (directive == "#types") {
    set_types(*this, value, offset);
  }
}

ZeekLineKind ZeekLogDecoder::decode(std::string_view line, std::uint64_t offset, std::string& json,
                                    std::string& reason) {
  if (line.front() == '#') {
    header_.apply(line, offset);
    return ZeekLineKind::Header;
  }
  // NOTE: a TSV row whose first field starts with '{' is read as JSON —
  // Zeek's first column is ts, a number, in every log it writes.
  if (line.front() == '{') {
    return ZeekLineKind::Json;
  }
  if (!header_.error.empty()) {
    reason = header_.error;
    return ZeekLineKind::Rejected;
  }
  if (!header_.fields_offset) {
    reason = "row before any #fields line; a Zeek TSV log names its columns in a #fields header line";
    return ZeekLineKind::Rejected;
  }
  // NOTE: the line reader trims spaces and tabs around each line, so a row
  // whose first or last value is written as nothing is rejected for its
  // column count. Zeek writes an empty string as #empty_field instead.
  if (!split_row(line)) {
    reason = fmt::format("row has {} values, but the #fields line at offset {} names {} columns; values are "
                         "separated by {}",
                         fields_.size(), *header_.fields_offset, header_.columns.size(),
                         quoted_for_reason(header_.separator));
    return ZeekLineKind::Rejected;
  }

  // The row is written into a buffer sized for the longest possible text,
  // so no write checks capacity, then copied into `json` at its exact size.
  const std::size_t max_bytes = header_.key_bytes + kMaxBytesPerRawByte * line.size() +
                                kMaxBytesPerColumn * header_.columns.size() + 2;
  if (row_buffer_.size() < max_bytes) {
    row_buffer_.resize(max_bytes);
  }
  char* const begin = row_buffer_.data();
  char* out = begin;
  *out++ = '{';
  for (std::size_t column_idx = 0; column_idx < fields_.size(); ++column_idx) {
    const std::string_view raw = fields_[column_idx];
    const ZeekColumn& column = header_.columns[column_idx];
    const bool unset = raw == header_.unset_field;
    if (unset && unset_fields_ == ZeekUnsetFields::Omit) {
      continue;
    }
    if (out != begin + 1) {
      *out++ = ',';
    }
    out = put(out, column.key);
    if (unset) {
      out = put(out, "null");
    } else if (!write_value(raw, column, out, reason)) {
      return ZeekLineKind::Rejected;
    }
  }
  *out++ = '}';
  assert(out <= begin + max_bytes && "the JSON text of a row outgrew its bound");
  json.assign(begin, static_cast<std::size_t>(out - begin));
  return ZeekLineKind::Row;
}

bool ZeekLogDecoder::split_row(std::string_view line) {
  split(line, header_.separator, fields_);
  if (header_.packed_widths.empty()) {
    return fields_.size() == header_.columns.size();
  }
  if (fields_.size() != header_.packed_widths.size()) {
    return false;
  }

  std::vector<std::string_view> values;
  values.reserve(header_.columns.size());
  for (std::size_t field_idx = 0; field_idx < fields_.size(); ++field_idx) {
    if (header_.packed_widths[field_idx] == 1) {
      values.push_back(fields_[field_idx]);
      continue;
    }
    const std::size_t before = values.size();
    split_at_spaces(fields_[field_idx], values);
    if (values.size() - before != header_.packed_widths[field_idx]) {
      fields_ = std::move(values);
      return false;
    }
  }
  fields_ = std::move(values);
  return true;
}

bool ZeekLogDecoder::write_value(std::string_view raw, const ZeekColumn& column, char*& out, std::string& reason) {
  if (!column.container) {
    return write_scalar(raw, column.kind, column, out, reason);
  }
  if (raw == header_.empty_field) {
    out = put(out, "[]");
    return true;
  }

  *out++ = '[';
  std::string_view rest = raw;
  for (bool first = true;; first = false) {
    const std::size_t cut = rest.find(header_.set_separator);
    const std::string_view element = rest.substr(0, cut);
    if (!first) {
      *out++ = ',';
    }
    if (element == header_.unset_field) {
      out = put(out, "null");
    } else if (!write_scalar(element, column.kind, column, out, reason)) {
      return false;
    }
    if (cut == std::string_view::npos) {
      break;
    }
    rest.remove_prefix(cut + header_.set_separator.size());
  }
  *out++ = ']';
  return true;
}

bool ZeekLogDecoder::write_scalar(std::string_view raw, ZeekValueKind kind, const ZeekColumn& column, char*& out,
                                  std::string& reason) {
  switch (kind) {
    case ZeekValueKind::Number:
      if (!is_json_number(raw)) {
        reason = fmt::format("column \"{}\" ({}): {} is not a number", column.name, column.type_name,
                             quoted_for_reason(raw));
        return false;
      }
      out = put(out, raw);
      return true;
    case ZeekValueKind::Bool:
      if (raw != "T" && raw != "F") {
        reason = fmt::format("column \"{}\" ({}): {} is not T or F", column.name, column.type_name,
                             quoted_for_reason(raw));
        return false;
      }
      out = put(out, raw == "T" ? std::string_view("true") : std::string_view("false"));
      return true;
    case ZeekValueKind::String:
      break;
  }

  if (raw == header_.empty_field) {
    out = put(out, "\"\"");
  } else if (is_plain_text(raw)) {
    *out++ = '"';
    out = put(out, raw);
    *out++ = '"';
  } else {
    // Zeek writes separators, non-printable bytes and bytes of multi-byte
    // UTF-8 characters as \xNN. Bytes that are not UTF-8 become U+FFFD.
    unescaped_.clear();
    append_zeek_unescaped(raw, unescaped_);
    quoted_.clear();
    json::append_quoted(unescaped_, quoted_);
    out = put(out, quoted_);
  }
  return true;
}

}  // namespace slipway::inputs::file
