// JSON-lines decoding in two passes. json::validate checks a line by the
// rules of json::parse without building anything; a clean object is kept as
// it is. Only a line that needs repairs is parsed into a document, repaired
// and written again.
#include "engine/json_line.hpp"

#include <cassert>
#include <string>
#include <string_view>
#include <utility>

#include "engine/json.hpp"

namespace slipway::json {

namespace {

constexpr std::string_view kExpectation = "expected one JSON object per line";
constexpr std::string_view kTrailingError = "trailing characters after the JSON value";
constexpr std::string_view kDepthErrorPrefix = "nesting deeper than ";

bool is_blank(std::string_view line) { return line.find_first_not_of(" \t") == std::string_view::npos; }

std::string_view describe_type(Type type) {
  switch (type) {
    case Type::Null: return "null";
    case Type::Bool: return "a boolean";
    case Type::Number: return "a number";
    case Type::String: return "a string";
    case Type::Array: return "an array";
    case Type::Object: return "an object";
  }
  return "an unknown value";
}

// The type of the value that starts the line, for lines that did not parse.
std::string_view describe_first_value(std::string_view line) {
  const std::size_t first = line.find_first_not_of(" \t\r\n");
  switch (first == std::string_view::npos ? '\0' : line[first]) {
    case '{': return "an object";
    case '[': return "an array";
    case '"': return "a string";
    case 't':
    case 'f': return "a boolean";
    case 'n': return "null";
    default: return "a number";
  }
}

DecodedLine rejected(std::string reason) {
  DecodedLine decoded;
  decoded.kind = LineKind::Rejected;
  decoded.reason = std::move(reason);
  return decoded;
}

DecodedLine reject_non_object(Type type) {
  std::string reason = "top-level value is ";
  reason += describe_type(type);
  reason += "; ";
  reason += kExpectation;
  return rejected(std::move(reason));
}

// Byte offsets in reasons count from 0 at the start of the line. A line
// with a whole value and then more text gets its own wording, so that a log
// line starting with a number is not mistaken for a number.
DecodedLine reject_invalid(std::string_view line, const ValidateResult& checked) {
  const std::string offset = std::to_string(checked.error_offset);
  if (checked.error == kTrailingError) {
    const std::string_view type_name = describe_first_value(line);
    if (type_name == "an object") {
      return rejected("trailing characters after the JSON object at byte " + offset);
    }
    return rejected("trailing characters after the top-level value at byte " + offset + ": the line starts with " +
                    std::string(type_name) + "; " + std::string(kExpectation));
  }
  if (checked.error.starts_with(kDepthErrorPrefix)) {
    return rejected(checked.error + " at byte " + offset);
  }
  return rejected("invalid JSON at byte " + offset + ": " + checked.error);
}

Value repair_names(std::uint32_t repairs) {
  Value names = Value::array();
  if (repairs & kRepairInvalidUtf8) {
    names.push_back(Value::string("invalid_utf8"));
  }
  if (repairs & kRepairLoneSurrogate) {
    names.push_back(Value::string("lone_surrogate"));
  }
  if (repairs & kRepairDuplicateKey) {
    names.push_back(Value::string("duplicate_key"));
  }
  return names;
}

}  // namespace

struct LineDecoder::State {
  ParseOptions options;

  DecodedLine rewrite(std::string_view line) const;
};

// Called only for an object that validate() found repairable. Both run the
// same grammar code, so parsing cannot fail here, and the JsonValidateTest
// cases check that the two agree.
DecodedLine LineDecoder::State::rewrite(std::string_view line) const {
  ParseResult parsed = parse(line, options);
  assert(parsed.value.has_value());
  assert(parsed.value->is_object());
  Value& value = *parsed.value;

  // The marker always ends the object, even if the line already had one.
  value.erase(kRepairsMember);
  value.members().emplace_back(std::string(kRepairsMember), repair_names(parsed.repairs));

  DecodedLine decoded;
  decoded.kind = LineKind::Object;
  decoded.rewritten = true;
  decoded.repairs = parsed.repairs;
  write(value, decoded.json);
  return decoded;
}

LineDecoder::LineDecoder(std::size_t max_depth) : state_(std::make_unique<State>()) {
  state_->options.max_depth = max_depth;
}

LineDecoder::~LineDecoder() = default;

DecodedLine LineDecoder::decode(std::string_view line) {
  if (is_blank(line)) {
    return DecodedLine{};
  }

  const ValidateResult checked = validate(line, state_->options);
  if (!checked.valid) {
    return reject_invalid(line, checked);
  }
  if (checked.type != Type::Object) {
    return reject_non_object(checked.type);
  }
  if (checked.repairs != kRepairNone) {
    return state_->rewrite(line);
  }

  DecodedLine decoded;
  decoded.kind = LineKind::Object;
  return decoded;
}

}  // namespace slipway::json
