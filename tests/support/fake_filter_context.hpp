// A FilterContext for filter tests. A test passes batches through run(),
// on its own thread, and then reads what the filter emitted, on which
// port, and what it sent to the dead-letter file. The received and sent
// counters move as the engine moves them.
#pragma once

#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "engine/component.hpp"

namespace slipway::testing {

class FakeFilterContext final : public FilterContext {
 public:
  // Dead letters go to `work_dir/dead_letter.json`.
  explicit FakeFilterContext(const std::filesystem::path& work_dir, std::string type = "test");

  // Counts the batch as received and passes it to `filter`, as the engine's
  // filter thread does.
  void run(Filter& filter, const BatchPtr& batch);

  void emit(Batch batch) override;
  void forward(const BatchPtr& batch) override;
  void emit_to(std::string_view port, Batch batch) override;

  struct Emitted {
    std::string port;  // empty for the default port
    BatchPtr batch;
  };
  const std::vector<Emitted>& emitted() const { return emitted_; }
  // Every event emitted on any port, in order.
  std::vector<Event> events() const;
  std::vector<std::string> event_texts() const;

  const std::filesystem::path& dead_letter_path() const { return dead_letter_path_; }
  // The dead-letter file's lines; empty when nothing was dead-lettered.
  std::vector<std::string> dead_letter_lines() const;

 private:
  void record(std::string port, BatchPtr batch);

  std::filesystem::path dead_letter_path_;
  std::vector<Emitted> emitted_;
};

}  // namespace slipway::testing
