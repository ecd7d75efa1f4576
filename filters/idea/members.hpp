// Name lookup over the members of one parsed JSON object. simdjson's
// at_key compares the name with every member in turn, and a reader asks
// for some thirty names per line, most of them absent from it. Indexing
// the members once by a hash of their names makes each lookup one or two
// compares.
#pragma once

#include <array>
#include <memory>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string_view>

#include <simdjson.h>

namespace slipway::filters::idea {

namespace dom = simdjson::dom;

class Members {
 public:
  explicit Members(const dom::object& object);

  // The value of member `key`; nothing when it is missing or null. Inline,
  // so the hash of a literal name is computed at compile time.
  std::optional<dom::element> find(std::string_view key) const {
    const std::uint64_t hash = hash_of(key);
    for (std::size_t slot = hash & (kSlots - 1); slots_[slot] != 0; slot = (slot + 1) & (kSlots - 1)) {
      const Entry& entry = entries_.items[slots_[slot] - 1];
      if (entry.hash == hash && entry.key == key) {
        return entry.value.is_null() ? std::nullopt : std::optional(entry.value);
      }
    }
    return complete_ ? std::nullopt : find_unindexed(key);
  }

  const dom::object& object() const { return object_; }

 private:
  // Slips objects have at most about twenty members; names beyond this
  // many are found by simdjson's scan instead.
  static constexpr std::size_t kMaxIndexed = 24;
  static constexpr std::size_t kSlots = 64;  // a power of two, well above kMaxIndexed for short probes

  struct Entry {
    std::string_view key;
    std::uint64_t hash;  // hash_of(key), compared before the name
    dom::element value;
  };
  // Entries are written before they are read, so the array is left
  // uninitialized: a Members is built for every object a reader visits.
  union Entries {
    Entries() {}
    Entry items[kMaxIndexed];
  };

  // Mixes the length, the first eight bytes and the last byte: cheap, and
  // enough to tell apart the member names of Slips objects.
  static constexpr std::uint64_t hash_of(std::string_view key) {
    constexpr std::uint64_t kMultiplier = 0x9E3779B97F4A7C15ULL;
    std::uint64_t head = 0;
    for (std::size_t index = 0; index < key.size() && index < sizeof(head); ++index) {
      head |= static_cast<std::uint64_t>(static_cast<unsigned char>(key[index])) << (8 * index);
    }
    const std::uint64_t last = key.empty() ? 0 : static_cast<unsigned char>(key.back());
    return ((head ^ (last << 56) ^ key.size()) * kMultiplier) >> 32;
  }

  // Looks `key` up among the members beyond kMaxIndexed.
  std::optional<dom::element> find_unindexed(std::string_view key) const;

  dom::object object_;
  Entries entries_;
  std::array<std::uint8_t, kSlots> slots_{};  // index into entries_ plus one; 0 marks a free slot
  std::size_t count_ = 0;
  bool complete_ = true;  // false when some members did not fit in entries_
};

}  // namespace slipway::filters::idea
