// Serialization of an IdeaRecord as one canonical IDEA0 JSON object. Keys
// come in a fixed order, times as UTC RFC 3339 with six fraction digits and
// protocols in lower case. Empty lists and objects are left out.
#pragma once

#include <string>
#include <string_view>

#include "filters/idea/idea_record.hpp"

namespace slipway::filters::idea {

// Name of the member holding Slips data IDEA0 has no key for. The schema
// allows members it does not define. The underscore marks this one as
// private to its producer, so it cannot clash with a future IDEA key.
inline constexpr std::string_view kExtensionMember = "_Slips";

struct WriterOptions {
  // Written as Node[0].Name, ahead of any Node the input had; empty adds no Node.
  std::string_view node_name;
};

// Appends the record to `out`. The caller has checked the ID and set
// DetectTime and at least one Category.
void write_idea(const IdeaRecord& record, const WriterOptions& options, std::string& out);

}  // namespace slipway::filters::idea
