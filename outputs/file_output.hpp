// The `file` output: appends records to a file, as JSON lines, alerts.log
// lines or TSV rows, or keeps one STIX bundle in it (see stix_bundle_file.hpp). A batch counts as delivered once it is written to the
// file; `fsync` decides how soon it also reaches the disk. A TSV header is
// written only into an empty file, so a restart that appends adds none.
#pragma once

#include <chrono>
#include <filesystem>
#include <memory>
#include <string>

#include "config/errors.hpp"
#include "config/schema.hpp"
#include "engine/component.hpp"
#include "outputs/record_format.hpp"
#include "outputs/stix_bundle_file.hpp"

namespace slipway::outputs {

enum class FsyncPolicy { Never, EveryBatch, Interval };

struct FileOutputConfig {
  std::filesystem::path path;
  RecordLayout layout;
  FsyncPolicy fsync = FsyncPolicy::Interval;
  std::chrono::milliseconds fsync_interval{1000};
  bool stix_bundle = false;  // format stix_bundle: one bundle, replaced per batch

  static const config::Schema kSchema;
  static FileOutputConfig parse(const config::Section& settings, config::Errors& errors);
};

class FileOutput final : public Output {
 public:
  explicit FileOutput(FileOutputConfig config) : config_(std::move(config)), writer_(config_.layout) {}
  ~FileOutput() override;

  static std::unique_ptr<Output> create(const config::Section& settings, config::Errors& errors);

  void start(OutputContext& context) override;
  DeliveryResult deliver(const BatchPtr& batch, OutputContext& context) override;
  void write(const BatchPtr& batch, OutputContext& context) override;
  void stop(OutputContext& context) override;

 private:
  void sync(OutputContext& context);
  // Writes the TSV header row when the file is empty.
  void cut_partial_last_line(OutputContext& context);
  void write_header(OutputContext& context);

  FileOutputConfig config_;
  RecordWriter writer_;
  int fd_ = -1;
  std::string buffer_;
  std::chrono::steady_clock::time_point last_sync_{};
  bool unsynced_ = false;
  std::unique_ptr<StixBundleFile> bundle_;  // set with format stix_bundle
};

}  // namespace slipway::outputs
