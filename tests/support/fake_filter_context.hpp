// A FilterContext for filter tests. It runs nothing on its own: a test
// calls the filter's process() on its own thread and then reads what the
// filter emitted, on which port, and what it sent to the dead-letter file.
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
  std::filesystem::path dead_letter_path_;
  std::vector<Emitted> emitted_;
};

}  // namespace slipway::testing
