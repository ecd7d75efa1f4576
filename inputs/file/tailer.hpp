// One file being read: its descriptor, identity, read position and the
// batch being filled. A tailer notices truncation (the file shrank below
// the read position, or its leading bytes changed) and then reads the file
// again from its start. Tailers run on the input's thread only.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>

#include "engine/component.hpp"
#include "engine/json_line.hpp"
#include "inputs/file/fingerprint.hpp"
#include "inputs/file/line_reader.hpp"
#include "inputs/file/zeek_log.hpp"

namespace slipway::inputs::file {

using Clock = std::chrono::steady_clock;

// Owns a file descriptor and closes it once.
class UniqueFd {
 public:
  UniqueFd() = default;
  explicit UniqueFd(int fd) : fd_(fd) {}
  ~UniqueFd();
  UniqueFd(UniqueFd&& other) noexcept : fd_(other.release()) {}
  UniqueFd& operator=(UniqueFd&& other) noexcept;
  UniqueFd(const UniqueFd&) = delete;
  UniqueFd& operator=(const UniqueFd&) = delete;

  int get() const { return fd_; }
  int release();

 private:
  int fd_ = -1;
};

// Lets one message of a kind through per interval and counts the others,
// so a file full of bad lines cannot flood the log.
class LogLimiter {
 public:
  static constexpr std::chrono::seconds kInterval{10};

  // True when a message may be logged now; `suppressed` is then the number
  // of messages held back since the previous one.
  bool allow(std::uint64_t& suppressed);

 private:
  std::optional<Clock::time_point> last_;
  std::uint64_t suppressed_ = 0;
};

struct TailSettings {
  std::size_t max_line_bytes = 0;
  std::size_t batch_max_events = 0;
  std::chrono::milliseconds batch_timeout{0};
  std::optional<ZeekUnsetFields> zeek;  // set when lines are decoded as Zeek logs
};

// State shared by the tailers of one input run.
struct TailShared {
  TailShared(InputContext& input_context, TailSettings tail_settings, IdentityTable table)
      : context(input_context),
        settings(tail_settings),
        buffer(tail_settings.max_line_bytes),
        identities(std::move(table)) {}

  InputContext& context;
  TailSettings settings;
  json::LineDecoder decoder;
  ReadBuffer buffer;
  IdentityTable identities;

  // Counted here and added to the shared atomics once per read, not per line.
  std::uint64_t received_events = 0;
  std::uint64_t dropped_events = 0;
  std::uint64_t repaired_events = 0;
  void publish_counters();

  LogLimiter rejected_log;
  LogLimiter rejected_zeek_log;
  LogLimiter oversized_log;
  LogLimiter read_error_log;
};

class Tailer final : private LineSink {
 public:
  // Starts with the device-and-inode identity at `start`. The first poll of
  // a file with at least kFingerprintBytes bytes switches to its fingerprint
  // and, when that identity was read further already, continues from there.
  Tailer(TailShared& shared, FileId id, UniqueFd fd, std::string path, const FilePosition& start);
  ~Tailer() override;
  Tailer(const Tailer&) = delete;
  Tailer& operator=(const Tailer&) = delete;

  // Reads the bytes past the read position, up to about
  // `max_bytes`, and emits every batch that fills up. Returns true when the
  // position moved, i.e. a line was consumed or skipped.
  bool poll(Clock::time_point now, std::size_t max_bytes);

  // Emits the batch being filled once it has waited batch_timeout, or at
  // once with `force`. Lines that produced no event (blank, rejected,
  // oversized) still move the checkpoint: the engine commits a batch
  // without events as soon as the batches before it are delivered.
  void flush(Clock::time_point now, bool force);

  // Hashes the leading bytes again; when they changed, the file was
  // truncated and rewritten past the read position, so it is read again.
  void check_content(Clock::time_point now);

  // When flush() would emit without `force`; Clock::time_point::max() when nothing waits.
  Clock::time_point flush_deadline() const;

  const FileId& id() const { return id_; }
  const std::string& path() const { return *path_; }
  const std::string& identity_key() const { return identity_key_; }
  bool content_identity() const { return content_identity_; }
  // The fingerprint key this file would have if another file did not hold it.
  const std::string& parked_key() const { return parked_key_; }
  const FilePosition& position() const { return reader_.position(); }
  std::uint64_t size() const { return size_; }
  bool deleted() const { return links_ == 0; }
  // The last time the file's size changed, or the tailer was created.
  Clock::time_point last_change() const { return last_change_; }

 private:
  void on_record(const Record& record) override;
  void on_oversized(const OversizedLine& line) override;
  void on_line_end(const FilePosition& position) override;
  void on_zeek_record(const Record& record);
  // Starts reading at `offset` with a Zeek header recovered from the lines before it.
  void reset_zeek_header(std::uint64_t offset);

  void emit();
  bool has_unflushed() const;
  void restart_after_truncation(Clock::time_point now, std::uint64_t size);
  void try_content_identity(Clock::time_point now);
  void report_read_error(int error);

  TailShared& shared_;
  FileId id_;
  UniqueFd fd_;
  std::shared_ptr<const std::string> path_;
  std::string identity_key_;
  bool content_identity_ = false;
  std::string parked_key_;
  LineReader reader_;
  std::unique_ptr<ZeekLogDecoder> zeek_;  // with codec: zeek, this file's header state
  bool zeek_header_pending_ = false;      // the header before the read position is not recovered yet
  std::string zeek_reason_;

  Batch batch_;
  std::uint64_t emitted_offset_ = 0;                // position of the last batch emitted
  std::optional<Clock::time_point> pending_since_;  // when lines started waiting to be emitted
  std::uint64_t size_ = 0;
  std::uint64_t links_ = 1;
  std::optional<std::uint64_t> size_at_end_;  // size when a read last reached the end
  Clock::time_point last_change_;
};

}  // namespace slipway::inputs::file
