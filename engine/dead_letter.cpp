#include "engine/dead_letter.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>

#include <fmt/chrono.h>
#include <fmt/format.h>

#include "engine/json.hpp"

namespace slipway {

namespace {

constexpr mode_t kDeadLetterFileMode = 0640;

std::string utc_now_rfc3339() {
  const auto now = std::chrono::floor<std::chrono::microseconds>(std::chrono::system_clock::now());
  return fmt::format("{:%Y-%m-%dT%H:%M:%S}Z", now);
}

bool write_all(int fd, std::string_view data) {
  while (!data.empty()) {
    const ssize_t written = ::write(fd, data.data(), data.size());
    if (written < 0) {
      if (errno == EINTR) {
        continue;
      }
      return false;
    }
    data.remove_prefix(static_cast<std::size_t>(written));
  }
  return true;
}

}  // namespace

std::filesystem::path output_dead_letter_path(const std::filesystem::path& data_dir, std::string_view output_id) {
  return data_dir / "dead_letter" / (std::string(output_id) + ".json");
}

DeadLetterQueue::~DeadLetterQueue() {
  if (fd_ >= 0) {
    ::close(fd_);
  }
}

bool DeadLetterQueue::open_locked() {
  if (fd_ >= 0) {
    return true;
  }
  std::error_code ignored;
  std::filesystem::create_directories(path_.parent_path(), ignored);
  fd_ = ::open(path_.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, kDeadLetterFileMode);
  return fd_ >= 0;
}

bool DeadLetterQueue::write(const DeadLetter& letter) {
  const bool truncated = !letter.raw_is_event && letter.raw.size() > kMaxRawBytes;
  const std::string_view raw = truncated ? letter.raw.substr(0, kMaxRawBytes) : letter.raw;

  std::string line;
  line.reserve(raw.size() + 256);
  line += "{\"time\":";
  json::append_quoted(utc_now_rfc3339(), line);
  line += ",\"component_kind\":";
  json::append_quoted(letter.component_kind, line);
  line += ",\"component_id\":";
  json::append_quoted(letter.component_id, line);
  line += ",\"component_type\":";
  json::append_quoted(letter.component_type, line);
  line += ",\"reason\":";
  json::append_quoted(letter.reason, line);
  if (letter.origin != nullptr && letter.origin->source) {
    line += ",\"source\":";
    json::append_quoted(*letter.origin->source, line);
    fmt::format_to(std::back_inserter(line), ",\"line\":{},\"offset\":{}", letter.origin->line,
                   letter.origin->offset);
  }
  if (letter.attempts > 0) {
    fmt::format_to(std::back_inserter(line), ",\"attempts\":{}", letter.attempts);
  }
  if (letter.raw_is_event) {
    line += ",\"event\":";
    line += raw;
  } else {
    line += ",\"raw\":";
    json::append_quoted(raw, line);
  }
  if (truncated) {
    fmt::format_to(std::back_inserter(line), ",\"raw_truncated\":true,\"raw_bytes\":{}", letter.raw.size());
  }
  line += "}\n";

  std::lock_guard lock(mutex_);
  if (!open_locked() || !write_all(fd_, line)) {
    return false;
  }
  ++written_;
  return true;
}

std::uint64_t DeadLetterQueue::written() const {
  std::lock_guard lock(mutex_);
  return written_;
}

}  // namespace slipway
