#include "filters/event_members.hpp"

#include <array>
#include <cstring>

#include "engine/json.hpp"
#include "engine/json_scan.hpp"

namespace slipway::filters::flow {

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
// The search stops at quotes, backslashes and bytes it steps over. A
// backslash always escapes the next byte, so an escaped quote never ends the string.
std::size_t skip_string(std::string_view text, std::size_t pos) {
  const char* const data = text.data();
  ++pos;
  while (true) {
    pos = json::detail::find_string_special(data, pos, text.size());
    if (pos >= text.size()) {
      return kNotFound;
    }
    if (data[pos] == '"') {
      return pos + 1;
    }
    pos += data[pos] == '\\' ? 2 : 1;
  }
}

// Returns the offset after the object or array that opens at text[pos].
std::size_t skip_container(std::string_view text, std::size_t pos) {
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

std::size_t skip_value(std::string_view text, std::size_t pos, ValueKind& kind) {
  const char first = text[pos];
  if (first == '"') {
    kind = ValueKind::String;
    return skip_string(text, pos);
  }
  kind = first == '-' || (first >= '0' && first <= '9') ? ValueKind::Number : ValueKind::Other;
  if (first == '{' || first == '[') {
    return skip_container(text, pos);
  }
  while (pos < text.size() && !is_space(text[pos]) && text[pos] != ',' && text[pos] != '}' && text[pos] != ']') {
    ++pos;
  }
  return pos;
}

// A member name as the event means it. Names with escapes are rare enough
// to go through the full parser.
std::string_view unescaped_key(std::string_view quoted, std::string& scratch) {
  const std::string_view raw = quoted.substr(1, quoted.size() - 2);
  if (raw.find('\\') == kNotFound) {
    return raw;
  }
  json::ParseResult parsed = json::parse(quoted);
  scratch = parsed.value && parsed.value->is_string() ? parsed.value->as_string() : std::string(raw);
  return scratch;
}

}  // namespace

bool find_members(std::string_view object_text, std::span<const std::string_view> names,
                  std::span<MemberValue> found) {
  std::size_t pos = skip_space(object_text, 0);
  if (pos >= object_text.size() || object_text[pos] != '{') {
    return false;
  }
  pos = skip_space(object_text, pos + 1);
  if (pos < object_text.size() && object_text[pos] == '}') {
    return true;
  }

  // First bytes of the wanted names: a member whose name starts with
  // another byte, and no escape, is skipped without comparing names.
  std::array<bool, 256> first_bytes{};
  for (const std::string_view name : names) {
    if (!name.empty()) {
      first_bytes[static_cast<unsigned char>(name[0])] = true;
    }
  }

  std::string key_scratch;
  while (pos < object_text.size() && object_text[pos] == '"') {
    const std::size_t key_end = skip_string(object_text, pos);
    if (key_end == kNotFound) {
      return false;
    }
    const char key_first = key_end - pos > 2 ? object_text[pos + 1] : '\0';
    const bool may_match = key_first == '\\' || first_bytes[static_cast<unsigned char>(key_first)];
    const std::string_view key =
        may_match ? unescaped_key(object_text.substr(pos, key_end - pos), key_scratch) : std::string_view();
    pos = skip_space(object_text, key_end);
    if (pos >= object_text.size() || object_text[pos] != ':') {
      return false;
    }
    pos = skip_space(object_text, pos + 1);
    if (pos >= object_text.size()) {
      return false;
    }

    MemberValue value{.found = true, .begin = pos};
    pos = skip_value(object_text, pos, value.kind);
    if (pos == kNotFound) {
      return false;
    }
    value.end = pos;
    for (std::size_t name_idx = 0; may_match && name_idx < names.size(); ++name_idx) {
      // The first byte rules out most names before a memcmp call.
      const std::string_view name = names[name_idx];
      if (name.size() == key.size() && !key.empty() && name[0] == key[0] &&
          std::memcmp(name.data(), key.data(), key.size()) == 0) {
        found[name_idx] = value;
      }
    }

    pos = skip_space(object_text, pos);
    if (pos < object_text.size() && object_text[pos] == '}') {
      return true;
    }
    if (pos >= object_text.size() || object_text[pos] != ',') {
      return false;
    }
    pos = skip_space(object_text, pos + 1);
  }
  return false;
}

std::string_view member_text(std::string_view object_text, const MemberValue& value, std::string& scratch) {
  const std::string_view token = object_text.substr(value.begin, value.end - value.begin);
  if (value.kind == ValueKind::Number) {
    return token;
  }
  if (value.kind != ValueKind::String) {
    return {};
  }
  const std::string_view inner = token.substr(1, token.size() - 2);
  if (inner.find('\\') == kNotFound) {
    return inner;
  }
  json::ParseResult parsed = json::parse(token);
  scratch = parsed.value && parsed.value->is_string() ? parsed.value->as_string() : std::string(inner);
  return scratch;
}

void write_with_string_member(std::string_view object_text, const MemberValue& existing,
                              std::string_view quoted_name, std::string_view value, std::string& out) {
  out.clear();
  if (existing.found) {
    out.reserve(object_text.size() + value.size() + 2);
    out.append(object_text.substr(0, existing.begin));
    json::append_quoted(value, out);
    out.append(object_text.substr(existing.end));
    return;
  }

  const std::size_t close = object_text.rfind('}');
  std::size_t before_close = close;
  while (before_close > 0 && is_space(object_text[before_close - 1])) {
    --before_close;
  }
  const bool empty_object = before_close > 0 && object_text[before_close - 1] == '{';
  out.reserve(object_text.size() + quoted_name.size() + value.size() + 4);
  out.append(object_text.substr(0, before_close));
  if (!empty_object) {
    out += ',';
  }
  out.append(quoted_name);
  out += ':';
  json::append_quoted(value, out);
  out.append(object_text.substr(before_close));
}

}  // namespace slipway::filters::flow
