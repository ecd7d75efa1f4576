// An output's buffer on disk: events wait in append-only segment files in
// their own directory until the output has delivered or dead-lettered them.
// Each record is framed by its length and a CRC-32, so a record torn by a
// crash is detected at the next start and dropped instead of delivered.
// The read pointer is stored in two alternating checksummed slots, so a
// crash while it is written leaves the previous one usable. Events are
// delivered in the order they were appended, also across restarts.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <filesystem>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include <spdlog/logger.h>

#include "engine/event.hpp"

namespace slipway {

struct DiskBufferOptions {
  std::uint64_t max_events = 0;  // 0: no event limit
  std::uint64_t max_bytes = 0;   // 0: no byte limit; counts whole segment files
  // fsync segments before appended events count as stored: they then survive
  // a power loss, not only a crash of the process.
  bool fsync = true;
  std::uint64_t segment_max_bytes = 32 * 1024 * 1024;
};

// What opening a buffer found on disk.
struct DiskBufferRecovery {
  std::uint64_t events = 0;              // undelivered events found
  std::uint64_t dropped_tail_bytes = 0;  // bytes of a torn or corrupted record, and of what followed it
  std::uint64_t corrupted_segments = 0;  // segments with a damaged record before their end
};

class DiskBuffer {
 public:
  // Opens `directory`, creating it when missing. Deletes segments that were
  // already delivered, checks every record of the rest and cuts a damaged
  // tail. Throws std::runtime_error naming the path when the directory
  // cannot be used.
  DiskBuffer(std::filesystem::path directory, DiskBufferOptions options, spdlog::logger& log);
  ~DiskBuffer();
  DiskBuffer(const DiskBuffer&) = delete;
  DiskBuffer& operator=(const DiskBuffer&) = delete;

  const DiskBufferRecovery& recovery() const { return recovery_; }

  // True when `events` events of `bytes` bytes fit within the limits. An
  // empty buffer takes any batch, so one batch larger than the limits
  // cannot block for ever.
  bool fits(std::size_t events, std::size_t bytes) const;
  // Waits until the events fit or `give_up` returns true (checked every
  // few milliseconds); returns whether they fit.
  bool wait_for_room(std::size_t events, std::size_t bytes, const std::function<bool()>& give_up);

  // Appends events to the newest segment and makes them readable. They are
  // durable once sync() returns. Throws std::runtime_error on I/O errors;
  // then nothing of the batch is readable. Only one thread may append.
  void append(const std::vector<Event>& events);
  // Flushes appended records to the storage device, when the options ask for it.
  void sync();

  // Returns up to `max_events` events (at most about `max_bytes`) after
  // the ones returned before, waiting at most `timeout` for some to
  // arrive. Only one thread may read.
  std::vector<Event> read(std::size_t max_events, std::size_t max_bytes, std::chrono::milliseconds timeout);
  // Marks every event returned by read() as delivered: stores the read
  // pointer and deletes segments that hold nothing undelivered.
  void commit_read();

  // Events appended and not yet committed as delivered.
  std::uint64_t pending_events() const;
  // Bytes of the segment files on disk.
  std::uint64_t disk_bytes() const;
  // Size of one event as a record, for the byte limit.
  static std::size_t record_bytes(const Event& event);

 private:
  struct Segment {
    std::uint64_t id = 0;
    std::uint64_t size = 0;    // bytes of complete records, header included
    std::uint64_t events = 0;  // records in the segment
  };
  struct Position {
    std::uint64_t segment = 0;
    std::uint64_t offset = 0;
  };

  std::filesystem::path segment_path(std::uint64_t id) const;
  void recover();
  void scan_segment(Segment& segment, bool is_last, std::uint64_t count_from);
  void open_writer();
  void start_segment(std::uint64_t id);
  void load_read_pointer();
  void store_read_pointer();
  void delete_segments_before(std::uint64_t id);
  bool read_record(std::vector<Event>& events, std::size_t& bytes);
  const char* chunk_bytes(std::uint64_t offset, std::size_t count, std::uint64_t readable_end);

  std::filesystem::path directory_;
  DiskBufferOptions options_;
  spdlog::logger& log_;
  DiskBufferRecovery recovery_;

  mutable std::mutex mutex_;
  std::condition_variable appended_;
  std::condition_variable freed_;
  std::deque<Segment> segments_;  // oldest first; the last one is appended to
  std::uint64_t pending_events_ = 0;
  std::uint64_t disk_bytes_ = 0;

  // Writer side.
  int write_fd_ = -1;
  std::uint64_t write_segment_ = 0;  // id of the segment write_fd_ appends to
  bool unsynced_ = false;
  std::string record_buffer_;

  // Reader side.
  Position committed_;             // first record not yet delivered
  Position cursor_;                // first record not yet returned by read()
  std::uint64_t returned_events_ = 0;  // returned by read() since the last commit
  int read_fd_ = -1;
  std::uint64_t read_fd_segment_ = 0;
  std::string read_chunk_;  // bytes of the segment being read, from read_chunk_start_
  std::uint64_t read_chunk_segment_ = 0;  // 0: the chunk holds nothing
  std::uint64_t read_chunk_start_ = 0;
  std::uint64_t pointer_generation_ = 0;
  int pointer_fd_ = -1;
  std::shared_ptr<const std::string> last_source_;
};

}  // namespace slipway
