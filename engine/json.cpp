// The JSON document model and its compact writer; the parser is in
// json_parser.cpp.
#include <cassert>
#include <charconv>
#include <cmath>
#include <cstdint>
#include <string>
#include <string_view>
#include <system_error>
#include <utility>

#include "engine/json.hpp"
#include "engine/json_scan.hpp"

namespace slipway::json {

namespace {

// Largest magnitude below which every integer is exact in a double (2^53).
constexpr double kMaxExactIntegerInDouble = 9007199254740992.0;

// True when `text` can be written between quotes as it is: printable ASCII
// without quotes or backslashes, the form most alert strings take.
bool is_plain_ascii(std::string_view text) {
  return detail::find_string_special(text.data(), 0, text.size()) == text.size() &&
         text.find('\x7F') == std::string_view::npos;
}

// Writes a string as append_quoted() does, copying plain text in one piece.
void write_string(std::string_view text, std::string& out) {
  if (!is_plain_ascii(text)) {
    append_quoted(text, out);
    return;
  }
  out += '"';
  out.append(text);
  out += '"';
}

// NOTE: recurses once per nesting level. parse() bounds that by max_depth,
// but nothing bounds a document built in code.
void write_value(const Value& value, std::string& out) {
  switch (value.type()) {
    case Type::Null:
      out += "null";
      return;
    case Type::Bool:
      out += value.as_bool() ? "true" : "false";
      return;
    case Type::Number:
      out += value.number_text();
      return;
    case Type::String:
      write_string(value.as_string(), out);
      return;
    case Type::Array: {
      out += '[';
      bool first = true;
      for (const Value& item : value.items()) {
        if (!first) {
          out += ',';
        }
        first = false;
        write_value(item, out);
      }
      out += ']';
      return;
    }
    case Type::Object: {
      out += '{';
      bool first = true;
      for (const auto& [name, member] : value.members()) {
        if (!first) {
          out += ',';
        }
        first = false;
        write_string(name, out);
        out += ':';
        write_value(member, out);
      }
      out += '}';
      return;
    }
  }
}

}  // namespace

Value Value::boolean(bool value) {
  Value result;
  result.type_ = Type::Bool;
  result.bool_ = value;
  return result;
}

Value Value::number_text(std::string text) {
  Value result;
  result.type_ = Type::Number;
  result.text_ = std::move(text);
  return result;
}

Value Value::number(std::int64_t value) { return number_text(std::to_string(value)); }

// NOTE: NaN and infinities have no JSON form, so they become null, as in
// JavaScript's JSON.stringify; a filter that computes one writes null.
Value Value::number(double value) {
  if (!std::isfinite(value)) {
    return Value();
  }
  char buffer[32];
  const auto [end, error] = std::to_chars(buffer, buffer + sizeof buffer, value);
  assert(error == std::errc());
  return number_text(std::string(buffer, end));
}

Value Value::string(std::string utf8) {
  Value result;
  result.type_ = Type::String;
  result.text_ = std::move(utf8);
  return result;
}

Value Value::array() {
  Value result;
  result.type_ = Type::Array;
  return result;
}

Value Value::object() {
  Value result;
  result.type_ = Type::Object;
  return result;
}

std::optional<std::int64_t> Value::as_int() const {
  if (type_ != Type::Number) {
    return std::nullopt;
  }
  std::int64_t parsed = 0;
  const char* begin = text_.data();
  const char* end = begin + text_.size();
  const auto [stop, error] = std::from_chars(begin, end, parsed);
  if (error == std::errc() && stop == end) {
    return parsed;
  }
  if (error == std::errc::result_out_of_range) {
    return std::nullopt;
  }
  // Text such as `1.0` or `2e3` still names an integer. Accept it when a
  // double represents it exactly.
  const std::optional<double> as_floating = as_double();
  if (!as_floating || std::trunc(*as_floating) != *as_floating ||
      std::fabs(*as_floating) > kMaxExactIntegerInDouble) {
    return std::nullopt;
  }
  return static_cast<std::int64_t>(*as_floating);
}

std::optional<double> Value::as_double() const {
  if (type_ != Type::Number) {
    return std::nullopt;
  }
  double parsed = 0;
  const char* begin = text_.data();
  const char* end = begin + text_.size();
  const auto [stop, error] = std::from_chars(begin, end, parsed);
  if (error != std::errc() || stop != end) {
    return std::nullopt;
  }
  return parsed;
}

const Value* Value::find(std::string_view key) const {
  if (type_ != Type::Object) {
    return nullptr;
  }
  for (const auto& member : members_) {
    if (member.first == key) {
      return &member.second;
    }
  }
  return nullptr;
}

Value* Value::find(std::string_view key) {
  return const_cast<Value*>(static_cast<const Value*>(this)->find(key));
}

// A path is member names separated by '.', each optionally followed by
// `[index]` steps; a leading `[index]` applies to this value itself.
const Value* Value::at_path(std::string_view path) const {
  const Value* current = this;
  std::size_t pos = 0;
  bool expect_name = true;
  while (pos < path.size() && current != nullptr) {
    if (path[pos] == '[') {
      const std::size_t close = path.find(']', pos);
      if (close == std::string_view::npos || !current->is_array()) {
        return nullptr;
      }
      std::size_t index = 0;
      const char* begin = path.data() + pos + 1;
      const char* end = path.data() + close;
      const auto [stop, error] = std::from_chars(begin, end, index);
      if (begin == end || error != std::errc() || stop != end || index >= current->items_.size()) {
        return nullptr;
      }
      current = &current->items_[index];
      pos = close + 1;
      expect_name = false;
      continue;
    }
    if (path[pos] == '.') {
      if (expect_name) {
        return nullptr;
      }
      ++pos;
      expect_name = true;
      continue;
    }
    if (!expect_name) {
      return nullptr;
    }
    const std::size_t name_end = path.find_first_of(".[", pos);
    const std::size_t length = name_end == std::string_view::npos ? path.size() - pos : name_end - pos;
    current = current->find(path.substr(pos, length));
    pos += length;
    expect_name = false;
  }
  if (expect_name && !path.empty()) {
    return nullptr;  // the path ends with '.'
  }
  return current;
}

// A null value becomes an empty object first, so a document can be built
// from `Value()`. Calling this on any other non-object is a programmer error.
Value& Value::set(std::string key, Value value) {
  if (type_ == Type::Null) {
    type_ = Type::Object;
  }
  assert(type_ == Type::Object);
  if (Value* existing = find(key)) {
    *existing = std::move(value);
    return *existing;
  }
  members_.emplace_back(std::move(key), std::move(value));
  return members_.back().second;
}

bool Value::erase(std::string_view key) {
  if (type_ != Type::Object) {
    return false;
  }
  for (auto it = members_.begin(); it != members_.end(); ++it) {
    if (it->first == key) {
      members_.erase(it);
      return true;
    }
  }
  return false;
}

// A null value becomes an empty array first, as in set().
void Value::push_back(Value value) {
  if (type_ == Type::Null) {
    type_ = Type::Array;
  }
  assert(type_ == Type::Array);
  items_.push_back(std::move(value));
}

// Equality follows JSON meaning: numbers compare by value (`1.0 == 1`), and
// objects by their set of members, whatever the order.
bool Value::operator==(const Value& other) const {
  if (type_ != other.type_) {
    return false;
  }
  switch (type_) {
    case Type::Null:
      return true;
    case Type::Bool:
      return bool_ == other.bool_;
    case Type::String:
      return text_ == other.text_;
    case Type::Number: {
      if (text_ == other.text_) {
        return true;
      }
      const auto left_int = as_int();
      const auto right_int = other.as_int();
      if (left_int && right_int) {
        return *left_int == *right_int;
      }
      return as_double() == other.as_double();
    }
    case Type::Array:
      return items_ == other.items_;
    case Type::Object: {
      if (members_.size() != other.members_.size()) {
        return false;
      }
      for (const auto& [name, member] : members_) {
        const Value* match = other.find(name);
        if (match == nullptr || !(*match == member)) {
          return false;
        }
      }
      return true;
    }
  }
  return false;
}

void write(const Value& value, std::string& out) { write_value(value, out); }

std::string to_string(const Value& value) {
  std::string out;
  write(value, out);
  return out;
}

}  // namespace slipway::json
