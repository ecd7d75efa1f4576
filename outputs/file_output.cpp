#include "outputs/file_output.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <stdexcept>

#include <fmt/format.h>

#include "engine/registry.hpp"

namespace slipway::outputs {

namespace {

// Alerts name hosts and victims, so the file is not world-readable.
constexpr mode_t kFileMode = 0640;
constexpr std::string_view kStixBundle = "stix_bundle";

std::vector<std::string> file_format_names() {
  std::vector<std::string> names = kColumnRecordFormatNames;
  names.emplace_back(kStixBundle);
  return names;
}

// Finds the combinations of keys the schema cannot check on its own.
void check_layout(const config::Section& settings, const RecordLayout& layout, config::Errors& errors) {
  const std::string& context = settings.context();
  if (layout.format == RecordFormat::Tsv && layout.columns.empty()) {
    errors.add(settings.location(settings.has("columns") ? "columns" : "format"),
               context + ": key \"columns\": required for format tsv; list the field paths to write, e.g. "
                         "[uid, label]");
  }
  if (settings.string("format") == kStixBundle) {
    for (const char* key : {"columns", "header", "escape", "line_ending", "fsync", "fsync_interval_ms"}) {
      if (settings.has(key)) {
        errors.add(settings.location(key),
                   fmt::format("{}: key \"{}\": not used by format stix_bundle, which writes one bundle and forces "
                               "each replacement to disk; remove it",
                               context, key));
      }
    }
    return;
  }
  if (layout.format == RecordFormat::AlertsLog && settings.has("columns")) {
    errors.add(settings.location("columns"),
               context + ": key \"columns\": not used by format alerts_log; remove it or use format tsv or json");
  }
  if (std::any_of(layout.columns.begin(), layout.columns.end(), [](const std::string& column) { return column.empty(); })) {
    errors.add(settings.location("columns"), context + ": key \"columns\": expected a field path, got an empty string");
  }
  for (const char* key : {"header", "escape"}) {
    if (layout.format != RecordFormat::Tsv && settings.has(key)) {
      errors.warn(settings.location(key), fmt::format("{}: key \"{}\" applies to format tsv only and is ignored",
                                                      context, key));
    }
  }
}

}  // namespace

const config::Schema FileOutputConfig::kSchema{{
    config::Field{.name = "path",
                  .type = config::FieldType::String,
                  .doc = "File to append to; parent directories are created",
                  .required = true},
    config::Field{.name = "format",
                  .type = config::FieldType::Enum,
                  .doc = "json: one JSON object per line; alerts_log: the human-readable line of Slips' alerts.log; "
                         "tsv: the fields named in columns, separated by tabs; stix_bundle: the STIX objects of every "
                         "event in one bundle (Slips' STIX_data.json), replaced atomically per batch",
                  .default_text = "json",
                  .choices = file_format_names()},
    config::Field{.name = "columns",
                  .type = config::FieldType::StringList,
                  .doc = "Field paths to write, in order: required for tsv; with json, each line holds only these "
                         "members (null when missing)"},
    config::Field{.name = "header",
                  .type = config::FieldType::Boolean,
                  .doc = "tsv: write the column paths as the first row when the file is new or empty",
                  .default_text = "true"},
    config::Field{.name = "escape",
                  .type = config::FieldType::Enum,
                  .doc = "tsv: how TAB, CR, LF, backslash and NUL in a value are written: backslash (\\t \\r "
                         "\\n \\\\ \\0, one row per line) or csv (values with TAB, CR, LF or \" in double "
                         "quotes, as Python's csv module and Slips' labeled_flows.tsv write them)",
                  .default_text = "backslash",
                  .choices = {"backslash", "csv"}},
    config::Field{.name = "line_ending",
                  .type = config::FieldType::Enum,
                  .doc = "What ends each record: lf, or crlf as Slips' labeled_flows.tsv has it",
                  .default_text = "lf",
                  .choices = {"lf", "crlf"}},
    config::Field{.name = "fsync",
                  .type = config::FieldType::Enum,
                  .doc = "When written data is forced to disk: never (left to the kernel), every_batch, or "
                         "interval (at most every fsync_interval_ms, and at stop)",
                  .default_text = "interval",
                  .choices = {"never", "every_batch", "interval"}},
    config::Field{.name = "fsync_interval_ms",
                  .type = config::FieldType::Integer,
                  .doc = "Longest time written data waits for an fsync with fsync: interval, in milliseconds",
                  .default_text = "1000",
                  .min = 1},
}};

FileOutputConfig FileOutputConfig::parse(const config::Section& settings, config::Errors& errors) {
  FileOutputConfig config;
  config.path = settings.string("path");
  RecordLayout& layout = config.layout;
  layout.format = parse_record_format(settings.string("format"));
  layout.columns = settings.strings("columns");
  layout.header = settings.boolean("header");
  layout.escape = settings.string("escape") == "csv" ? TsvEscape::Csv : TsvEscape::Backslash;
  layout.line_ending = settings.string("line_ending") == "crlf" ? LineEnding::CrLf : LineEnding::Lf;
  config.stix_bundle = settings.string("format") == kStixBundle;
  check_layout(settings, layout, errors);
  const std::string fsync = settings.string("fsync");
  config.fsync = fsync == "never"         ? FsyncPolicy::Never
                 : fsync == "every_batch" ? FsyncPolicy::EveryBatch
                                          : FsyncPolicy::Interval;
  config.fsync_interval = std::chrono::milliseconds(settings.integer("fsync_interval_ms"));
  return config;
}

std::unique_ptr<Output> FileOutput::create(const config::Section& settings, config::Errors& errors) {
  return std::make_unique<FileOutput>(FileOutputConfig::parse(settings, errors));
}

FileOutput::~FileOutput() {
  if (fd_ >= 0) {
    ::close(fd_);
  }
}

void FileOutput::start(OutputContext& context) {
  if (config_.stix_bundle) {
    bundle_ = std::make_unique<StixBundleFile>(config_.path);
    try {
      bundle_->open();
    } catch (const std::runtime_error& error) {
      throw std::runtime_error(
          fmt::format("{} \"{}\": {}", component_kind_name(context.kind()), context.id(), error.what()));
    }
    context.log().info("Keeping a STIX bundle in a file. path={} objects={}", config_.path.string(),
                       bundle_->object_count());
    return;
  }

  std::error_code error;
  if (config_.path.has_parent_path()) {
    std::filesystem::create_directories(config_.path.parent_path(), error);
  }
  fd_ = ::open(config_.path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, kFileMode);
  if (fd_ < 0) {
    throw std::runtime_error(fmt::format("{} \"{}\": cannot open {} for appending: {}; check the path and its "
                                         "permissions",
                                         component_kind_name(context.kind()), context.id(), config_.path.string(),
                                         std::strerror(errno)));
  }
  last_sync_ = std::chrono::steady_clock::now();
  cut_partial_last_line(context);
  write_header(context);
  context.log().info("Writing to file. path={}", config_.path.string());
}

// A process killed in the middle of write() can leave part of a batch, its
// last line cut. That batch was not acknowledged and is written again, so
// cutting the file back to its last line break keeps every line whole.
void FileOutput::cut_partial_last_line(OutputContext& context) {
  // fd_ is write-only, so the file is read through a second descriptor.
  const int reader = ::open(config_.path.c_str(), O_RDONLY | O_CLOEXEC);
  if (reader < 0) {
    return;
  }
  struct stat status {};
  char last = '\n';
  if (::fstat(reader, &status) != 0 || status.st_size == 0 || ::pread(reader, &last, 1, status.st_size - 1) != 1 ||
      last == '\n') {
    ::close(reader);
    return;
  }

  constexpr off_t kChunkBytes = 64 * 1024;
  std::vector<char> chunk;
  off_t keep = 0;
  for (off_t end = status.st_size; end > 0;) {
    const off_t start = std::max<off_t>(0, end - kChunkBytes);
    chunk.resize(static_cast<std::size_t>(end - start));
    if (::pread(reader, chunk.data(), chunk.size(), start) != static_cast<ssize_t>(chunk.size())) {
      break;
    }
    const auto newline = std::find(chunk.rbegin(), chunk.rend(), '\n');
    if (newline != chunk.rend()) {
      keep = start + static_cast<off_t>(chunk.rend() - newline);
      break;
    }
    end = start;
  }
  ::close(reader);

  if (::ftruncate(fd_, keep) == 0) {
    context.log().warn("The file ended in a cut line, left by an earlier run that stopped while writing; removed "
                       "it, and the batch it belonged to is written again. path={} removed_bytes={}",
                       config_.path.string(), status.st_size - keep);
  }
}

void FileOutput::write_header(OutputContext& context) {
  const std::string header = writer_.header();
  struct stat status {};
  if (header.empty() || ::fstat(fd_, &status) != 0 || status.st_size != 0) {
    return;
  }
  if (const int error = write_fully(fd_, header); error != 0) {
    throw std::runtime_error(fmt::format("{} \"{}\": writing the header row to {} failed: {}",
                                         component_kind_name(context.kind()), context.id(), config_.path.string(),
                                         std::strerror(error)));
  }
  unsynced_ = true;
}

DeliveryResult FileOutput::deliver(const BatchPtr& batch, OutputContext& context) {
  if (bundle_) {
    return bundle_->add(*batch, context);
  }
  write(batch, context);
  return DeliveryResult::delivered();
}

void FileOutput::write(const BatchPtr& batch, OutputContext& context) {
  buffer_.clear();
  writer_.append(*batch, buffer_);

  const off_t size_before = ::lseek(fd_, 0, SEEK_END);
  if (const int error = write_fully(fd_, buffer_); error != 0) {
    // Cut a partly written batch off again, so the next record does not
    // continue a broken line; the batch is read again after a restart.
    if (size_before >= 0) {
      [[maybe_unused]] const int ignored = ::ftruncate(fd_, size_before);
    }
    throw std::runtime_error(
        fmt::format("writing to {} failed: {}", config_.path.string(), std::strerror(error)));
  }
  unsynced_ = true;

  const bool interval_passed = std::chrono::steady_clock::now() - last_sync_ >= config_.fsync_interval;
  if (config_.fsync == FsyncPolicy::EveryBatch || (config_.fsync == FsyncPolicy::Interval && interval_passed)) {
    sync(context);
  }
}

void FileOutput::sync(OutputContext& context) {
  if (::fdatasync(fd_) != 0) {
    context.metrics().errors.fetch_add(1, std::memory_order_relaxed);
    context.log().warn("fsync failed; data stays in the page cache. path={} error=\"{}\"", config_.path.string(),
                       std::strerror(errno));
  }
  unsynced_ = false;
  last_sync_ = std::chrono::steady_clock::now();
}

void FileOutput::stop(OutputContext& context) {
  if (fd_ < 0) {
    return;
  }
  if (unsynced_ && config_.fsync != FsyncPolicy::Never) {
    sync(context);
  }
  ::close(fd_);
  fd_ = -1;
}

SLIPWAY_REGISTER_OUTPUT("file",
                        "Appends events to a file as JSON lines, alerts.log lines or TSV rows, or keeps one STIX bundle", FileOutputConfig::kSchema,
                        &FileOutput::create);

}  // namespace slipway::outputs
