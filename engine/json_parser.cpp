// The JSON grammar, shared by parse(), which builds a document, and
// validate(), which only checks a line. Both run the same code, so a line
// that validate() finds clean is exactly one that parse() reads unchanged.
// The parser keeps its own stack of open containers instead of recursing:
// the nesting limit, not the thread's stack size, bounds what input can do.
#include <cstdint>
#include <deque>
#include <string>
#include <string_view>
#include <unordered_map>
#include <unordered_set>
#include <utility>
#include <vector>

#include "engine/json.hpp"
#include "engine/json_scan.hpp"

namespace slipway::json {

namespace {

constexpr std::string_view kReplacementCharacter = "\xEF\xBF\xBD";  // U+FFFD in UTF-8

// Objects up to this size are checked for repeated names pair by pair.
// Larger ones go through a hash set, so a hostile line stays linear.
constexpr std::size_t kMaxMembersForPairwiseCheck = 24;

bool is_json_whitespace(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; }

bool is_digit(char c) { return c >= '0' && c <= '9'; }

int hex_digit_value(char c) {
  if (c >= '0' && c <= '9') {
    return c - '0';
  }
  if (c >= 'a' && c <= 'f') {
    return c - 'a' + 10;
  }
  if (c >= 'A' && c <= 'F') {
    return c - 'A' + 10;
  }
  return -1;
}

void append_code_point(std::uint32_t code_point, std::string& out) {
  if (code_point < 0x80) {
    out += static_cast<char>(code_point);
  } else if (code_point < 0x800) {
    out += static_cast<char>(0xC0 | (code_point >> 6));
    out += static_cast<char>(0x80 | (code_point & 0x3F));
  } else if (code_point < 0x10000) {
    out += static_cast<char>(0xE0 | (code_point >> 12));
    out += static_cast<char>(0x80 | ((code_point >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (code_point & 0x3F));
  } else {
    out += static_cast<char>(0xF0 | (code_point >> 18));
    out += static_cast<char>(0x80 | ((code_point >> 12) & 0x3F));
    out += static_cast<char>(0x80 | ((code_point >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (code_point & 0x3F));
  }
}

template <typename Names, typename NameOf>
bool has_repeated_name(const Names& names, std::size_t begin, NameOf name_of) {
  const std::size_t count = names.size() - begin;
  if (count <= kMaxMembersForPairwiseCheck) {
    for (std::size_t later = begin + 1; later < names.size(); ++later) {
      for (std::size_t earlier = begin; earlier < later; ++earlier) {
        if (name_of(names[earlier]) == name_of(names[later])) {
          return true;
        }
      }
    }
    return false;
  }

  std::unordered_set<std::string_view> seen;
  seen.reserve(count);
  for (std::size_t index = begin; index < names.size(); ++index) {
    if (!seen.insert(name_of(names[index])).second) {
      return true;
    }
  }
  return false;
}

// Collapses repeated member names: the last value wins and takes the
// position of the first occurrence, so field order follows first sight.
void collapse_repeated_names(std::vector<Value::Member>& members) {
  std::vector<Value::Member> unique;
  unique.reserve(members.size());
  // Keys point into `unique`, which never reallocates after the reserve.
  std::unordered_map<std::string_view, std::size_t> position;
  position.reserve(members.size());
  for (auto& member : members) {
    const auto found = position.find(member.first);
    if (found != position.end()) {
      unique[found->second].second = std::move(member.second);
      continue;
    }
    unique.push_back(std::move(member));
    position.emplace(unique.back().first, unique.size() - 1);
  }
  members = std::move(unique);
}

// Receives the parser's events and builds a document from them.
class DocumentBuilder {
 public:
  // Room reserved in each object: most alert objects have fewer members,
  // and growing a member vector from one costs several moves.
  static constexpr std::size_t kInitialMembers = 8;
  static constexpr bool kKeepsStringValues = true;

  Value take_root() { return std::move(root_); }

  void open(bool is_object) {
    if (is_object) {
      *slot_ = Value::object();
      slot_->members().reserve(kInitialMembers);
    } else {
      *slot_ = Value::array();
    }
    open_.push_back(slot_);
  }
  // Returns true when repeated member names were collapsed.
  bool close(bool is_object) {
    Value& container = *open_.back();
    open_.pop_back();
    if (!is_object || !has_repeated_name(container.members(), 0, name_of_member)) {
      return false;
    }
    collapse_repeated_names(container.members());
    return true;
  }
  void name(std::string_view text, bool /*stable*/) {
    auto& member = open_.back()->members().emplace_back(std::string(text), Value());
    slot_ = &member.second;
  }
  void element() {
    auto& items = open_.back()->items();
    items.emplace_back();
    slot_ = &items.back();
  }
  void null_value() { *slot_ = Value(); }
  void boolean(bool value) { *slot_ = Value::boolean(value); }
  void number(std::string_view text) { *slot_ = Value::number_text(std::string(text)); }
  void string(std::string_view text) { *slot_ = Value::string(std::string(text)); }

 private:
  static std::string_view name_of_member(const Value::Member& member) { return member.first; }

  Value root_;
  // The value the next event fills. Pointers into a container's vectors stay
  // valid because only the innermost open container ever grows.
  Value* slot_ = &root_;
  std::vector<Value*> open_;  // containers being filled, innermost last
};

// Receives the parser's events and keeps only what the repeated-name check
// needs: the member names of each open object. Its buffers keep their
// capacity from one line to the next.
class NameChecker {
 public:
  static constexpr bool kKeepsStringValues = false;

  void reset() {
    names_.clear();
    object_starts_.clear();
    owned_names_.clear();
  }

  void open(bool is_object) {
    if (is_object) {
      object_starts_.push_back(names_.size());
    }
  }
  bool close(bool is_object) {
    if (!is_object) {
      return false;
    }
    const std::size_t start = object_starts_.back();
    object_starts_.pop_back();
    const bool repeated = has_repeated_name(names_, start, [](std::string_view name) { return name; });
    names_.resize(start);
    return repeated;
  }
  // A name that is not `stable` lives in the parser's scratch buffer and
  // must be copied before the next string overwrites it.
  void name(std::string_view text, bool stable) {
    if (stable) {
      names_.push_back(text);
      return;
    }
    names_.push_back(owned_names_.emplace_back(text));
  }
  void element() {}
  void null_value() {}
  void boolean(bool) {}
  void number(std::string_view) {}
  void string(std::string_view) {}

 private:
  std::vector<std::string_view> names_;
  std::vector<std::size_t> object_starts_;  // index in names_ of each open object's first name
  std::deque<std::string> owned_names_;     // a deque never moves its elements
};

struct Frame {
  bool is_object = false;
  bool is_empty = true;
};

// Parser storage that can outlive one parse, so its capacity is reused.
struct ParserBuffers {
  std::vector<Frame> frames;  // open containers, innermost last
  std::string scratch;        // decoded text of a string with escapes or repairs
};

template <typename Sink>
class Parser {
 public:
  Parser(std::string_view text, std::size_t max_depth, Sink& sink, ParserBuffers& buffers)
      : text_(text), max_depth_(max_depth), sink_(sink), frames_(buffers.frames), scratch_(buffers.scratch) {
    frames_.clear();
  }

  bool run();

  std::string error;
  std::size_t error_offset = 0;
  std::uint32_t repairs = kRepairNone;

 private:
  bool begin_value();
  bool open_container(bool is_object);
  bool continue_container();
  bool parse_scalar();
  bool parse_literal(std::string_view literal);
  bool parse_number();
  std::string_view parse_string(bool keep_text);
  bool parse_string_slow(std::size_t start, std::string* out);
  bool parse_escape(std::string* out);
  bool read_hex4(std::size_t at, std::uint32_t& code_unit) const;

  void skip_whitespace() {
    while (pos_ < text_.size() && is_json_whitespace(text_[pos_])) {
      ++pos_;
    }
  }
  bool at_end() const { return pos_ >= text_.size(); }
  bool at(char c) const { return pos_ < text_.size() && text_[pos_] == c; }
  bool fail(std::string message, std::size_t offset) {
    error = std::move(message);
    error_offset = offset;
    return false;
  }
  bool fail_unexpected(std::string_view expected);

  std::string_view text_;
  std::size_t max_depth_;
  Sink& sink_;
  std::size_t pos_ = 0;
  std::vector<Frame>& frames_;
  std::string& scratch_;
  bool string_is_stable_ = false;  // the last string read is a view of the input
};

template <typename Sink>
bool Parser<Sink>::fail_unexpected(std::string_view expected) {
  if (at_end()) {
    return fail("unexpected end of input; expected " + std::string(expected), pos_);
  }
  const auto byte = static_cast<unsigned char>(text_[pos_]);
  std::string found;
  if (byte < 0x20 || byte >= 0x7F) {
    static constexpr char kHexDigits[] = "0123456789abcdef";
    found = "byte 0x";
    found += kHexDigits[byte >> 4];
    found += kHexDigits[byte & 0x0F];
  } else {
    found = std::string("character '") + static_cast<char>(byte) + "'";
  }
  return fail("unexpected " + found + "; expected " + std::string(expected), pos_);
}

template <typename Sink>
bool Parser<Sink>::run() {
  skip_whitespace();
  if (!begin_value()) {
    return false;
  }
  while (!frames_.empty()) {
    if (!continue_container()) {
      return false;
    }
  }
  skip_whitespace();
  if (!at_end()) {
    return fail("trailing characters after the JSON value", pos_);
  }
  return true;
}

// Reads a scalar whole, or opens a container whose elements the caller's
// loop then reads one step at a time.
template <typename Sink>
bool Parser<Sink>::begin_value() {
  skip_whitespace();
  if (at('{') || at('[')) {
    return open_container(text_[pos_] == '{');
  }
  return parse_scalar();
}

template <typename Sink>
bool Parser<Sink>::open_container(bool is_object) {
  if (frames_.size() >= max_depth_) {
    return fail("nesting deeper than " + std::to_string(max_depth_) + " levels", pos_);
  }
  ++pos_;
  frames_.push_back(Frame{is_object, true});
  sink_.open(is_object);
  return true;
}

// Takes one step in the innermost open container: reads its end and closes
// it, or reads the separator and begins the next element.
template <typename Sink>
bool Parser<Sink>::continue_container() {
  Frame& frame = frames_.back();
  const bool is_object = frame.is_object;
  skip_whitespace();

  if (at(is_object ? '}' : ']')) {
    ++pos_;
    frames_.pop_back();
    if (sink_.close(is_object)) {
      repairs |= kRepairDuplicateKey;
    }
    return true;
  }
  if (!frame.is_empty) {
    if (!at(',')) {
      return fail_unexpected(is_object ? "',' or '}' after an object member" : "',' or ']' after an array element");
    }
    ++pos_;
    skip_whitespace();
  }
  frame.is_empty = false;

  if (!is_object) {
    sink_.element();
    return begin_value();
  }
  if (!at('"')) {
    return fail_unexpected("'\"' to start a member name");
  }
  const std::string_view name = parse_string(true);
  if (name.data() == nullptr) {
    return false;
  }
  sink_.name(name, string_is_stable_);
  skip_whitespace();
  if (!at(':')) {
    return fail_unexpected("':' after a member name");
  }
  ++pos_;
  return begin_value();
}

template <typename Sink>
bool Parser<Sink>::parse_scalar() {
  if (at_end()) {
    return fail("unexpected end of input; expected a value", pos_);
  }
  switch (text_[pos_]) {
    case '"': {
      const std::string_view content = parse_string(Sink::kKeepsStringValues);
      if (content.data() == nullptr) {
        return false;
      }
      sink_.string(content);
      return true;
    }
    case 't':
      sink_.boolean(true);
      return parse_literal("true");
    case 'f':
      sink_.boolean(false);
      return parse_literal("false");
    case 'n':
      sink_.null_value();
      return parse_literal("null");
    default:
      if (at('-') || is_digit(text_[pos_])) {
        return parse_number();
      }
      return fail_unexpected("a JSON value");
  }
}

template <typename Sink>
bool Parser<Sink>::parse_literal(std::string_view literal) {
  if (text_.substr(pos_, literal.size()) != literal) {
    return fail("invalid literal; expected " + std::string(literal), pos_);
  }
  pos_ += literal.size();
  return true;
}

template <typename Sink>
bool Parser<Sink>::parse_number() {
  const std::size_t start = pos_;
  const auto skip_digits = [&] {
    const std::size_t first = pos_;
    while (!at_end() && is_digit(text_[pos_])) {
      ++pos_;
    }
    return pos_ - first;
  };

  if (at('-')) {
    ++pos_;
  }
  if (at('0')) {
    ++pos_;
    if (!at_end() && is_digit(text_[pos_])) {
      return fail("invalid number: leading zero", start);
    }
  } else if (skip_digits() == 0) {
    return fail("invalid number: no digits", start);
  }
  if (at('.')) {
    ++pos_;
    if (skip_digits() == 0) {
      return fail("invalid number: no digits after the decimal point", start);
    }
  }
  if (at('e') || at('E')) {
    ++pos_;
    if (at('+') || at('-')) {
      ++pos_;
    }
    if (skip_digits() == 0) {
      return fail("invalid number: no digits in the exponent", start);
    }
  }
  sink_.number(text_.substr(start, pos_ - start));
  return true;
}

// Returns the string's value, or a view with a null data() on error. Text
// without escapes or repairs is a view of the input (string_is_stable_);
// anything else is decoded into scratch_. Without `keep_text` the string is
// only checked and the returned text is unspecified.
template <typename Sink>
std::string_view Parser<Sink>::parse_string(bool keep_text) {
  const std::size_t start = ++pos_;
  const char* data = text_.data();
  bool has_non_ascii = false;
  std::size_t index = start;
  while (true) {
    index = detail::find_string_special(data, index, text_.size());
    if (index >= text_.size()) {
      fail("missing closing quote", start - 1);
      return {};
    }
    const auto byte = static_cast<unsigned char>(data[index]);
    if (byte == '"') {
      break;
    }
    if (byte == '\\' || byte < 0x20) {
      string_is_stable_ = false;
      scratch_.clear();
      if (!parse_string_slow(start, keep_text ? &scratch_ : nullptr)) {
        return {};
      }
      return scratch_;
    }
    has_non_ascii = true;
    ++index;
  }

  const std::string_view content = text_.substr(start, index - start);
  pos_ = index + 1;
  string_is_stable_ = true;
  if (!has_non_ascii || is_valid_utf8(content)) {
    return content;
  }
  repairs |= kRepairInvalidUtf8;
  if (!keep_text) {
    return content;
  }
  scratch_.clear();
  append_sanitized_utf8(content, scratch_);
  string_is_stable_ = false;
  return scratch_;
}

// Decodes into `out`, or only checks when `out` is null.
template <typename Sink>
bool Parser<Sink>::parse_string_slow(std::size_t start, std::string* out) {
  pos_ = start;
  while (!at_end()) {
    const auto byte = static_cast<unsigned char>(text_[pos_]);
    if (byte == '"') {
      ++pos_;
      return true;
    }
    if (byte == '\\') {
      if (!parse_escape(out)) {
        return false;
      }
      continue;
    }
    if (byte < 0x20) {
      return fail("unescaped control character in a string", pos_);
    }
    if (byte < 0x80) {
      const std::size_t run_end = detail::find_string_special(text_.data(), pos_, text_.size());
      if (out != nullptr) {
        out->append(text_.substr(pos_, run_end - pos_));
      }
      pos_ = run_end;
      continue;
    }
    // A maximal invalid subpart consists of bytes 0x80 and above only, so
    // repairing each run of such bytes on its own replaces exactly the same
    // subparts as repairing the whole string.
    const std::size_t run_start = pos_;
    while (!at_end() && static_cast<unsigned char>(text_[pos_]) >= 0x80) {
      ++pos_;
    }
    const std::string_view run = text_.substr(run_start, pos_ - run_start);
    if (out != nullptr ? append_sanitized_utf8(run, *out) > 0 : !is_valid_utf8(run)) {
      repairs |= kRepairInvalidUtf8;
    }
  }
  return fail("missing closing quote", start - 1);
}

template <typename Sink>
bool Parser<Sink>::read_hex4(std::size_t at, std::uint32_t& code_unit) const {
  if (at + 4 > text_.size()) {
    return false;
  }
  code_unit = 0;
  for (std::size_t index = at; index < at + 4; ++index) {
    const int digit = hex_digit_value(text_[index]);
    if (digit < 0) {
      return false;
    }
    code_unit = (code_unit << 4) | static_cast<std::uint32_t>(digit);
  }
  return true;
}

template <typename Sink>
bool Parser<Sink>::parse_escape(std::string* out) {
  const std::size_t escape_start = pos_;
  if (pos_ + 1 >= text_.size()) {
    return fail("missing closing quote", escape_start);
  }
  const char kind = text_[pos_ + 1];
  pos_ += 2;
  char decoded = 0;
  switch (kind) {
    case '"': decoded = '"'; break;
    case '\\': decoded = '\\'; break;
    case '/': decoded = '/'; break;
    case 'b': decoded = '\b'; break;
    case 'f': decoded = '\f'; break;
    case 'n': decoded = '\n'; break;
    case 'r': decoded = '\r'; break;
    case 't': decoded = '\t'; break;
    case 'u': break;
    default:
      return fail(std::string("invalid escape sequence '\\") + kind + "'", escape_start);
  }
  if (kind != 'u') {
    if (out != nullptr) {
      *out += decoded;
    }
    return true;
  }

  std::uint32_t code_unit = 0;
  if (!read_hex4(pos_, code_unit)) {
    return fail("invalid \\u escape: expected four hex digits", escape_start);
  }
  pos_ += 4;

  const bool is_high_surrogate = code_unit >= 0xD800 && code_unit <= 0xDBFF;
  const bool is_low_surrogate = code_unit >= 0xDC00 && code_unit <= 0xDFFF;
  if (!is_high_surrogate && !is_low_surrogate) {
    if (out != nullptr) {
      append_code_point(code_unit, *out);
    }
    return true;
  }

  std::uint32_t low = 0;
  const bool has_low = is_high_surrogate && at('\\') && pos_ + 1 < text_.size() && text_[pos_ + 1] == 'u' &&
                       read_hex4(pos_ + 2, low) && low >= 0xDC00 && low <= 0xDFFF;
  if (!has_low) {
    // The escape that follows, if any, is decoded on its own, so a
    // reversed pair gives two replacement characters.
    if (out != nullptr) {
      *out += kReplacementCharacter;
    }
    repairs |= kRepairLoneSurrogate;
    return true;
  }
  pos_ += 6;
  if (out != nullptr) {
    append_code_point(0x10000 + ((code_unit - 0xD800) << 10) + (low - 0xDC00), *out);
  }
  return true;
}

Type type_of_first_value(std::string_view text) {
  const std::size_t first = text.find_first_not_of(" \t\r\n");
  switch (text[first]) {
    case '{': return Type::Object;
    case '[': return Type::Array;
    case '"': return Type::String;
    case 't':
    case 'f': return Type::Bool;
    case 'n': return Type::Null;
    default: return Type::Number;
  }
}

}  // namespace

ParseResult parse(std::string_view text, const ParseOptions& options) {
  DocumentBuilder builder;
  ParserBuffers buffers;
  Parser<DocumentBuilder> parser(text, options.max_depth, builder, buffers);
  ParseResult result;
  if (!parser.run()) {
    result.error = std::move(parser.error);
    result.error_offset = parser.error_offset;
    return result;
  }
  result.value = builder.take_root();
  result.repairs = parser.repairs;
  return result;
}

ValidateResult validate(std::string_view text, const ParseOptions& options) {
  // Reused so that checking a clean line allocates nothing.
  thread_local NameChecker checker;
  thread_local ParserBuffers buffers;
  checker.reset();
  Parser<NameChecker> parser(text, options.max_depth, checker, buffers);
  ValidateResult result;
  if (!parser.run()) {
    result.error = std::move(parser.error);
    result.error_offset = parser.error_offset;
    return result;
  }
  result.valid = true;
  result.type = type_of_first_value(text);
  result.repairs = parser.repairs;
  return result;
}

}  // namespace slipway::json
