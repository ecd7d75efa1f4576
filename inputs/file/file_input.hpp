// The `file` input: reads JSON-lines files such as Slips' alerts.json, or
// Zeek logs with `codec: zeek`, follows appends, rename and copytruncate rotation, and resumes from its
// checkpoints after a restart. Order is kept within each file. A line is
// delivered at least once: a checkpoint never passes a line that was not
// delivered, and only the batches in flight at a crash are read again.
#pragma once

#include <chrono>
#include <cstddef>
#include <memory>
#include <string>
#include <vector>

#include "config/errors.hpp"
#include "config/schema.hpp"
#include "engine/component.hpp"
#include "inputs/file/zeek_log.hpp"

namespace slipway::inputs {

enum class StartAt { Beginning, End };

// Decoding of lines into events.
enum class Codec {
  Json,  // one JSON object per line
  Zeek,  // Zeek TSV logs with their # header lines, and Zeek JSON logs
};

struct FileInputConfig {
  std::vector<std::string> paths;  // paths or glob patterns
  StartAt start_at = StartAt::Beginning;
  bool exit_at_eof = false;
  std::size_t max_line_bytes = 1024 * 1024;
  std::chrono::milliseconds poll_interval{250};
  std::chrono::milliseconds rotate_wait{5000};
  std::size_t batch_max_events = 1024;
  std::chrono::milliseconds batch_timeout{100};
  Codec codec = Codec::Json;
  file::ZeekUnsetFields zeek_unset_fields = file::ZeekUnsetFields::Omit;

  static const config::Schema kSchema;
  // Reads settings the schema has checked; adds errors for what the schema cannot check.
  static FileInputConfig parse(const config::Section& settings, config::Errors& errors);
};

class FileInput final : public Input {
 public:
  explicit FileInput(FileInputConfig config) : config_(std::move(config)) {}

  static std::unique_ptr<Input> create(const config::Section& settings, config::Errors& errors);

  // Tails the files until a stop is requested, or with exit_at_eof until
  // every file is read to its end. Emits what was read before returning.
  void run(InputContext& context) override;

 private:
  FileInputConfig config_;
};

}  // namespace slipway::inputs
