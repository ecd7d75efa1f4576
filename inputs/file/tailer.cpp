#include "inputs/file/tailer.hpp"

#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <utility>

#include <fmt/format.h>

namespace slipway::inputs::file {

namespace {

std::string suppressed_note(std::uint64_t suppressed) {
  return suppressed == 0 ? std::string() : fmt::format(" suppressed={}", suppressed);
}

}  // namespace

UniqueFd::~UniqueFd() {
  if (fd_ >= 0) {
    ::close(fd_);
  }
}

UniqueFd& UniqueFd::operator=(UniqueFd&& other) noexcept {
  if (this != &other) {
    if (fd_ >= 0) {
      ::close(fd_);
    }
    fd_ = other.release();
  }
  return *this;
}

int UniqueFd::release() { return std::exchange(fd_, -1); }

bool LogLimiter::allow(std::uint64_t& suppressed) {
  const Clock::time_point now = Clock::now();
  if (last_ && now - *last_ < kInterval) {
    ++suppressed_;
    return false;
  }
  last_ = now;
  suppressed = std::exchange(suppressed_, 0);
  return true;
}

void TailShared::publish_counters() {
  ComponentMetrics& metrics = context.metrics();
  metrics.received_events.fetch_add(std::exchange(received_events, 0), std::memory_order_relaxed);
  metrics.dropped_events.fetch_add(std::exchange(dropped_events, 0), std::memory_order_relaxed);
  metrics.repaired_events.fetch_add(std::exchange(repaired_events, 0), std::memory_order_relaxed);
}

Tailer::Tailer(TailShared& shared, FileId id, UniqueFd fd, std::string path, const FilePosition& start)
    : shared_(shared),
      id_(id),
      fd_(std::move(fd)),
      path_(std::make_shared<const std::string>(std::move(path))),
      identity_key_(inode_key(id)),
      reader_(shared.settings.max_line_bytes, start),
      emitted_offset_(start.offset),
      last_change_(Clock::now()) {
  shared_.identities.claim(identity_key_, this);
  batch_.events.reserve(shared_.settings.batch_max_events);
  if (shared_.settings.zeek) {
    zeek_ = std::make_unique<ZeekLogDecoder>(*shared_.settings.zeek);
    reset_zeek_header(start.offset);
  }
}

Tailer::~Tailer() { shared_.identities.release(identity_key_, this); }

bool Tailer::poll(Clock::time_point now, std::size_t max_bytes) {
  struct stat status {};
  if (::fstat(fd_.get(), &status) != 0) {
    report_read_error(errno);
    return false;
  }
  const auto size = static_cast<std::uint64_t>(status.st_size);
  links_ = status.st_nlink;
  if (size != size_) {
    size_ = size;
    last_change_ = now;
  }

  bool moved = false;
  if (size < reader_.read_offset()) {
    restart_after_truncation(now, size);
    moved = true;
  }
  if (!content_identity_ && size >= kFingerprintBytes) {
    try_content_identity(now);
  }
  if (!parked_key_.empty() || size_at_end_ == size) {
    return moved;
  }

  if (zeek_header_pending_) {
    if (const int error = zeek_->recover_header(fd_.get(), reader_.position().offset, shared_.settings.max_line_bytes);
        error != 0) {
      report_read_error(error);
      return moved;
    }
    zeek_header_pending_ = false;
  }

  const std::uint64_t before = reader_.read_offset();
  const ReadResult result = reader_.read(fd_.get(), size, shared_.buffer, *this, max_bytes);
  if (result.status == ReadStatus::Failed) {
    report_read_error(result.error);
  }
  size_at_end_ = result.status == ReadStatus::EndOfData ? std::optional(size) : std::nullopt;
  moved = moved || reader_.read_offset() != before;

  if (has_unflushed() && !pending_since_) {
    pending_since_ = now;
  }
  shared_.publish_counters();
  return moved;
}

void Tailer::flush(Clock::time_point now, bool force) {
  if (!has_unflushed()) {
    return;
  }
  if (!force && now < flush_deadline()) {
    return;
  }
  emit();
}

Clock::time_point Tailer::flush_deadline() const {
  if (!has_unflushed() || !pending_since_) {
    return Clock::time_point::max();
  }
  return *pending_since_ + shared_.settings.batch_timeout;
}

void Tailer::check_content(Clock::time_point now) {
  if (!content_identity_) {
    return;
  }
  struct stat status {};
  if (::fstat(fd_.get(), &status) != 0) {
    return;
  }
  const auto size = static_cast<std::uint64_t>(status.st_size);
  if (size >= kFingerprintBytes) {
    const auto fingerprint = read_prefix_hash(fd_.get(), kFingerprintBytes);
    // A failed read is not evidence of new content; the next scan retries.
    if (!fingerprint || fingerprint_key(*fingerprint) == identity_key_) {
      return;
    }
  }
  restart_after_truncation(now, size);
}

bool Tailer::has_unflushed() const { return !batch_.events.empty() || reader_.position().offset != emitted_offset_; }

void Tailer::emit() {
  FilePosition stored = reader_.position();
  if (!content_identity_) {
    stored.prefix_hash = read_prefix_hash(fd_.get(), std::min<std::uint64_t>(stored.offset, kFingerprintBytes));
  }
  batch_.acks.push_back(shared_.context.track(CheckpointEntry{identity_key_, format_position(stored)}));
  shared_.identities.record(identity_key_, stored);
  shared_.publish_counters();
  emitted_offset_ = stored.offset;
  pending_since_.reset();

  Batch full = std::exchange(batch_, Batch{});
  batch_.events.reserve(shared_.settings.batch_max_events);
  shared_.context.emit(std::move(full));
}

void Tailer::restart_after_truncation(Clock::time_point now, std::uint64_t size) {
  // What was read before the truncation is complete, so it goes out under
  // the old identity. The new content is a new file in the same inode.
  flush(now, true);
  shared_.context.log().info("File truncated; reading it again from the start. path={} offset={} size={}", *path_,
                             reader_.read_offset(), size);

  shared_.identities.release(identity_key_, this);
  identity_key_ = inode_key(id_);
  content_identity_ = false;
  parked_key_.clear();
  shared_.identities.claim(identity_key_, this);

  reader_.restart(FilePosition{});
  reset_zeek_header(0);
  emitted_offset_ = 0;
  size_at_end_.reset();
  pending_since_.reset();
}

void Tailer::try_content_identity(Clock::time_point now) {
  const auto fingerprint = read_prefix_hash(fd_.get(), kFingerprintBytes);
  if (!fingerprint) {
    return;
  }
  std::string key = fingerprint_key(*fingerprint);
  const FilePosition* known = shared_.identities.find(key);
  // A copy still being written is shorter than the content already read
  // from its original; wait until it has caught up before deciding.
  const bool copy_incomplete = known != nullptr && known->offset > size_;
  if (copy_incomplete || !shared_.identities.claim(key, this)) {
    if (parked_key_ != key) {
      shared_.context.log().debug(
          "Not reading file: another file with the same leading bytes is being read or was read further; it is "
          "likely a copy. path={} identity={}",
          *path_, key);
      parked_key_ = key;
    }
    return;
  }
  parked_key_.clear();

  if (known != nullptr && known->offset > reader_.read_offset()) {
    // The original of a copy, or this file under an earlier name, was read
    // up to `known`: continue from there so nothing is delivered twice.
    const FilePosition resume = *known;
    flush(now, true);
    shared_.identities.release(identity_key_, this);
    identity_key_ = std::move(key);
    content_identity_ = true;
    reader_.restart(resume);
    reset_zeek_header(resume.offset);
    emitted_offset_ = resume.offset;
    size_at_end_.reset();
    shared_.context.log().info("Resuming file after content already read under its identity. path={} offset={} "
                               "identity={}",
                               *path_, resume.offset, identity_key_);
    return;
  }

  shared_.identities.release(identity_key_, this);
  identity_key_ = std::move(key);
  content_identity_ = true;
}

void Tailer::report_read_error(int error) {
  shared_.context.metrics().errors.fetch_add(1, std::memory_order_relaxed);
  std::uint64_t suppressed = 0;
  if (shared_.read_error_log.allow(suppressed)) {
    shared_.context.log().error("Reading file failed; retrying at the next poll. path={} error=\"{}\"{}", *path_,
                                std::strerror(error), suppressed_note(suppressed));
  }
}

void Tailer::reset_zeek_header(std::uint64_t offset) {
  if (zeek_) {
    zeek_->reset();
    zeek_header_pending_ = offset > 0;
  }
}

void Tailer::on_record(const Record& record) {
  if (zeek_ && record.text.front() != '{') {
    on_zeek_record(record);
    return;
  }
  json::DecodedLine decoded = shared_.decoder.decode(record.text);
  if (decoded.kind == json::LineKind::Blank) {
    return;
  }
  ++shared_.received_events;

  EventOrigin origin{path_, record.line, record.offset};
  if (decoded.kind == json::LineKind::Rejected) {
    shared_.context.dead_letter(record.text, origin, decoded.reason);
    std::uint64_t suppressed = 0;
    if (shared_.rejected_log.allow(suppressed)) {
      shared_.context.log().warn("Line dead-lettered: not one valid JSON object. path={} line={} offset={} "
                                 "error=\"{}\"{}",
                                 *path_, record.line, record.offset, decoded.reason, suppressed_note(suppressed));
    }
    return;
  }

  Event& event = batch_.events.emplace_back();
  if (decoded.rewritten) {
    event.json = std::move(decoded.json);
    ++shared_.repaired_events;
  } else {
    event.json.assign(record.text);
  }
  event.origin = std::move(origin);
}

void Tailer::on_zeek_record(const Record& record) {
  Event& event = batch_.events.emplace_back();
  const ZeekLineKind kind = zeek_->decode(record.text, record.offset, event.json, zeek_reason_);
  if (kind == ZeekLineKind::Row) {
    ++shared_.received_events;
    event.origin = EventOrigin{path_, record.line, record.offset};
    return;
  }
  batch_.events.pop_back();
  if (kind == ZeekLineKind::Header) {
    return;
  }

  ++shared_.received_events;
  shared_.context.dead_letter(record.text, EventOrigin{path_, record.line, record.offset}, zeek_reason_);
  std::uint64_t suppressed = 0;
  if (shared_.rejected_zeek_log.allow(suppressed)) {
    shared_.context.log().warn("Line dead-lettered: not a Zeek log row matching its header. path={} line={} "
                               "offset={} error=\"{}\"{}",
                               *path_, record.line, record.offset, zeek_reason_, suppressed_note(suppressed));
  }
}

void Tailer::on_oversized(const OversizedLine& line) {
  ++shared_.received_events;
  ++shared_.dropped_events;
  const std::size_t limit = shared_.settings.max_line_bytes;
  const std::string reason =
      fmt::format("line of {} bytes is longer than max_line_bytes ({}); the dead letter keeps its first {} bytes",
                  line.length, limit, line.head.size());
  shared_.context.dead_letter(line.head, EventOrigin{path_, line.line, line.offset}, reason);

  std::uint64_t suppressed = 0;
  if (shared_.oversized_log.allow(suppressed)) {
    shared_.context.log().warn("Line dropped: longer than max_line_bytes. path={} offset={} line={} length={} "
                               "max_line_bytes={}{}",
                               *path_, line.offset, line.line, line.length, limit, suppressed_note(suppressed));
  }
}

void Tailer::on_line_end(const FilePosition& /*position*/) {
  if (batch_.events.size() >= shared_.settings.batch_max_events) {
    emit();
  }
}

}  // namespace slipway::inputs::file
