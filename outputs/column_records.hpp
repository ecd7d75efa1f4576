// Records made of chosen fields of each event, in a fixed column order:
// TSV rows, as Zeek logs and Slips' labeled_flows.tsv have them, and JSON
// objects with only those members, as in Slips' labeled_flows.json. Events
// are scanned as text; only a column that names a nested path parses the
// whole event.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

namespace slipway::outputs {

// Escaping of TSV values that contain a separator or a line break.
enum class TsvEscape {
  // TAB, CR, LF, backslash and NUL become \t \r \n \\ \0, so every row
  // is one line and every tab separates fields.
  Backslash,
  // A value with TAB, CR, LF or a double quote is put in double quotes
  // with inner quotes doubled, as Python's csv module writes it for Slips'
  // labeled_flows.tsv. Such a row may span lines.
  Csv,
};

// Appends `value` as one TSV field.
void append_tsv_field(std::string_view value, TsvEscape escape, std::string& out);

class ColumnRecords {
 public:
  // `columns` are field paths: a top-level member name, which may contain
  // dots (Zeek's "id.orig_h"), or, when no member has that name, a nested
  // path such as `flow.saddr` or `answers[0]`.
  explicit ColumnRecords(std::vector<std::string> columns);

  const std::vector<std::string>& columns() const { return columns_; }

  // Appends the header row, the column paths, without a line ending.
  void append_tsv_header(TsvEscape escape, std::string& out) const;
  // Appends the row of one event without a line ending. A missing field or
  // null is an empty field, and objects and arrays are written as JSON text.
  void append_tsv_row(std::string_view event_json, TsvEscape escape, std::string& out);
  // Appends a JSON object with one member per column, named by its path,
  // in column order. A missing field is written as null.
  void append_json_object(std::string_view event_json, std::string& out);

 private:
  enum class Kind { Missing, String, Literal, Container };

  struct Found {
    Kind kind = Kind::Missing;
    std::size_t begin = 0;  // the value's token in the event text, or in nested_text_
    std::size_t end = 0;
    bool nested = false;    // the token is in nested_text_
  };

  void locate(std::string_view event_json);
  void locate_nested(std::string_view event_json);
  std::string_view token(std::string_view event_json, const Found& found) const;
  // The value as TSV field text: strings decoded, literals as written.
  std::string_view field_text(std::string_view event_json, const Found& found);

  std::vector<std::string> columns_;
  std::vector<bool> may_be_nested_;
  bool unique_columns_ = true;  // no column path appears twice
  std::vector<Found> found_;
  std::string nested_text_;  // values found below the top level, as JSON text
  std::string decoded_;      // a string value with escapes, decoded
};

}  // namespace slipway::outputs
