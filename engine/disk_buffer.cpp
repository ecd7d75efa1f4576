#include "engine/disk_buffer.hpp"

#include <fcntl.h>
#include <unistd.h>
#include <zlib.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <optional>
#include <stdexcept>

#include <fmt/format.h>

namespace slipway {

namespace {

// Segment file layout: an 8-byte magic, then records. A record is
//   u32 payload length | u32 CRC-32 of the length bytes and the payload | payload
// and a payload is
//   u64 origin line | u64 origin offset | u32 source length | source | event JSON
// with every integer little-endian.
constexpr char kSegmentMagic[] = "SLPWBUF1";
constexpr std::size_t kSegmentHeaderBytes = 8;
constexpr std::size_t kRecordHeaderBytes = 8;
constexpr std::size_t kPayloadFixedBytes = 20;
// A length above this cannot come from an event (inputs cut lines far
// shorter), so it marks a damaged record rather than a huge one.
constexpr std::uint32_t kMaxRecordBytes = 256 * 1024 * 1024;
// Bytes the reader reads from a segment at once.
constexpr std::size_t kReadChunkBytes = 1024 * 1024;

// The read pointer file contains two slots written in turn. Each slot is
//   u64 generation | u64 segment id | u64 offset | u32 CRC-32 of the 24 bytes before | u32 zero
constexpr std::size_t kPointerSlotBytes = 32;
constexpr const char* kPointerFileName = "read_pointer";
constexpr const char* kSegmentSuffix = ".seg";
constexpr std::size_t kSegmentNameDigits = 16;
constexpr mode_t kFileMode = 0640;

void put_u32(std::string& out, std::uint32_t value) {
  for (int shift = 0; shift < 32; shift += 8) {
    out.push_back(static_cast<char>((value >> shift) & 0xff));
  }
}

void put_u64(std::string& out, std::uint64_t value) {
  for (int shift = 0; shift < 64; shift += 8) {
    out.push_back(static_cast<char>((value >> shift) & 0xff));
  }
}

std::uint32_t get_u32(const char* data) {
  std::uint32_t value = 0;
  for (int index = 3; index >= 0; --index) {
    value = (value << 8) | static_cast<unsigned char>(data[index]);
  }
  return value;
}

std::uint64_t get_u64(const char* data) {
  std::uint64_t value = 0;
  for (int index = 7; index >= 0; --index) {
    value = (value << 8) | static_cast<unsigned char>(data[index]);
  }
  return value;
}

std::uint32_t checksum(const char* data, std::size_t size, std::uint32_t seed = 0) {
  return static_cast<std::uint32_t>(
      crc32(seed, reinterpret_cast<const Bytef*>(data), static_cast<uInt>(size)));
}

std::uint32_t record_checksum(const char* length_bytes, const char* payload, std::size_t payload_size) {
  return checksum(payload, payload_size, checksum(length_bytes, 4));
}

std::string system_error(std::string_view action, const std::filesystem::path& path) {
  return fmt::format("{} {} failed: {}", action, path.string(), std::strerror(errno));
}

bool write_all(int fd, const char* data, std::size_t size) {
  while (size > 0) {
    const ssize_t written = ::write(fd, data, size);
    if (written < 0) {
      if (errno == EINTR) {
        continue;
      }
      return false;
    }
    data += written;
    size -= static_cast<std::size_t>(written);
  }
  return true;
}

// Reads exactly `size` bytes at `offset`; false at end of file or on error.
bool read_exact(int fd, char* data, std::size_t size, std::uint64_t offset) {
  while (size > 0) {
    const ssize_t got = ::pread(fd, data, size, static_cast<off_t>(offset));
    if (got < 0 && errno == EINTR) {
      continue;
    }
    if (got <= 0) {
      return false;
    }
    data += got;
    size -= static_cast<std::size_t>(got);
    offset += static_cast<std::uint64_t>(got);
  }
  return true;
}

void sync_directory(const std::filesystem::path& directory) {
  const int fd = ::open(directory.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd >= 0) {
    ::fsync(fd);
    ::close(fd);
  }
}

std::optional<std::uint64_t> segment_id_of(const std::filesystem::path& path) {
  const std::string name = path.filename().string();
  if (name.size() != kSegmentNameDigits + std::strlen(kSegmentSuffix) || !name.ends_with(kSegmentSuffix)) {
    return std::nullopt;
  }
  std::uint64_t id = 0;
  for (std::size_t index = 0; index < kSegmentNameDigits; ++index) {
    if (name[index] < '0' || name[index] > '9') {
      return std::nullopt;
    }
    id = id * 10 + static_cast<std::uint64_t>(name[index] - '0');
  }
  return id;
}

}  // namespace

std::size_t DiskBuffer::record_bytes(const Event& event) {
  const std::size_t source_bytes = event.origin.source ? event.origin.source->size() : 0;
  return kRecordHeaderBytes + kPayloadFixedBytes + source_bytes + event.json.size();
}

DiskBuffer::DiskBuffer(std::filesystem::path directory, DiskBufferOptions options, spdlog::logger& log)
    : directory_(std::move(directory)), options_(options), log_(log) {
  std::error_code error;
  std::filesystem::create_directories(directory_, error);
  if (error) {
    throw std::runtime_error(fmt::format("cannot create the buffer directory {}: {}; check data_dir and its permissions",
                                         directory_.string(), error.message()));
  }
  const std::filesystem::path pointer_path = directory_ / kPointerFileName;
  pointer_fd_ = ::open(pointer_path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, kFileMode);
  if (pointer_fd_ < 0) {
    throw std::runtime_error(system_error("opening", pointer_path));
  }
  recover();
  open_writer();
}

DiskBuffer::~DiskBuffer() {
  if (write_fd_ >= 0) {
    if (unsynced_ && options_.fsync) {
      ::fdatasync(write_fd_);
    }
    ::close(write_fd_);
  }
  if (read_fd_ >= 0) {
    ::close(read_fd_);
  }
  if (pointer_fd_ >= 0) {
    ::close(pointer_fd_);
  }
}

std::filesystem::path DiskBuffer::segment_path(std::uint64_t id) const {
  return directory_ / fmt::format("{:0{}d}{}", id, kSegmentNameDigits, kSegmentSuffix);
}

void DiskBuffer::recover() {
  std::vector<std::uint64_t> ids;
  for (const auto& entry : std::filesystem::directory_iterator(directory_)) {
    if (const auto id = segment_id_of(entry.path())) {
      ids.push_back(*id);
    }
  }
  std::sort(ids.begin(), ids.end());
  load_read_pointer();

  // Segments before the read pointer were delivered; a crash between
  // storing the pointer and deleting them leaves them behind.
  std::size_t first_kept = 0;
  while (first_kept < ids.size() && ids[first_kept] < committed_.segment) {
    std::filesystem::remove(segment_path(ids[first_kept]));
    ++first_kept;
  }
  ids.erase(ids.begin(), ids.begin() + static_cast<std::ptrdiff_t>(first_kept));
  if (ids.empty()) {
    return;
  }
  if (ids.front() != committed_.segment) {
    committed_ = Position{ids.front(), kSegmentHeaderBytes};
  }
  committed_.offset = std::max<std::uint64_t>(committed_.offset, kSegmentHeaderBytes);

  for (std::size_t index = 0; index < ids.size(); ++index) {
    Segment segment{ids[index], 0, 0};
    const std::uint64_t count_from = ids[index] == committed_.segment ? committed_.offset : 0;
    scan_segment(segment, index + 1 == ids.size(), count_from);
    segments_.push_back(segment);
  }
  if (committed_.offset > segments_.front().size) {
    committed_.offset = segments_.front().size;
  }
  cursor_ = committed_;
  recovery_.events = pending_events_;
}

// Checks every record of a segment, counts the events at or after
// `count_from`, and cuts the segment at the first damaged record.
void DiskBuffer::scan_segment(Segment& segment, bool is_last, std::uint64_t count_from) {
  const std::filesystem::path path = segment_path(segment.id);
  const int fd = ::open(path.c_str(), O_RDWR | O_CLOEXEC);
  if (fd < 0) {
    throw std::runtime_error(system_error("opening", path));
  }
  const off_t file_size = ::lseek(fd, 0, SEEK_END);
  const auto size = static_cast<std::uint64_t>(std::max<off_t>(file_size, 0));

  char header[kSegmentHeaderBytes];
  std::uint64_t valid = 0;
  bool damaged_before_end = false;
  if (read_exact(fd, header, kSegmentHeaderBytes, 0) && std::memcmp(header, kSegmentMagic, kSegmentHeaderBytes) == 0) {
    valid = kSegmentHeaderBytes;
    std::string payload;
    char record_header[kRecordHeaderBytes];
    while (valid < size) {
      if (valid + kRecordHeaderBytes > size || !read_exact(fd, record_header, kRecordHeaderBytes, valid)) {
        break;
      }
      const std::uint32_t length = get_u32(record_header);
      if (length < kPayloadFixedBytes || length > kMaxRecordBytes || valid + kRecordHeaderBytes + length > size) {
        damaged_before_end = valid + kRecordHeaderBytes + length < size;
        break;
      }
      payload.resize(length);
      if (!read_exact(fd, payload.data(), length, valid + kRecordHeaderBytes) ||
          record_checksum(record_header, payload.data(), length) != get_u32(record_header + 4)) {
        damaged_before_end = valid + kRecordHeaderBytes + length < size;
        break;
      }
      if (valid >= count_from) {
        ++pending_events_;
      }
      ++segment.events;
      valid += kRecordHeaderBytes + length;
    }
  }

  if (valid < size) {
    recovery_.dropped_tail_bytes += size - valid;
    if (damaged_before_end) {
      ++recovery_.corrupted_segments;
      log_.error("A disk buffer segment has a damaged record before its end; the rest of the segment is dropped. "
                 "path={} offset={} dropped_bytes={}",
                 path.string(), valid, size - valid);
    } else {
      log_.warn("A disk buffer segment ends in a record torn by a crash; the torn record is dropped. path={} "
                "offset={} dropped_bytes={}",
                path.string(), valid, size - valid);
    }
  }
  if (is_last && valid < size) {
    // The newest segment is appended to again, so its damaged tail goes.
    const bool header_missing = valid == 0;
    if (::ftruncate(fd, static_cast<off_t>(valid)) != 0 ||
        (header_missing && ::pwrite(fd, kSegmentMagic, kSegmentHeaderBytes, 0) !=
                               static_cast<ssize_t>(kSegmentHeaderBytes))) {
      ::close(fd);
      throw std::runtime_error(system_error("repairing", path));
    }
    valid = header_missing ? kSegmentHeaderBytes : valid;
  }
  ::close(fd);
  segment.size = valid;
  disk_bytes_ += is_last ? valid : size;
}

void DiskBuffer::open_writer() {
  if (segments_.empty()) {
    start_segment(committed_.segment + 1);
    committed_ = Position{segments_.back().id, kSegmentHeaderBytes};
    cursor_ = committed_;
    store_read_pointer();
    return;
  }
  write_segment_ = segments_.back().id;
  const std::filesystem::path path = segment_path(write_segment_);
  write_fd_ = ::open(path.c_str(), O_WRONLY | O_APPEND | O_CLOEXEC);
  if (write_fd_ < 0) {
    throw std::runtime_error(system_error("opening", path));
  }
}

void DiskBuffer::start_segment(std::uint64_t id) {
  if (write_fd_ >= 0) {
    if (unsynced_ && options_.fsync && ::fdatasync(write_fd_) != 0) {
      throw std::runtime_error(system_error("syncing", segment_path(write_segment_)));
    }
    ::close(write_fd_);
    write_fd_ = -1;
    unsynced_ = false;
  }
  const std::filesystem::path path = segment_path(id);
  const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_APPEND | O_CLOEXEC, kFileMode);
  if (fd < 0) {
    throw std::runtime_error(system_error("creating", path));
  }
  if (!write_all(fd, kSegmentMagic, kSegmentHeaderBytes)) {
    ::close(fd);
    throw std::runtime_error(system_error("writing", path));
  }
  if (options_.fsync) {
    ::fdatasync(fd);
    sync_directory(directory_);
  }
  write_fd_ = fd;
  write_segment_ = id;
  std::lock_guard lock(mutex_);
  segments_.push_back(Segment{id, kSegmentHeaderBytes, 0});
  disk_bytes_ += kSegmentHeaderBytes;
}

bool DiskBuffer::fits(std::size_t events, std::size_t bytes) const {
  std::lock_guard lock(mutex_);
  if (pending_events_ == 0) {
    return true;
  }
  const bool events_fit = options_.max_events == 0 || pending_events_ + events <= options_.max_events;
  const bool bytes_fit = options_.max_bytes == 0 || disk_bytes_ + bytes <= options_.max_bytes;
  return events_fit && bytes_fit;
}

bool DiskBuffer::wait_for_room(std::size_t events, std::size_t bytes, const std::function<bool()>& give_up) {
  constexpr auto kPollInterval = std::chrono::milliseconds(50);
  while (!fits(events, bytes)) {
    if (give_up()) {
      return false;
    }
    std::unique_lock lock(mutex_);
    freed_.wait_for(lock, kPollInterval);
  }
  return true;
}

void DiskBuffer::append(const std::vector<Event>& events) {
  if (events.empty()) {
    return;
  }
  record_buffer_.clear();
  for (const Event& event : events) {
    const std::string_view source = event.origin.source ? std::string_view(*event.origin.source) : std::string_view();
    const std::size_t length = kPayloadFixedBytes + source.size() + event.json.size();
    const std::size_t start = record_buffer_.size();
    put_u32(record_buffer_, static_cast<std::uint32_t>(length));
    put_u32(record_buffer_, 0);
    put_u64(record_buffer_, event.origin.line);
    put_u64(record_buffer_, event.origin.offset);
    put_u32(record_buffer_, static_cast<std::uint32_t>(source.size()));
    record_buffer_ += source;
    record_buffer_ += event.json;
    const std::uint32_t crc =
        record_checksum(record_buffer_.data() + start, record_buffer_.data() + start + kRecordHeaderBytes, length);
    for (std::size_t byte = 0; byte < 4; ++byte) {
      record_buffer_[start + 4 + byte] = static_cast<char>((crc >> (8 * byte)) & 0xff);
    }
  }

  std::uint64_t segment_size = 0;
  {
    std::lock_guard lock(mutex_);
    segment_size = segments_.back().size;
  }
  // A batch stays in one segment; a new segment starts when it would pass the size limit.
  if (segment_size > kSegmentHeaderBytes && segment_size + record_buffer_.size() > options_.segment_max_bytes) {
    start_segment(write_segment_ + 1);
    segment_size = kSegmentHeaderBytes;
  }

  const std::filesystem::path path = segment_path(write_segment_);
  if (!write_all(write_fd_, record_buffer_.data(), record_buffer_.size())) {
    const std::string message = system_error("appending to", path);
    // Cut what was written of the batch, so a later append does not follow a torn record.
    if (::ftruncate(write_fd_, static_cast<off_t>(segment_size)) != 0) {
      log_.error("Cutting a failed append from a disk buffer segment failed; the next start drops the torn record. "
                 "path={}",
                 path.string());
    }
    throw std::runtime_error(message);
  }
  unsynced_ = true;

  {
    std::lock_guard lock(mutex_);
    segments_.back().size += record_buffer_.size();
    segments_.back().events += events.size();
    pending_events_ += events.size();
    disk_bytes_ += record_buffer_.size();
  }
  appended_.notify_all();
}

void DiskBuffer::sync() {
  if (!options_.fsync || !unsynced_) {
    return;
  }
  if (::fdatasync(write_fd_) != 0) {
    throw std::runtime_error(system_error("syncing", segment_path(write_segment_)));
  }
  unsynced_ = false;
}

std::vector<Event> DiskBuffer::read(std::size_t max_events, std::size_t max_bytes,
                                    std::chrono::milliseconds timeout) {
  std::vector<Event> events;
  std::size_t bytes = 0;
  const auto until = std::chrono::steady_clock::now() + timeout;
  while (events.size() < max_events && bytes < max_bytes) {
    if (!read_record(events, bytes)) {
      if (!events.empty()) {
        break;
      }
      std::unique_lock lock(mutex_);
      const auto readable = [&] {
        const Segment& last = segments_.back();
        return last.id != cursor_.segment || cursor_.offset < last.size;
      };
      if (!appended_.wait_until(lock, until, readable)) {
        break;
      }
    }
  }
  returned_events_ += events.size();
  return events;
}

// Reads the record at the cursor into `events`; false when there is none yet.
bool DiskBuffer::read_record(std::vector<Event>& events, std::size_t& bytes) {
  std::uint64_t readable_end = 0;
  {
    std::lock_guard lock(mutex_);
    auto segment = std::find_if(segments_.begin(), segments_.end(),
                                [&](const Segment& candidate) { return candidate.id == cursor_.segment; });
    if (segment == segments_.end()) {
      return false;
    }
    // A segment that is read to its end and no longer appended to hands over to the next one.
    while (cursor_.offset >= segment->size && std::next(segment) != segments_.end()) {
      ++segment;
      cursor_ = Position{segment->id, kSegmentHeaderBytes};
    }
    readable_end = segment->size;
  }
  if (cursor_.offset >= readable_end) {
    return false;
  }

  const std::filesystem::path path = segment_path(cursor_.segment);
  if (read_fd_ < 0 || read_fd_segment_ != cursor_.segment) {
    if (read_fd_ >= 0) {
      ::close(read_fd_);
    }
    read_fd_ = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    read_fd_segment_ = cursor_.segment;
    if (read_fd_ < 0) {
      throw std::runtime_error(system_error("opening", path));
    }
  }

  const char* header = chunk_bytes(cursor_.offset, kRecordHeaderBytes, readable_end);
  bool valid = header != nullptr;
  const std::uint32_t length = valid ? get_u32(header) : 0;
  valid = valid && length >= kPayloadFixedBytes && cursor_.offset + kRecordHeaderBytes + length <= readable_end;
  const char* record = valid ? chunk_bytes(cursor_.offset, kRecordHeaderBytes + length, readable_end) : nullptr;
  const char* payload = record != nullptr ? record + kRecordHeaderBytes : nullptr;
  valid = payload != nullptr && record_checksum(record, payload, length) == get_u32(record + 4);
  const std::uint32_t source_length = valid ? get_u32(payload + 16) : 0;
  valid = valid && kPayloadFixedBytes + source_length <= length;
  if (!valid) {
    // Every record was written whole by this process or checked at the
    // start, so a bad one was changed on the device since. The rest of the
    // segment cannot be trusted.
    log_.error("A disk buffer record changed on disk after it was written; the rest of the segment is dropped. "
               "path={} offset={}",
               path.string(), cursor_.offset);
    std::lock_guard lock(mutex_);
    for (const Segment& segment : segments_) {
      if (segment.id == cursor_.segment) {
        cursor_.offset = segment.size;
      }
    }
    return false;
  }

  Event event;
  event.origin.line = get_u64(payload);
  event.origin.offset = get_u64(payload + 8);
  if (source_length > 0) {
    const std::string_view source(payload + kPayloadFixedBytes, source_length);
    if (!last_source_ || *last_source_ != source) {
      last_source_ = std::make_shared<const std::string>(source);
    }
    event.origin.source = last_source_;
  }
  event.json.assign(payload + kPayloadFixedBytes + source_length, length - kPayloadFixedBytes - source_length);
  bytes += event.json.size();
  events.push_back(std::move(event));
  cursor_.offset += kRecordHeaderBytes + length;
  return true;
}

// Returns `count` bytes of the reader's segment at `offset`, from the read
// chunk, refilling it from the file when they are not all in it. Bytes
// before `readable_end` never change, so a chunk stays valid while the
// writer appends. Null when the file is shorter than expected.
const char* DiskBuffer::chunk_bytes(std::uint64_t offset, std::size_t count, std::uint64_t readable_end) {
  const bool in_chunk = read_chunk_segment_ == cursor_.segment && offset >= read_chunk_start_ &&
                        offset + count <= read_chunk_start_ + read_chunk_.size();
  if (!in_chunk) {
    const std::uint64_t wanted = std::max<std::uint64_t>(count, kReadChunkBytes);
    const std::uint64_t size = std::min<std::uint64_t>(wanted, readable_end - offset);
    if (size < count) {
      return nullptr;
    }
    read_chunk_.resize(size);
    read_chunk_segment_ = 0;
    if (!read_exact(read_fd_, read_chunk_.data(), size, offset)) {
      return nullptr;
    }
    read_chunk_segment_ = cursor_.segment;
    read_chunk_start_ = offset;
  }
  return read_chunk_.data() + (offset - read_chunk_start_);
}

void DiskBuffer::commit_read() {
  committed_ = cursor_;
  {
    std::lock_guard lock(mutex_);
    pending_events_ -= std::min(pending_events_, returned_events_);
  }
  returned_events_ = 0;
  store_read_pointer();
  delete_segments_before(committed_.segment);
  freed_.notify_all();
}

void DiskBuffer::delete_segments_before(std::uint64_t id) {
  std::vector<std::uint64_t> deleted;
  {
    std::lock_guard lock(mutex_);
    while (segments_.size() > 1 && segments_.front().id < id) {
      deleted.push_back(segments_.front().id);
      disk_bytes_ -= std::min(disk_bytes_, segments_.front().size);
      segments_.pop_front();
    }
  }
  for (std::uint64_t segment : deleted) {
    if (::unlink(segment_path(segment).c_str()) != 0) {
      log_.warn("Deleting a delivered disk buffer segment failed. path={} error=\"{}\"", segment_path(segment).string(),
                std::strerror(errno));
    }
  }
}

void DiskBuffer::load_read_pointer() {
  std::uint64_t best_generation = 0;
  bool found = false;
  for (std::size_t slot = 0; slot < 2; ++slot) {
    char data[kPointerSlotBytes];
    if (!read_exact(pointer_fd_, data, kPointerSlotBytes, slot * kPointerSlotBytes)) {
      continue;
    }
    if (checksum(data, 24) != get_u32(data + 24)) {
      continue;
    }
    const std::uint64_t generation = get_u64(data);
    if (!found || generation > best_generation) {
      best_generation = generation;
      committed_ = Position{get_u64(data + 8), get_u64(data + 16)};
      found = true;
    }
  }
  pointer_generation_ = found ? best_generation + 1 : 0;
}

// Stores the read pointer in the older of the two slots. It is not synced:
// after a power loss an older pointer repeats delivered events, and never
// skips undelivered ones, because segments are deleted only after it is written.
void DiskBuffer::store_read_pointer() {
  std::string data;
  put_u64(data, pointer_generation_);
  put_u64(data, committed_.segment);
  put_u64(data, committed_.offset);
  put_u32(data, checksum(data.data(), data.size()));
  put_u32(data, 0);
  const std::size_t slot = pointer_generation_ % 2;
  if (::pwrite(pointer_fd_, data.data(), data.size(), static_cast<off_t>(slot * kPointerSlotBytes)) !=
      static_cast<ssize_t>(data.size())) {
    throw std::runtime_error(system_error("writing", directory_ / kPointerFileName));
  }
  ++pointer_generation_;
}

std::uint64_t DiskBuffer::pending_events() const {
  std::lock_guard lock(mutex_);
  return pending_events_;
}

std::uint64_t DiskBuffer::disk_bytes() const {
  std::lock_guard lock(mutex_);
  return disk_bytes_;
}

}  // namespace slipway
