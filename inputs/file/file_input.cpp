#include "inputs/file/file_input.hpp"

#include <algorithm>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "engine/registry.hpp"
#include "inputs/file/file_set.hpp"

namespace slipway::inputs {

namespace {

constexpr std::int64_t kMaxLineBytesLimit = 64 * 1024 * 1024;
constexpr std::int64_t kMaxIntervalMs = 60 * 60 * 1000;
constexpr std::int64_t kMaxBatchEvents = 64 * 1024;

}  // namespace

const config::Schema FileInputConfig::kSchema{{
    config::Field{.name = "paths",
                  .type = config::FieldType::StringList,
                  .doc = "Files to read: paths or glob patterns (*, ?, [...]), matched again every poll_interval_ms",
                  .required = true},
    config::Field{.name = "start_at",
                  .type = config::FieldType::Enum,
                  .doc = "Where to start in a file without a checkpoint: beginning, or end (only for files present "
                         "at startup; files that appear later are read from the beginning)",
                  .default_text = "beginning",
                  .choices = {"beginning", "end"}},
    config::Field{.name = "exit_at_eof",
                  .type = config::FieldType::Boolean,
                  .doc = "Stop once every file is read to its end instead of waiting for more, e.g. for replays",
                  .default_text = "false"},
    config::Field{.name = "max_line_bytes",
                  .type = config::FieldType::Integer,
                  .doc = "Longest line accepted, in bytes without the line ending; longer lines are dead-lettered",
                  .default_text = "1048576",
                  .min = 1,
                  .max = kMaxLineBytesLimit},
    config::Field{.name = "poll_interval_ms",
                  .type = config::FieldType::Integer,
                  .doc = "How often files are checked for new data and paths matched again, in milliseconds",
                  .default_text = "250",
                  .min = 1,
                  .max = kMaxIntervalMs},
    config::Field{.name = "rotate_wait_ms",
                  .type = config::FieldType::Integer,
                  .doc = "How long a renamed or deleted file stays open after its last change, for late writes, in "
                         "milliseconds",
                  .default_text = "5000",
                  .min = 0,
                  .max = kMaxIntervalMs},
    config::Field{.name = "batch_max_events",
                  .type = config::FieldType::Integer,
                  .doc = "Maximum number of events in one batch; a batch contains lines of one file only",
                  .default_text = "1024",
                  .min = 1,
                  .max = kMaxBatchEvents},
    config::Field{.name = "batch_timeout_ms",
                  .type = config::FieldType::Integer,
                  .doc = "Longest time a partly filled batch waits for more lines before it is sent, in milliseconds",
                  .default_text = "100",
                  .min = 0,
                  .max = kMaxIntervalMs},
    config::Field{.name = "codec",
                  .type = config::FieldType::Enum,
                  .doc = "How lines become events: json (one JSON object per line), or zeek (Zeek TSV logs, each row "
                         "an object keyed by the #fields names with values typed by #types; Zeek JSON lines as they "
                         "are)",
                  .default_text = "json",
                  .choices = {"json", "zeek"}},
    config::Field{.name = "zeek_unset_as_null",
                  .type = config::FieldType::Boolean,
                  .doc = "With codec zeek: write a TSV value equal to #unset_field (-) as null instead of leaving the "
                         "member out, which is what Zeek's own JSON logs do",
                  .default_text = "false"},
}};

FileInputConfig FileInputConfig::parse(const config::Section& settings, config::Errors& errors) {
  FileInputConfig config;
  config.paths = settings.strings("paths");
  config.start_at = settings.string("start_at") == "end" ? StartAt::End : StartAt::Beginning;
  config.exit_at_eof = settings.boolean("exit_at_eof");
  config.max_line_bytes = static_cast<std::size_t>(settings.integer("max_line_bytes"));
  config.poll_interval = std::chrono::milliseconds(settings.integer("poll_interval_ms"));
  config.rotate_wait = std::chrono::milliseconds(settings.integer("rotate_wait_ms"));
  config.batch_max_events = static_cast<std::size_t>(settings.integer("batch_max_events"));
  config.batch_timeout = std::chrono::milliseconds(settings.integer("batch_timeout_ms"));
  config.codec = settings.string("codec") == "zeek" ? Codec::Zeek : Codec::Json;
  config.zeek_unset_fields =
      settings.boolean("zeek_unset_as_null") ? file::ZeekUnsetFields::Null : file::ZeekUnsetFields::Omit;

  // The schema accepts an empty list, which would leave the input idle forever.
  if (settings.has("paths") && config.paths.empty()) {
    errors.add(settings.location("paths"),
               settings.context() + ": key \"paths\": expected at least one path or glob pattern, got an empty list");
  }
  if (std::any_of(config.paths.begin(), config.paths.end(), [](const std::string& path) { return path.empty(); })) {
    errors.add(settings.location("paths"),
               settings.context() + ": key \"paths\": expected a path or glob pattern, got an empty string");
  }
  if (settings.has("zeek_unset_as_null") && config.codec != Codec::Zeek) {
    errors.add(settings.location("zeek_unset_as_null"),
               settings.context() + ": key \"zeek_unset_as_null\": applies only to Zeek TSV logs; add \"codec: zeek\" "
                                    "or remove the key");
  }
  return config;
}

std::unique_ptr<Input> FileInput::create(const config::Section& settings, config::Errors& errors) {
  return std::make_unique<FileInput>(FileInputConfig::parse(settings, errors));
}

void FileInput::run(InputContext& context) {
  using file::Clock;
  context.log().info("Watching files. paths=[{}] start_at={} exit_at_eof={} codec={}", fmt::join(config_.paths, ", "),
                     config_.start_at == StartAt::End ? "end" : "beginning", config_.exit_at_eof,
                     config_.codec == Codec::Zeek ? "zeek" : "json");

  file::FileSet files(context, config_);
  Clock::time_point now = Clock::now();
  files.scan(now, true);
  Clock::time_point next_scan = now + config_.poll_interval;

  while (!context.stop_requested()) {
    const bool moved = files.read(Clock::now());
    now = Clock::now();
    if (config_.exit_at_eof && !moved) {
      // NOTE: a last line without LF is not read even here — its writer may
      // still be in the middle of it, and a later run reads it whole.
      files.report_unterminated_lines();
      break;
    }

    files.tidy(now);
    if (now >= next_scan) {
      files.scan(now, false);
      next_scan = now + config_.poll_interval;
      continue;
    }
    // TODO: no inotify — new lines wait up to poll_interval_ms before they are read.
    if (!moved) {
      const Clock::time_point wake = std::min(next_scan, files.next_deadline());
      context.wait_for_stop(std::chrono::ceil<std::chrono::milliseconds>(std::max(wake - now, Clock::duration{})));
    }
  }

  files.flush_all(Clock::now());
  context.log().info("Stopped reading files. open_files={}", files.open_files());
}

SLIPWAY_REGISTER_INPUT("file", "Reads JSON lines or Zeek logs from files, following appends, rotation and truncation",
                       FileInputConfig::kSchema, &FileInput::create);

}  // namespace slipway::inputs
