#include "outputs/file_output.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <stdexcept>

#include <fmt/format.h>

#include "engine/registry.hpp"

namespace slipway::outputs {

namespace {

// Alerts name hosts and victims, so the file is not world-readable.
constexpr mode_t kFileMode = 0640;

}  // namespace

const config::Schema FileOutputConfig::kSchema{{
    config::Field{.name = "path",
                  .type = config::FieldType::String,
                  .doc = "File to append to; parent directories are created",
                  .required = true},
    config::Field{.name = "format",
                  .type = config::FieldType::Enum,
                  .doc = "json: one JSON object per line; alerts_log: the human-readable line of Slips' alerts.log",
                  .default_text = "json",
                  .choices = kRecordFormatNames},
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

FileOutputConfig FileOutputConfig::parse(const config::Section& settings, config::Errors& /*errors*/) {
  FileOutputConfig config;
  config.path = settings.string("path");
  config.format = parse_record_format(settings.string("format"));
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
  context.log().info("Writing to file. path={}", config_.path.string());
}

void FileOutput::write(const BatchPtr& batch, OutputContext& context) {
  buffer_.clear();
  append_records(*batch, config_.format, buffer_);

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

SLIPWAY_REGISTER_OUTPUT("file", "Appends events to a file as JSON lines or alerts.log lines", FileOutputConfig::kSchema,
                        &FileOutput::create);

}  // namespace slipway::outputs
