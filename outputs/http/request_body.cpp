#include "outputs/http/request_body.hpp"

#include <array>
#include <cstdint>
#include <stdexcept>

#include <openssl/evp.h>
#include <zlib.h>

namespace slipway::outputs::http {

namespace {

constexpr std::size_t kNotFound = std::string_view::npos;
constexpr std::size_t kKeyBytes = 16;  // 128 bits: collisions are out of reach for any event volume
// windowBits 15 plus 16 makes zlib write a gzip header and trailer.
constexpr int kGzipWindowBits = 15 + 16;
constexpr int kZlibMemoryLevel = 8;

bool is_space(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; }

std::size_t skip_space(std::string_view text, std::size_t pos) {
  while (pos < text.size() && is_space(text[pos])) {
    ++pos;
  }
  return pos;
}

// Position after the closing quote of the string whose opening quote is at `pos`.
std::size_t skip_string(std::string_view text, std::size_t pos) {
  for (++pos; pos < text.size(); ++pos) {
    if (text[pos] == '\\') {
      ++pos;
    } else if (text[pos] == '"') {
      return pos + 1;
    }
  }
  return kNotFound;
}

// Position after the value starting at `pos`; values are skipped, not validated.
std::size_t skip_value(std::string_view text, std::size_t pos) {
  if (pos >= text.size()) {
    return kNotFound;
  }
  if (text[pos] == '"') {
    return skip_string(text, pos);
  }
  if (text[pos] == '{' || text[pos] == '[') {
    std::size_t depth = 0;
    while (pos < text.size()) {
      const char c = text[pos];
      if (c == '"') {
        pos = skip_string(text, pos);
        if (pos == kNotFound) {
          return kNotFound;
        }
        continue;
      }
      if (c == '{' || c == '[') {
        ++depth;
      } else if ((c == '}' || c == ']') && --depth == 0) {
        return pos + 1;
      }
      ++pos;
    }
    return kNotFound;
  }
  while (pos < text.size() && text[pos] != ',' && text[pos] != '}' && text[pos] != ']' && !is_space(text[pos])) {
    ++pos;
  }
  return pos;
}

// Bytes `event` adds to a body: its text and a line feed, or its text and
// a comma or bracket.
std::size_t encoded_size(const Event& event) { return event.json.size() + 1; }

void hash_bytes(EVP_MD_CTX* context, std::string_view bytes) {
  // A length prefix keeps ("ab","c") and ("a","bc") apart.
  const std::uint64_t length = bytes.size();
  EVP_DigestUpdate(context, &length, sizeof length);
  EVP_DigestUpdate(context, bytes.data(), bytes.size());
}

}  // namespace

std::vector<EventRange> split_into_requests(const std::vector<Event>& events, Codec codec, std::size_t max_events,
                                            std::size_t max_bytes, const std::vector<bool>& alone) {
  // A JSON array body has one byte for its brackets beyond one per event.
  const std::size_t fixed_bytes = codec == Codec::JsonArray ? 1 : 0;
  std::vector<EventRange> ranges;
  EventRange current;
  std::size_t current_bytes = fixed_bytes;

  for (std::size_t index = 0; index < events.size(); ++index) {
    const std::size_t bytes = encoded_size(events[index]);
    const bool single = !alone.empty() && alone[index];
    const bool full = current.size() >= max_events || current_bytes + bytes > max_bytes;
    if (current.size() > 0 && (single || full)) {
      ranges.push_back(current);
      current = EventRange{index, index};
      current_bytes = fixed_bytes;
    }
    current.end = index + 1;
    current_bytes += bytes;
    if (single) {
      ranges.push_back(current);
      current = EventRange{index + 1, index + 1};
      current_bytes = fixed_bytes;
    }
  }
  if (current.size() > 0) {
    ranges.push_back(current);
  }
  return ranges;
}

void encode_body(const std::vector<Event>& events, EventRange range, Codec codec, std::string& out) {
  std::size_t total = 1;
  for (std::size_t index = range.begin; index < range.end; ++index) {
    total += encoded_size(events[index]);
  }
  out.reserve(out.size() + total);

  if (codec == Codec::JsonLines) {
    for (std::size_t index = range.begin; index < range.end; ++index) {
      out += events[index].json;
      out += '\n';
    }
    return;
  }
  out += '[';
  for (std::size_t index = range.begin; index < range.end; ++index) {
    if (index > range.begin) {
      out += ',';
    }
    out += events[index].json;
  }
  out += ']';
}

std::optional<std::string_view> find_event_id(std::string_view object_text) {
  std::size_t pos = skip_space(object_text, 0);
  if (pos >= object_text.size() || object_text[pos] != '{') {
    return std::nullopt;
  }
  ++pos;
  while (true) {
    pos = skip_space(object_text, pos);
    if (pos >= object_text.size() || object_text[pos] != '"') {
      return std::nullopt;
    }
    const std::size_t key_end = skip_string(object_text, pos);
    if (key_end == kNotFound) {
      return std::nullopt;
    }
    const std::string_view key = object_text.substr(pos + 1, key_end - pos - 2);
    pos = skip_space(object_text, key_end);
    if (pos >= object_text.size() || object_text[pos] != ':') {
      return std::nullopt;
    }
    pos = skip_space(object_text, pos + 1);

    if (key == "ID") {
      if (pos >= object_text.size() || object_text[pos] != '"') {
        return std::nullopt;
      }
      const std::size_t value_end = skip_string(object_text, pos);
      if (value_end == kNotFound) {
        return std::nullopt;
      }
      return object_text.substr(pos + 1, value_end - pos - 2);
    }

    pos = skip_value(object_text, pos);
    if (pos == kNotFound) {
      return std::nullopt;
    }
    pos = skip_space(object_text, pos);
    if (pos >= object_text.size() || object_text[pos] != ',') {
      return std::nullopt;
    }
    ++pos;
  }
}

std::string idempotency_key(const std::vector<Event>& events, EventRange range) {
  std::unique_ptr<EVP_MD_CTX, decltype(&EVP_MD_CTX_free)> context(EVP_MD_CTX_new(), &EVP_MD_CTX_free);
  if (!context || EVP_DigestInit_ex(context.get(), EVP_sha256(), nullptr) != 1) {
    throw std::runtime_error("initializing SHA-256 failed");
  }
  for (std::size_t index = range.begin; index < range.end; ++index) {
    const std::optional<std::string_view> id = find_event_id(events[index].json);
    // The tag keeps an ID apart from an event text that happens to equal it.
    const char tag = id ? 'i' : 't';
    EVP_DigestUpdate(context.get(), &tag, 1);
    hash_bytes(context.get(), id ? *id : std::string_view(events[index].json));
  }
  std::array<unsigned char, EVP_MAX_MD_SIZE> digest{};
  unsigned int digest_size = 0;
  EVP_DigestFinal_ex(context.get(), digest.data(), &digest_size);

  constexpr char kHexDigits[] = "0123456789abcdef";
  std::string key;
  key.reserve(kKeyBytes * 2);
  for (std::size_t index = 0; index < kKeyBytes; ++index) {
    key += kHexDigits[digest[index] >> 4];
    key += kHexDigits[digest[index] & 0x0f];
  }
  return key;
}

struct GzipEncoder::State {
  z_stream stream{};
};

GzipEncoder::GzipEncoder() : state_(std::make_unique<State>()) {
  if (deflateInit2(&state_->stream, Z_BEST_SPEED, Z_DEFLATED, kGzipWindowBits, kZlibMemoryLevel,
                   Z_DEFAULT_STRATEGY) != Z_OK) {
    throw std::runtime_error("initializing zlib failed");
  }
}

GzipEncoder::~GzipEncoder() { deflateEnd(&state_->stream); }

void GzipEncoder::compress(std::string_view input, std::string& out) {
  z_stream& stream = state_->stream;
  deflateReset(&stream);
  out.resize(deflateBound(&stream, static_cast<uLong>(input.size())));
  stream.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(input.data()));
  stream.avail_in = static_cast<uInt>(input.size());
  stream.next_out = reinterpret_cast<Bytef*>(out.data());
  stream.avail_out = static_cast<uInt>(out.size());
  // deflateBound() guarantees room for the whole stream in one call.
  if (deflate(&stream, Z_FINISH) != Z_STREAM_END) {
    throw std::runtime_error("gzip compression failed");
  }
  out.resize(stream.total_out);
}

}  // namespace slipway::outputs::http
