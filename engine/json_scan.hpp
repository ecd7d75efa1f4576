// The byte search that JSON string parsing and writing share. It is
// internal to the JSON layer and not part of its interface.
#pragma once

#include <bit>
#include <cstddef>
#include <cstdint>
#include <cstring>

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

namespace slipway::json::detail {

// Returns the position of the first byte at or after `from` that is a
// quote, a backslash, a control character or a non-ASCII byte, or `size`
// when there is none. Plain runs inside alert strings are long, so the
// search tests sixteen bytes per step where SSE2 is available, then eight.
// In each eight-byte word the lowest flagged byte is always a true match,
// and on little-endian machines it is also the first one in memory.
[[gnu::always_inline]] inline std::size_t find_string_special(const char* data, std::size_t from, std::size_t size) {
#if defined(__SSE2__)
  const __m128i quote = _mm_set1_epi8('"');
  const __m128i backslash = _mm_set1_epi8('\\');
  // A signed comparison with 0x20 flags control characters and, as
  // negative numbers, every byte from 0x80 up.
  const __m128i space = _mm_set1_epi8(0x20);
  while (from + sizeof(__m128i) <= size) {
    const __m128i chunk = _mm_loadu_si128(reinterpret_cast<const __m128i*>(data + from));
    const __m128i flags = _mm_or_si128(_mm_or_si128(_mm_cmpeq_epi8(chunk, quote), _mm_cmpeq_epi8(chunk, backslash)),
                                       _mm_cmplt_epi8(chunk, space));
    const auto matches = static_cast<unsigned>(_mm_movemask_epi8(flags));
    if (matches != 0) {
      return from + static_cast<std::size_t>(std::countr_zero(matches));
    }
    from += sizeof(__m128i);
  }
#endif
  if constexpr (std::endian::native == std::endian::little) {
    constexpr std::uint64_t kOnes = 0x0101010101010101ULL;
    constexpr std::uint64_t kHighBits = kOnes * 0x80;
    while (from + sizeof(std::uint64_t) <= size) {
      std::uint64_t word = 0;
      std::memcpy(&word, data + from, sizeof word);
      const std::uint64_t quote_bytes = word ^ (kOnes * '"');
      const std::uint64_t backslash_bytes = word ^ (kOnes * '\\');
      const std::uint64_t flags = ((quote_bytes - kOnes) & ~quote_bytes) |
                                  ((backslash_bytes - kOnes) & ~backslash_bytes) | ((word - kOnes * 0x20) & ~word) |
                                  word;
      const std::uint64_t matches = flags & kHighBits;
      if (matches != 0) {
        return from + static_cast<std::size_t>(std::countr_zero(matches)) / 8;
      }
      from += sizeof(std::uint64_t);
    }
  }
  for (; from < size; ++from) {
    const auto byte = static_cast<unsigned char>(data[from]);
    if (byte == '"' || byte == '\\' || byte < 0x20 || byte >= 0x80) {
      return from;
    }
  }
  return size;
}

}  // namespace slipway::json::detail
