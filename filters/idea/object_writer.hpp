// Compact JSON output for the IDEA0 writer: one object written member by
// member straight into a string, with the quoting and number formats the
// writer needs and nothing else.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace slipway::filters::idea {

// Appends `text` as a quoted JSON string. Output equals json::append_quoted's,
// so invalid UTF-8 is repaired the same way.
void append_json_string(std::string_view text, std::string& out);

// Writes one JSON object; the destructor closes it. Members with no value
// (an empty string or list, an unset optional) are left out.
class ObjectWriter {
 public:
  explicit ObjectWriter(std::string& out) : out_(out) { out_ += '{'; }
  ObjectWriter(const ObjectWriter&) = delete;
  ObjectWriter& operator=(const ObjectWriter&) = delete;
  ~ObjectWriter() { out_ += '}'; }

  // Starts a member and returns the output for its value. `name` is a
  // constant of at most kMaxKeyLength characters that needs no escaping.
  std::string& key(std::string_view name);

  void string(std::string_view name, std::string_view value);
  void strings(std::string_view name, std::span<const std::string_view> values);
  // Like string() and strings(), for values whose checked syntax admits no
  // character that JSON escapes: IDs, addresses, tags, categories, hashes
  // and constants. They are copied without a scan.
  void plain_string(std::string_view name, std::string_view value);
  void plain_strings(std::string_view name, std::span<const std::string_view> values);
  void integer(std::string_view name, const std::optional<std::int64_t>& value);
  void integers(std::string_view name, const std::vector<std::int64_t>& values);
  // Writes the shortest text that reads back as the same double, so 0.9605 stays 0.9605.
  void number(std::string_view name, const std::optional<double>& value);
  // Writes UTC microseconds as `YYYY-MM-DDTHH:MM:SS.ffffffZ`.
  void time(std::string_view name, const std::optional<std::int64_t>& utc_micros);
  // Writes names that passed is_protocol_name, in lower case.
  void protocols(std::string_view name, const std::vector<std::string_view>& values);

  static constexpr std::size_t kMaxKeyLength = 32;

 private:
  std::string& out_;
  bool first_ = true;
};

}  // namespace slipway::filters::idea
