#include "filters/stix/stix_text.hpp"

#include <stdexcept>

#include <openssl/evp.h>

#include "engine/timestamp.hpp"

namespace slipway::stix {

namespace {

constexpr char kHexDigits[] = "0123456789abcdef";
constexpr std::size_t kUuidTextBytes = 36;
constexpr std::array<std::size_t, 4> kUuidDashes = {8, 13, 18, 23};

const EVP_MD* sha1() {
  // Fetched once: an implicit fetch per digest costs more than hashing a
  // short name.
  static EVP_MD* const algorithm = EVP_MD_fetch(nullptr, "SHA1", nullptr);
  return algorithm;
}

bool is_digit(char character) { return character >= '0' && character <= '9'; }

bool is_lower_hex(char character) { return is_digit(character) || (character >= 'a' && character <= 'f'); }

bool digits_at(std::string_view text, std::size_t at, std::size_t count) {
  if (at + count > text.size()) {
    return false;
  }
  for (std::size_t index = at; index < at + count; ++index) {
    if (!is_digit(text[index])) {
      return false;
    }
  }
  return true;
}

}  // namespace

UuidV5::UuidV5() : context_(EVP_MD_CTX_new()) {
  if (context_ == nullptr || sha1() == nullptr) {
    EVP_MD_CTX_free(context_);
    throw std::runtime_error("OpenSSL provides no SHA-1 digest; STIX ids cannot be derived");
  }
}

UuidV5::~UuidV5() { EVP_MD_CTX_free(context_); }

void UuidV5::append_id(std::string_view type, const UuidBytes& name_space, std::string_view name,
                       std::string& out) {
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int digest_size = 0;
  const bool hashed = EVP_DigestInit_ex2(context_, sha1(), nullptr) == 1 &&
                      EVP_DigestUpdate(context_, name_space.data(), name_space.size()) == 1 &&
                      EVP_DigestUpdate(context_, name.data(), name.size()) == 1 &&
                      EVP_DigestFinal_ex(context_, digest, &digest_size) == 1;
  if (!hashed) {
    // The digest was available at construction; failing now means OpenSSL
    // itself is broken, and an id that is not derived would break dedup.
    throw std::runtime_error("OpenSSL failed to compute a SHA-1 digest for a STIX id");
  }

  // RFC 9562, section 5.5: the first 16 bytes of the digest, with the
  // version in the high nibble of byte 6 and the variant in byte 8.
  digest[6] = static_cast<unsigned char>((digest[6] & 0x0F) | 0x50);
  digest[8] = static_cast<unsigned char>((digest[8] & 0x3F) | 0x80);

  out.append(type);
  out.append("--");
  for (std::size_t byte_idx = 0; byte_idx < 16; ++byte_idx) {
    if (byte_idx == 4 || byte_idx == 6 || byte_idx == 8 || byte_idx == 10) {
      out += '-';
    }
    out += kHexDigits[digest[byte_idx] >> 4];
    out += kHexDigits[digest[byte_idx] & 0x0F];
  }
}

std::string UuidV5::id(std::string_view type, const UuidBytes& name_space, std::string_view name) {
  std::string out;
  append_id(type, name_space, name, out);
  return out;
}

void append_timestamp(std::int64_t utc_micros, std::string& out) {
  // append_utc writes six fraction digits and a 'Z'; the last three digits go.
  timestamp::append_utc(utc_micros, out);
  out.erase(out.size() - 4, 3);
}

bool is_identifier(std::string_view text) {
  const std::size_t separator = text.find("--");
  if (separator == std::string_view::npos || separator == 0 || text.size() != separator + 2 + kUuidTextBytes) {
    return false;
  }
  for (std::size_t index = 0; index < separator; ++index) {
    const char character = text[index];
    if (!(character >= 'a' && character <= 'z') && !is_digit(character) && character != '-') {
      return false;
    }
  }
  const std::string_view uuid = text.substr(separator + 2);
  for (std::size_t index = 0; index < uuid.size(); ++index) {
    const bool dash_position = index == kUuidDashes[0] || index == kUuidDashes[1] || index == kUuidDashes[2] ||
                               index == kUuidDashes[3];
    if (dash_position ? uuid[index] != '-' : !is_lower_hex(uuid[index])) {
      return false;
    }
  }
  return true;
}

bool is_timestamp(std::string_view text, std::size_t min_fraction_digits) {
  // YYYY-MM-DDTHH:MM:SS[.fraction]Z
  const bool shape = digits_at(text, 0, 4) && text.size() > 19 && text[4] == '-' && digits_at(text, 5, 2) &&
                     text[7] == '-' && digits_at(text, 8, 2) && text[10] == 'T' && digits_at(text, 11, 2) &&
                     text[13] == ':' && digits_at(text, 14, 2) && text[16] == ':' && digits_at(text, 17, 2);
  if (!shape || text.back() != 'Z') {
    return false;
  }
  const std::size_t fraction_digits = text.size() == 20 ? 0 : text.size() - 21;
  if (fraction_digits > 0 && (text[19] != '.' || !digits_at(text, 20, fraction_digits))) {
    return false;
  }
  const timestamp::ParsedTime parsed = timestamp::parse(text, timestamp::TimeZone::utc());
  return parsed.ok() && fraction_digits >= min_fraction_digits;
}

void append_pattern_literal(std::string_view value, std::string& out) {
  out += '\'';
  for (const char character : value) {
    if (character == '\'' || character == '\\') {
      out += '\\';
    }
    out += character;
  }
  out += '\'';
}

}  // namespace slipway::stix
