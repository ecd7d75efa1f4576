// Readers for each generation of Slips output. A reader fills an
// IdeaRecord from one parsed line and rejects it, with a reason, only when
// no valid IDEA0 record can come out of it (no ID, no usable DetectTime).
// Category, Source Type tags and the description suffix are settled
// afterwards, the same way for every generation.
#pragma once

#include <optional>

#include "filters/idea/dialect_support.hpp"
#include "filters/idea/idea_record.hpp"

namespace slipway::filters::idea {

// Which reader a line needs, from the members that only that generation
// has; nullopt when the line is no Slips record.
std::optional<InputFormat> detect_format(const Members& root);

// Slips 1.1.2 and later: alerts.json lines with "Status": "Event" (an
// evidence) or "Status": "Incident" (an alert).
bool read_idmef(const Members& root, ReadContext& context, IdeaRecord& record);

// Slips 1.1.1 and earlier: IDEA0 evidence lines with Slips' extra members,
// and the "Format": "Json" alert lines. Also any other IDEA0 record.
bool read_idea0(const Members& root, ReadContext& context, IdeaRecord& record);

// Evidence JSON of the Redis channels evidence_added and export_evidence.
bool read_redis_evidence(const Members& root, ReadContext& context, IdeaRecord& record);

// Alert JSON of the Redis channel new_alert.
bool read_redis_alert(const Members& root, ReadContext& context, IdeaRecord& record);

}  // namespace slipway::filters::idea
