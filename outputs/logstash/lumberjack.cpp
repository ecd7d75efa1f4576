#include "outputs/logstash/lumberjack.hpp"

#include <stdexcept>

#include <zlib.h>

namespace slipway::outputs::logstash::lumberjack {

void append_u32(std::uint32_t value, std::string& out) {
  out.push_back(static_cast<char>((value >> 24) & 0xff));
  out.push_back(static_cast<char>((value >> 16) & 0xff));
  out.push_back(static_cast<char>((value >> 8) & 0xff));
  out.push_back(static_cast<char>(value & 0xff));
}

std::uint32_t read_u32(const char* bytes) {
  const auto* unsigned_bytes = reinterpret_cast<const unsigned char*>(bytes);
  return (std::uint32_t{unsigned_bytes[0]} << 24) | (std::uint32_t{unsigned_bytes[1]} << 16) |
         (std::uint32_t{unsigned_bytes[2]} << 8) | std::uint32_t{unsigned_bytes[3]};
}

void append_window(std::uint32_t count, std::string& out) {
  out.push_back(kVersion);
  out.push_back(kWindowType);
  append_u32(count, out);
}

void append_json(std::uint32_t sequence, std::string_view json, std::string& out) {
  out.push_back(kVersion);
  out.push_back(kJsonType);
  append_u32(sequence, out);
  append_u32(static_cast<std::uint32_t>(json.size()), out);
  out.append(json);
}

std::optional<std::uint32_t> parse_ack(const char* frame) {
  if (frame[0] != kVersion || frame[1] != kAckType) {
    return std::nullopt;
  }
  return read_u32(frame + 2);
}

struct FrameCompressor::State {
  z_stream stream{};
};

FrameCompressor::FrameCompressor(int level) : state_(std::make_unique<State>()) {
  if (deflateInit(&state_->stream, level) != Z_OK) {
    throw std::runtime_error("zlib deflateInit failed");
  }
}

FrameCompressor::~FrameCompressor() { deflateEnd(&state_->stream); }

void FrameCompressor::append_compressed(std::string_view frames, std::string& out) {
  z_stream& stream = state_->stream;
  deflateReset(&stream);

  const std::size_t header_at = out.size();
  out.push_back(kVersion);
  out.push_back(kCompressedType);
  append_u32(0, out);  // the length, written once known
  const std::size_t payload_at = out.size();
  out.resize(payload_at + deflateBound(&stream, static_cast<uLong>(frames.size())));

  stream.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(frames.data()));
  stream.avail_in = static_cast<uInt>(frames.size());
  stream.next_out = reinterpret_cast<Bytef*>(out.data() + payload_at);
  stream.avail_out = static_cast<uInt>(out.size() - payload_at);
  // deflateBound() leaves room for the whole stream, so one call finishes it.
  if (deflate(&stream, Z_FINISH) != Z_STREAM_END) {
    throw std::runtime_error("zlib deflate did not finish within deflateBound");
  }
  const std::size_t payload_bytes = stream.total_out;
  out.resize(payload_at + payload_bytes);

  std::string length;
  append_u32(static_cast<std::uint32_t>(payload_bytes), length);
  out.replace(header_at + 2, 4, length);
}

std::optional<std::string> inflate_payload(std::string_view payload, std::size_t max_bytes) {
  z_stream stream{};
  if (inflateInit(&stream) != Z_OK) {
    return std::nullopt;
  }
  std::string inflated;
  stream.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(payload.data()));
  stream.avail_in = static_cast<uInt>(payload.size());
  constexpr std::size_t kChunkBytes = 256 * 1024;
  int status = Z_OK;
  while (status == Z_OK) {
    const std::size_t used = inflated.size();
    inflated.resize(used + kChunkBytes);
    stream.next_out = reinterpret_cast<Bytef*>(inflated.data() + used);
    stream.avail_out = static_cast<uInt>(kChunkBytes);
    status = inflate(&stream, Z_NO_FLUSH);
    inflated.resize(used + kChunkBytes - stream.avail_out);
    if (inflated.size() > max_bytes) {
      status = Z_DATA_ERROR;
    }
    if (status == Z_BUF_ERROR && stream.avail_in == 0) {
      status = Z_DATA_ERROR;  // the stream ended before its end marker
    }
  }
  inflateEnd(&stream);
  if (status != Z_STREAM_END) {
    return std::nullopt;
  }
  return inflated;
}

}  // namespace slipway::outputs::logstash::lumberjack
