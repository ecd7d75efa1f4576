#include "outputs/column_records.hpp"

#include <algorithm>
#include <array>
#include <cstring>
#include <optional>

#include "engine/json.hpp"

namespace slipway::outputs {

namespace {

constexpr std::size_t kNotFound = std::string_view::npos;

bool is_space(char character) {
  return character == ' ' || character == '\t' || character == '\n' || character == '\r';
}

std::size_t skip_space(std::string_view text, std::size_t pos) {
  while (pos < text.size() && is_space(text[pos])) {
    ++pos;
  }
  return pos;
}

// Returns the offset after the string that opens at text[pos], or kNotFound.
std::size_t skip_string(std::string_view text, std::size_t pos) {
  const char* const data = text.data();
  ++pos;
  while (pos < text.size()) {
    const void* quote = std::memchr(data + pos, '"', text.size() - pos);
    if (quote == nullptr) {
      return kNotFound;
    }
    const auto quote_pos = static_cast<std::size_t>(static_cast<const char*>(quote) - data);
    // A quote after an odd number of backslashes is part of the string.
    std::size_t backslashes = 0;
    while (quote_pos - backslashes > pos && data[quote_pos - backslashes - 1] == '\\') {
      ++backslashes;
    }
    if (backslashes % 2 == 0) {
      return quote_pos + 1;
    }
    pos = quote_pos + 1;
  }
  return kNotFound;
}

// Returns the offset after the value that starts at text[pos], or kNotFound.
std::size_t skip_value(std::string_view text, std::size_t pos) {
  const char first = text[pos];
  if (first == '"') {
    return skip_string(text, pos);
  }
  if (first != '{' && first != '[') {
    while (pos < text.size() && !is_space(text[pos]) && text[pos] != ',' && text[pos] != '}' && text[pos] != ']') {
      ++pos;
    }
    return pos;
  }
  std::size_t depth = 0;
  while (pos < text.size()) {
    const char character = text[pos];
    if (character == '"') {
      pos = skip_string(text, pos);
      if (pos == kNotFound) {
        return kNotFound;
      }
      continue;
    }
    if (character == '{' || character == '[') {
      ++depth;
    } else if ((character == '}' || character == ']') && --depth == 0) {
      return pos + 1;
    }
    ++pos;
  }
  return kNotFound;
}

std::string_view decode_string(std::string_view quoted, std::string& scratch) {
  const std::string_view inner = quoted.substr(1, quoted.size() - 2);
  if (inner.find('\\') == kNotFound) {
    return inner;
  }
  json::ParseResult parsed = json::parse(quoted);
  scratch = parsed.value && parsed.value->is_string() ? parsed.value->as_string() : std::string(inner);
  return scratch;
}

// The letter after the backslash for each byte the backslash escape
// replaces, and 0 for every other byte.
constexpr std::array<char, 256> kBackslashEscapes = [] {
  std::array<char, 256> escapes{};
  escapes['\t'] = 't';
  escapes['\r'] = 'r';
  escapes['\n'] = 'n';
  escapes['\\'] = '\\';
  escapes[0] = '0';
  return escapes;
}();

bool needs_csv_quotes(std::string_view value) { return value.find_first_of("\t\r\n\"") != kNotFound; }

}  // namespace

void append_tsv_field(std::string_view value, TsvEscape escape, std::string& out) {
  if (escape == TsvEscape::Csv) {
    if (!needs_csv_quotes(value)) {
      out.append(value);
      return;
    }
    out += '"';
    for (const char character : value) {
      out += character;
      if (character == '"') {
        out += '"';
      }
    }
    out += '"';
    return;
  }

  std::size_t start = 0;
  for (std::size_t pos = 0; pos < value.size(); ++pos) {
    const char replacement = kBackslashEscapes[static_cast<unsigned char>(value[pos])];
    if (replacement != 0) {
      out.append(value.substr(start, pos - start));
      out += '\\';
      out += replacement;
      start = pos + 1;
    }
  }
  out.append(value.substr(start));
}

ColumnRecords::ColumnRecords(std::vector<std::string> columns)
    : columns_(std::move(columns)), found_(columns_.size()) {
  for (const std::string& column : columns_) {
    may_be_nested_.push_back(column.find_first_of(".[") != std::string::npos);
  }
  std::vector<std::string> sorted = columns_;
  std::sort(sorted.begin(), sorted.end());
  unique_columns_ = std::adjacent_find(sorted.begin(), sorted.end()) == sorted.end();
}

void ColumnRecords::locate(std::string_view event_json) {
  std::fill(found_.begin(), found_.end(), Found{});
  std::size_t found_count = 0;
  std::size_t next_column = 0;  // the column after the last one matched
  std::size_t pos = skip_space(event_json, 0);
  if (pos >= event_json.size() || event_json[pos] != '{') {
    return;
  }
  pos = skip_space(event_json, pos + 1);
  while (pos < event_json.size() && event_json[pos] == '"') {
    const std::size_t key_end = skip_string(event_json, pos);
    if (key_end == kNotFound) {
      return;
    }
    const std::string_view name = decode_string(event_json.substr(pos, key_end - pos), decoded_);
    pos = skip_space(event_json, key_end);
    if (pos >= event_json.size() || event_json[pos] != ':') {
      return;
    }
    pos = skip_space(event_json, pos + 1);
    if (pos >= event_json.size()) {
      return;
    }
    const std::size_t value_end = skip_value(event_json, pos);
    if (value_end == kNotFound) {
      return;
    }

    const char first = event_json[pos];
    Kind kind = Kind::Literal;
    if (first == '"') {
      kind = Kind::String;
    } else if (first == '{' || first == '[') {
      kind = Kind::Container;
    }
    // Events whose members come in column order, such as decoded Zeek rows
    // with columns in #fields order, match the next column at the first try.
    // That shortcut needs distinct columns, because a repeated column must
    // be filled at each of its places.
    if (unique_columns_ && next_column < columns_.size() && columns_[next_column] == name &&
        found_[next_column].kind == Kind::Missing) {
      found_[next_column] = Found{kind, pos, value_end, false};
      ++found_count;
      ++next_column;
    } else {
      for (std::size_t column_idx = 0; column_idx < columns_.size(); ++column_idx) {
        // The first byte rules out most columns before a memcmp call.
        const std::string& column = columns_[column_idx];
        if (column.size() == name.size() && !name.empty() && column[0] == name[0] &&
            std::memcmp(column.data(), name.data(), name.size()) == 0 && found_[column_idx].kind == Kind::Missing) {
          found_[column_idx] = Found{kind, pos, value_end, false};
          ++found_count;
          next_column = column_idx + 1;
        }
      }
    }
    if (found_count == columns_.size()) {
      return;  // every column is found, so the rest of the event is not scanned
    }

    pos = skip_space(event_json, value_end);
    if (pos >= event_json.size() || event_json[pos] != ',') {
      break;
    }
    pos = skip_space(event_json, pos + 1);
  }
  locate_nested(event_json);
}

void ColumnRecords::locate_nested(std::string_view event_json) {
  nested_text_.clear();
  std::optional<json::Value> document;
  for (std::size_t column_idx = 0; column_idx < columns_.size(); ++column_idx) {
    if (found_[column_idx].kind != Kind::Missing || !may_be_nested_[column_idx]) {
      continue;
    }
    if (!document) {
      json::ParseResult parsed = json::parse(event_json);
      if (!parsed.value) {
        return;
      }
      document = std::move(parsed.value);
    }
    const json::Value* value = document->at_path(columns_[column_idx]);
    if (value == nullptr) {
      continue;
    }
    const std::size_t begin = nested_text_.size();
    json::write(*value, nested_text_);
    const Kind kind = value->is_string()                      ? Kind::String
                      : value->is_object() || value->is_array() ? Kind::Container
                                                                : Kind::Literal;
    found_[column_idx] = Found{kind, begin, nested_text_.size(), true};
  }
}

std::string_view ColumnRecords::token(std::string_view event_json, const Found& found) const {
  const std::string_view text = found.nested ? std::string_view(nested_text_) : event_json;
  return text.substr(found.begin, found.end - found.begin);
}

std::string_view ColumnRecords::field_text(std::string_view event_json, const Found& found) {
  const std::string_view value = token(event_json, found);
  switch (found.kind) {
    case Kind::Missing:
      return {};
    case Kind::String:
      return decode_string(value, decoded_);
    case Kind::Literal:
      return value == "null" ? std::string_view() : value;
    case Kind::Container:
      return value;
  }
  return {};
}

void ColumnRecords::append_tsv_header(TsvEscape escape, std::string& out) const {
  for (std::size_t column_idx = 0; column_idx < columns_.size(); ++column_idx) {
    if (column_idx > 0) {
      out += '\t';
    }
    append_tsv_field(columns_[column_idx], escape, out);
  }
}

void ColumnRecords::append_tsv_row(std::string_view event_json, TsvEscape escape, std::string& out) {
  locate(event_json);
  for (std::size_t column_idx = 0; column_idx < columns_.size(); ++column_idx) {
    if (column_idx > 0) {
      out += '\t';
    }
    const std::string_view text = field_text(event_json, found_[column_idx]);
    // Python's csv module quotes a lone empty field, so that the row is
    // not read back as a blank line.
    if (escape == TsvEscape::Csv && columns_.size() == 1 && text.empty()) {
      out += "\"\"";
      continue;
    }
    append_tsv_field(text, escape, out);
  }
}

void ColumnRecords::append_json_object(std::string_view event_json, std::string& out) {
  locate(event_json);
  out += '{';
  for (std::size_t column_idx = 0; column_idx < columns_.size(); ++column_idx) {
    if (column_idx > 0) {
      out += ',';
    }
    json::append_quoted(columns_[column_idx], out);
    out += ':';
    const Found& found = found_[column_idx];
    if (found.kind == Kind::Missing) {
      out += "null";
    } else {
      out.append(token(event_json, found));
    }
  }
  out += '}';
}

}  // namespace slipway::outputs
