#include "filters/idea/members.hpp"

namespace slipway::filters::idea {

Members::Members(const dom::object& object) : object_(object) {
  for (const dom::key_value_pair field : object) {
    if (count_ == kMaxIndexed) {
      complete_ = false;
      return;
    }
    const std::uint64_t hash = hash_of(field.key);
    std::construct_at(&entries_.items[count_], Entry{field.key, hash, field.value});
    ++count_;
    std::size_t slot = hash & (kSlots - 1);
    while (slots_[slot] != 0) {
      slot = (slot + 1) & (kSlots - 1);
    }
    slots_[slot] = static_cast<std::uint8_t>(count_);
  }
}

std::optional<dom::element> Members::find_unindexed(std::string_view key) const {
  dom::element value;
  if (object_.at_key(key).get(value) != simdjson::SUCCESS || value.is_null()) {
    return std::nullopt;
  }
  return value;
}

}  // namespace slipway::filters::idea
