#include "engine/yaml_text.hpp"

#include <algorithm>
#include <cassert>

#include <fmt/format.h>

namespace slipway {

namespace {

constexpr std::size_t kLineWidth = 100;
constexpr std::size_t kIndentStep = 2;

// Splits `text` into lines of at most `width` characters at spaces; a word
// longer than `width` gets a line of its own.
std::vector<std::string> wrap(std::string_view text, std::size_t width) {
  std::vector<std::string> lines;
  std::string current;
  std::size_t start = 0;
  while (start < text.size()) {
    std::size_t end = text.find(' ', start);
    if (end == std::string_view::npos) {
      end = text.size();
    }
    const std::string_view word = text.substr(start, end - start);
    start = end + 1;
    if (word.empty()) {
      continue;
    }
    if (!current.empty() && current.size() + 1 + word.size() > width) {
      lines.push_back(std::move(current));
      current.clear();
    }
    if (!current.empty()) {
      current += ' ';
    }
    current += word;
  }
  if (!current.empty() || lines.empty()) {
    lines.push_back(std::move(current));
  }
  return lines;
}

std::string single_line(std::string_view text) {
  std::string flat(text);
  for (char& c : flat) {
    if (c == '\n' || c == '\r' || c == '\t') {
      c = ' ';
    }
  }
  return flat;
}

}  // namespace

std::string yaml_quote(std::string_view text) {
  std::string quoted = "\"";
  for (const char c : text) {
    switch (c) {
      case '"':
        quoted += "\\\"";
        break;
      case '\\':
        quoted += "\\\\";
        break;
      case '\n':
        quoted += "\\n";
        break;
      case '\t':
        quoted += "\\t";
        break;
      case '\r':
        quoted += "\\r";
        break;
      default:
        // YAML allows no other C0 control character or DEL unescaped.
        if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) {
          quoted += fmt::format("\\x{:02x}", static_cast<unsigned char>(c));
        } else {
          quoted += c;
        }
    }
  }
  quoted += '"';
  return quoted;
}

std::string escape_interpolation(std::string_view text) {
  std::string escaped;
  escaped.reserve(text.size());
  for (const char c : text) {
    escaped += c;
    if (c == '$') {
      escaped += '$';
    }
  }
  return escaped;
}

void YamlText::comment(std::string_view text) {
  // Leading spaces indent a command line inside a comment; wrapping keeps them.
  const std::size_t leading = std::min(text.find_first_not_of(' '), text.size());
  const std::string margin(leading, ' ');
  const std::size_t used = indent_ + 2 + leading;
  const std::size_t width = kLineWidth > used ? kLineWidth - used : 1;
  for (const std::string& wrapped : wrap(single_line(text.substr(leading)), width)) {
    line(wrapped.empty() ? "#" : "# " + margin + wrapped);
  }
}

void YamlText::note(std::string_view setting, std::string_view reason) {
  const std::size_t width = kLineWidth > indent_ + 4 ? kLineWidth - indent_ - 4 : 1;
  const std::vector<std::string> lines =
      wrap(single_line(fmt::format("NOTE: {}: {}", setting, reason)), width);
  for (std::size_t line_idx = 0; line_idx < lines.size(); ++line_idx) {
    // Continuation lines are indented, so each note reads as one block.
    line((line_idx == 0 ? "# " : "#   ") + lines[line_idx]);
  }
}

void YamlText::blank_line() { text_ += '\n'; }

void YamlText::open(std::string_view key) {
  line(fmt::format("{}:", key));
  indent_ += kIndentStep;
}

void YamlText::close() {
  // close() pairs with an earlier open().
  assert(indent_ >= kIndentStep);
  indent_ -= kIndentStep;
}

void YamlText::string(std::string_view key, std::string_view value) {
  line(fmt::format("{}: {}", key, yaml_quote(escape_interpolation(value))));
}

void YamlText::interpolated(std::string_view key, std::string_view value) {
  line(fmt::format("{}: {}", key, yaml_quote(value)));
}

void YamlText::integer(std::string_view key, std::int64_t value) { line(fmt::format("{}: {}", key, value)); }

void YamlText::boolean(std::string_view key, bool value) { line(fmt::format("{}: {}", key, value)); }

void YamlText::strings(std::string_view key, const std::vector<std::string>& values, bool interpolate) {
  std::string items;
  for (const std::string& value : values) {
    if (!items.empty()) {
      items += ", ";
    }
    items += yaml_quote(interpolate ? value : escape_interpolation(value));
  }
  line(fmt::format("{}: [{}]", key, items));
}

void YamlText::line(std::string_view content) {
  text_.append(indent_, ' ');
  text_ += content;
  text_ += '\n';
}

}  // namespace slipway
