// A writer of YAML block text with comments, for generated pipeline files.
// yaml-cpp's emitter cannot place a comment block above a key, so the text
// is written directly. Keys are the writer's own identifiers, and every
// string value is written double-quoted and escaped, so no value can change
// the structure of the document.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace slipway {

// Returns `text` as a YAML double-quoted scalar.
std::string yaml_quote(std::string_view text);

// Doubles every `$`, so configuration interpolation reads a value taken
// from elsewhere literally instead of expanding a `${NAME}` inside it.
std::string escape_interpolation(std::string_view text);

class YamlText {
 public:
  // Comment lines at the current indentation, wrapped to the line width.
  // Line breaks in `text` become spaces, so a comment cannot end early.
  void comment(std::string_view text);
  // A "# NOTE: <setting>: <reason>" comment for a setting that is not carried over as it was.
  void note(std::string_view setting, std::string_view reason);
  void blank_line();

  // Starts a nested mapping under `key`; end it with close().
  void open(std::string_view key);
  void close();

  // `key: "value"`. The value is read literally: `$` is escaped.
  void string(std::string_view key, std::string_view value);
  // `key: "value"` where `value` may hold `${NAME:-default}` references.
  void interpolated(std::string_view key, std::string_view value);
  void integer(std::string_view key, std::int64_t value);
  void boolean(std::string_view key, bool value);
  // `key: ["a", "b"]`, each item read literally unless `interpolate` is set.
  void strings(std::string_view key, const std::vector<std::string>& values, bool interpolate = false);

  const std::string& text() const { return text_; }

 private:
  void line(std::string_view content);

  std::string text_;
  std::size_t indent_ = 0;
};

}  // namespace slipway
