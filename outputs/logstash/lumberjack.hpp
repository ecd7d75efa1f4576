// Lumberjack version 2, the framing Filebeat speaks to Logstash's beats
// input. Every frame starts with the version byte '2' and a type byte;
// integers are unsigned 32-bit big-endian. A client sends a window frame
// ('W', the event count) and then that many events as JSON frames ('J',
// sequence number, length, object), optionally packed into compressed
// frames ('C', length, zlib stream of J frames). The server replies with
// ACK frames ('A', sequence number).
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

namespace slipway::outputs::logstash::lumberjack {

constexpr char kVersion = '2';
constexpr char kWindowType = 'W';
constexpr char kJsonType = 'J';
constexpr char kCompressedType = 'C';
constexpr char kAckType = 'A';

constexpr std::size_t kWindowFrameBytes = 6;
constexpr std::size_t kJsonHeaderBytes = 10;
constexpr std::size_t kCompressedHeaderBytes = 6;
constexpr std::size_t kAckFrameBytes = 6;

void append_u32(std::uint32_t value, std::string& out);
std::uint32_t read_u32(const char* bytes);

// Appends a window frame announcing `count` events.
void append_window(std::uint32_t count, std::string& out);
// Appends a JSON data frame; `json` must be one JSON object.
void append_json(std::uint32_t sequence, std::string_view json, std::string& out);

// The sequence number of an ACK frame, or nothing when the six bytes are
// not one (wrong version or type).
std::optional<std::uint32_t> parse_ack(const char* frame);

// Packs JSON frames into one compressed frame (zlib, RFC 1950). Keeps its
// zlib state between windows, which saves an allocation per window.
class FrameCompressor {
 public:
  // `level` is zlib's, 1 (fastest) to 9 (smallest).
  explicit FrameCompressor(int level);
  ~FrameCompressor();
  FrameCompressor(const FrameCompressor&) = delete;
  FrameCompressor& operator=(const FrameCompressor&) = delete;

  // Appends a 'C' frame holding `frames` compressed.
  void append_compressed(std::string_view frames, std::string& out);

 private:
  struct State;
  std::unique_ptr<State> state_;
};

// Inflates the payload of a compressed frame; nothing when it is not a
// valid zlib stream or inflates to more than `max_bytes`.
std::optional<std::string> inflate_payload(std::string_view payload, std::size_t max_bytes);

}  // namespace slipway::outputs::logstash::lumberjack
