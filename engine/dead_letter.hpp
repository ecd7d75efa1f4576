// The pipeline's dead-letter file: records that a component could not
// process, written as JSON lines with their origin and the reason, so no
// accepted input disappears without a trace.
#pragma once

#include <cstdint>
#include <filesystem>
#include <mutex>
#include <string>
#include <string_view>

#include "engine/event.hpp"

namespace slipway {

struct DeadLetter {
  std::string_view component_kind;
  std::string_view component_id;
  std::string_view component_type;
  std::string_view reason;
  std::string_view raw;  // the record as received; cut to kMaxRawBytes
  const EventOrigin* origin = nullptr;
  // True when `raw` is an event's JSON object: it is then stored as the
  // member "event", whole, so `slipway dlq replay` can send it again.
  bool raw_is_event = false;
  std::uint32_t attempts = 0;  // delivery attempts made, for outputs
};

// The dead-letter file of one output: data_dir/dead_letter/<output id>.json.
std::filesystem::path output_dead_letter_path(const std::filesystem::path& data_dir, std::string_view output_id);

class DeadLetterQueue {
 public:
  // Raw text beyond this many bytes is cut and the entry marked truncated,
  // so one huge bad line cannot fill the disk.
  static constexpr std::size_t kMaxRawBytes = 64 * 1024;

  // Opens lazily: a pipeline that never dead-letters creates no file.
  explicit DeadLetterQueue(std::filesystem::path path) : path_(std::move(path)) {}
  ~DeadLetterQueue();
  DeadLetterQueue(const DeadLetterQueue&) = delete;
  DeadLetterQueue& operator=(const DeadLetterQueue&) = delete;

  // Appends one entry; thread-safe. Returns false when the file cannot be
  // written (the caller logs and counts it).
  bool write(const DeadLetter& letter);

  const std::filesystem::path& path() const { return path_; }
  std::uint64_t written() const;

 private:
  bool open_locked();

  std::filesystem::path path_;
  mutable std::mutex mutex_;
  int fd_ = -1;
  std::uint64_t written_ = 0;
};

}  // namespace slipway
