// A small ordered JSON document model for filters that read or rebuild events.
// Parsing repairs what alert files get wrong instead of rejecting the line:
// invalid UTF-8 and lone surrogate escapes become U+FFFD, and for a repeated
// member name the last value wins. Numbers keep the text they were written
// with, so a value passes through digit for digit.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace slipway::json {

enum class Type : std::uint8_t { Null, Bool, Number, String, Array, Object };

// Repairs made while parsing, as bit flags in ParseResult::repairs.
enum Repair : std::uint32_t {
  kRepairNone = 0,
  kRepairInvalidUtf8 = 1u << 0,     // raw bytes that are not UTF-8 became U+FFFD
  kRepairLoneSurrogate = 1u << 1,   // a \uD800-\uDFFF escape without its pair became U+FFFD
  kRepairDuplicateKey = 1u << 2,    // a repeated member name was collapsed, last value kept
};

class Value {
 public:
  using Member = std::pair<std::string, Value>;

  Value() = default;  // null

  static Value boolean(bool value);
  // Takes JSON number text as written (e.g. "1.0", "-3e2"); the caller
  // guarantees it is a valid JSON number.
  static Value number_text(std::string text);
  static Value number(std::int64_t value);
  static Value number(double value);
  static Value string(std::string utf8);
  static Value array();
  static Value object();

  Type type() const { return type_; }
  bool is_null() const { return type_ == Type::Null; }
  bool is_bool() const { return type_ == Type::Bool; }
  bool is_number() const { return type_ == Type::Number; }
  bool is_string() const { return type_ == Type::String; }
  bool is_array() const { return type_ == Type::Array; }
  bool is_object() const { return type_ == Type::Object; }

  bool as_bool() const { return bool_; }
  // The number as written in the source, or as formatted when built.
  const std::string& number_text() const { return text_; }
  // The number as an integer, if it is one within int64 range.
  std::optional<std::int64_t> as_int() const;
  std::optional<double> as_double() const;
  const std::string& as_string() const { return text_; }

  const std::vector<Value>& items() const { return items_; }
  std::vector<Value>& items() { return items_; }
  const std::vector<Member>& members() const { return members_; }
  std::vector<Member>& members() { return members_; }

  // Finds a member of an object; nullptr when missing or not an object.
  const Value* find(std::string_view key) const;
  Value* find(std::string_view key);
  // Resolves a field path such as `Source[0].IP4[0]` or `Note`; nullptr when
  // any step is missing or has the wrong type.
  const Value* at_path(std::string_view path) const;

  // Sets a member: replaces the value in place when the key exists, so the
  // member keeps its position, and appends it otherwise.
  Value& set(std::string key, Value value);
  bool erase(std::string_view key);
  void push_back(Value value);

  bool operator==(const Value& other) const;

 private:
  Type type_ = Type::Null;
  bool bool_ = false;
  std::string text_;  // number text or string value
  std::vector<Value> items_;
  std::vector<Member> members_;
};

struct ParseOptions {
  // Deeper documents are rejected: alert lines are shallow, and a limit keeps
  // a hostile line of nested brackets from exhausting the stack.
  std::size_t max_depth = 128;
};

struct ParseResult {
  std::optional<Value> value;  // empty when the text is not one JSON value
  std::string error;           // why parsing failed, e.g. "missing closing quote"
  std::size_t error_offset = 0;  // byte offset of the failure in the input
  std::uint32_t repairs = kRepairNone;
};

// Parses exactly one JSON value; trailing bytes other than white space are an error.
ParseResult parse(std::string_view text, const ParseOptions& options = {});

// The outcome parse() would report for the same text, found without
// building the document.
struct ValidateResult {
  bool valid = false;            // the text is one JSON value, repaired or not
  Type type = Type::Null;        // type of the top-level value, when valid
  std::string error;             // as in ParseResult
  std::size_t error_offset = 0;  // as in ParseResult
  std::uint32_t repairs = kRepairNone;  // the repairs parse() would make
};

// Checks `text` by the rules of parse() without building a document. Its
// buffers are kept per thread, so checking a typical clean line allocates
// nothing, and threads may call it concurrently.
ValidateResult validate(std::string_view text, const ParseOptions& options = {});

// Appends compact JSON. Strings are written as valid UTF-8 with control
// characters, quotes and backslashes escaped.
void write(const Value& value, std::string& out);
std::string to_string(const Value& value);

// Appends `text` as a quoted JSON string. Invalid UTF-8 in `text` is written as U+FFFD.
void append_quoted(std::string_view text, std::string& out);

bool is_valid_utf8(std::string_view text);
// Appends `text` with each maximal invalid UTF-8 subpart replaced by U+FFFD,
// the practice Unicode recommends; returns the number of replacements.
std::size_t append_sanitized_utf8(std::string_view text, std::string& out);

}  // namespace slipway::json
