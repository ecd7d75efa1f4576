#include "filters/idea/dialects.hpp"

namespace slipway::filters::idea {

std::optional<InputFormat> detect_format(const Members& root) {
  if (member(root, "Format")) {
    return InputFormat::Idea0;
  }
  if (member(root, "Status") && member(root, "Version")) {
    return InputFormat::Idmef;
  }
  if (member(root, "evidence_type") && member(root, "attacker")) {
    return InputFormat::RedisEvidence;
  }
  if (member(root, "correl_id") && member(root, "profile")) {
    return InputFormat::RedisAlert;
  }
  return std::nullopt;
}

}  // namespace slipway::filters::idea
