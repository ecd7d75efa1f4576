// Top-level members of an event's JSON text, found and replaced without
// building a document: the flow filters read a few members of every flow
// and add one, which a full parse and rewrite would make several times slower.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>

namespace slipway::filters::flow {

enum class ValueKind : std::uint8_t { String, Number, Other };

struct MemberValue {
  bool found = false;
  ValueKind kind = ValueKind::Other;
  std::size_t begin = 0;  // offset of the value's first byte in the object text
  std::size_t end = 0;    // offset one past its last byte
};

// Finds the top-level members named in `names` in one pass over
// `object_text`, setting `found[i]` for `names[i]`. Returns false when the
// text is not a JSON object. Values are skipped, not validated.
bool find_members(std::string_view object_text, std::span<const std::string_view> names,
                  std::span<MemberValue> found);

// The text of a found string (unescaped, using `scratch` when the value
// has escapes) or number (as written); empty for other kinds.
std::string_view member_text(std::string_view object_text, const MemberValue& value, std::string& scratch);

// Writes `object_text` with a top-level member set to the string `value`
// into `out`: in place when `existing` was found, appended otherwise.
// `quoted_name` is the member's name as a JSON string, quotes included.
void write_with_string_member(std::string_view object_text, const MemberValue& existing,
                              std::string_view quoted_name, std::string_view value, std::string& out);

}  // namespace slipway::filters::flow
