// The Elasticsearch _bulk API as the elasticsearch output uses it: index
// names from a date template, the NDJSON body of action and source lines,
// and the per-item results of the response.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "engine/event.hpp"

namespace slipway::outputs::elasticsearch {

// An index name with date fields filled from the event time in UTC:
// %Y (year), %m (month), %d (day), %H (hour) and %% (a percent sign).
class IndexTemplate {
 public:
  // Returns what is wrong with `text` in `problem` when it is not a valid
  // template or cannot give a valid index name.
  static std::optional<IndexTemplate> parse(std::string_view text, std::string& problem);

  // Appends the index name for a time in UTC microseconds since the epoch.
  void append_name(std::int64_t utc_micros, std::string& out) const;

 private:
  enum class Part : char { Literal, Year, Month, Day, Hour };
  struct Piece {
    Part part = Part::Literal;
    std::string literal;
  };
  std::vector<Piece> pieces_;
};

enum class BulkAction { Index, Create };

struct BulkSettings {
  IndexTemplate index;
  BulkAction action = BulkAction::Index;
  std::string id_field = "ID";                 // top-level member giving _id; empty: Elasticsearch picks one
  std::vector<std::string> time_fields;        // top-level members tried in order for the event time
};

// Consecutive events [begin, end) of a batch, sent as one request.
struct BulkRange {
  std::size_t begin = 0;
  std::size_t end = 0;
  std::size_t size() const { return end - begin; }
};

// Appends the action line and the source line of one event, each ending
// in LF. Events without a usable time are indexed by `now_micros`.
void append_bulk_item(const Event& event, const BulkSettings& settings, std::int64_t now_micros, std::string& out);

// The outcome of one item of a _bulk response.
struct ItemResult {
  int status = 0;
  std::string error;  // "TYPE: REASON" from the item's error object; empty on success
};

// Reads the per-item results of a _bulk response body. Returns nothing
// when the body is not a _bulk response with `expected_items` items.
std::optional<std::vector<ItemResult>> parse_bulk_response(std::string_view body, std::size_t expected_items);

}  // namespace slipway::outputs::elasticsearch
