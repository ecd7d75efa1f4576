// Decoding of Zeek logs for the file input's `codec: zeek`. A Zeek TSV log
// is a block of `#` header lines (#separator, #set_separator, #empty_field,
// #unset_field, #path, #open, #fields, #types), then one row per record and
// sometimes #close. A file may contain several blocks. Each row
// becomes one JSON object keyed by the #fields names, with values typed by
// #types. Zeek JSON logs are already one object per line, so lines that
// start with `{` are left to the JSON decoder.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace slipway::inputs::file {

// Treatment of an unset value (`-` by default) in the event.
enum class ZeekUnsetFields : std::uint8_t {
  Omit,  // the member is left out, as Zeek's own JSON writer does
  Null,  // the member is written with the value null
};

// JSON form of a column's values.
enum class ZeekValueKind : std::uint8_t {
  String,  // string, addr, subnet, enum, pattern and types this decoder does not know
  Number,  // count, int, double, time, interval, port: the digits as written
  Bool,    // T or F
};

struct ZeekColumn {
  std::string name;
  std::string key;        // the name as a quoted JSON member name with its colon
  std::string type_name;  // as #types gives it, e.g. "set[string]"; "string" without #types
  ZeekValueKind kind = ZeekValueKind::String;
  bool container = false;  // set[...] or vector[...]: a JSON array of `kind` values
};

// The header lines in effect for the rows that follow them in one file.
struct ZeekHeader {
  std::string separator = "\t";
  std::string set_separator = ",";
  std::string empty_field = "(empty)";
  std::string unset_field = "-";
  std::vector<ZeekColumn> columns;
  std::size_t key_bytes = 0;  // total size of the columns' keys
  // Number of columns in each separated field. Some hand-labeled CTU logs
  // put their label columns into one field, separated by spaces, in #fields,
  // #types and every row. Empty when every field contains one column.
  std::vector<std::size_t> packed_widths;
  std::optional<std::uint64_t> fields_offset;  // byte offset of the #fields line
  std::string error;  // why the header cannot decode rows, e.g. #types not matching #fields

  // Updates the state from one line starting with '#'. Lines with an
  // unknown directive are comments and change nothing.
  void apply(std::string_view line, std::uint64_t offset);
};

enum class ZeekLineKind : std::uint8_t {
  Header,    // a '#' line: consumed, no event
  Row,       // a row: its JSON object was written to the output string
  Json,      // a line starting with '{', for the JSON decoder
  Rejected,  // a row that cannot be decoded; `reason` contains the cause
};

// Decodes the lines of one Zeek log file in order and keeps that file's header state.
class ZeekLogDecoder {
 public:
  explicit ZeekLogDecoder(ZeekUnsetFields unset_fields) : unset_fields_(unset_fields) {}

  // Decodes one line (without its terminator) found at `offset`. For a row,
  // replaces `json` with its JSON object. For a rejected row, sets `reason`.
  ZeekLineKind decode(std::string_view line, std::uint64_t offset, std::string& json, std::string& reason);

  // Forgets the header, for a file read again from its start.
  void reset() { header_ = ZeekHeader{}; }

  // Rebuilds the header in effect at `offset`, a line start, from the '#'
  // lines before it: the block around the last #fields line, then every
  // later '#' line. Returns the errno of a failed read, 0 on success; a
  // file without any #fields line before `offset` leaves the header empty.
  int recover_header(int fd, std::uint64_t offset, std::size_t max_line_bytes);

  const ZeekHeader& header() const { return header_; }

 private:
  bool split_row(std::string_view line);
  // Writes the JSON of one value at `out` and moves `out` past it.
  bool write_value(std::string_view raw, const ZeekColumn& column, char*& out, std::string& reason);
  bool write_scalar(std::string_view raw, ZeekValueKind kind, const ZeekColumn& column, char*& out,
                    std::string& reason);

  ZeekUnsetFields unset_fields_;
  ZeekHeader header_;
  std::vector<std::string_view> fields_;  // values of the row being decoded, one per column
  std::string unescaped_;                 // scratch for values with \xNN escapes
  std::string quoted_;                    // scratch for such values as JSON strings
  std::vector<char> row_buffer_;          // the JSON of the row being decoded
};

// Appends `raw` with each \xNN escape replaced by its byte, as Zeek's
// readers decode it; other backslashes stay as they are.
void append_zeek_unescaped(std::string_view raw, std::string& out);

}  // namespace slipway::inputs::file
