// Helpers for filter tests: a FilterContext that records what a filter
// sends per port, settings built from inline YAML as the loader builds
// them, and a clock that tests move by hand.
#pragma once

#include <chrono>
#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include <gtest/gtest.h>
#include <spdlog/sinks/null_sink.h>
#include <yaml-cpp/yaml.h>

#include "config/errors.hpp"
#include "config/schema.hpp"
#include "engine/component.hpp"
#include "filters/clock.hpp"

namespace slipway::filters::testing {

class RecordingContext final : public FilterContext {
 public:
  explicit RecordingContext(std::filesystem::path data_dir = {}, std::string id = "under_test")
      : FilterContext(ComponentKind::Filter, std::move(id), "test",
                      std::make_shared<spdlog::logger>("test", std::make_shared<spdlog::sinks::null_sink_mt>()),
                      std::move(data_dir), nullptr) {}

  void emit(Batch batch) override { emit_to("", std::move(batch)); }

  void forward(const BatchPtr& batch) override {
    ++forwarded_batches;
    batches[""].push_back(batch);
  }

  void emit_to(std::string_view port, Batch batch) override {
    if (!batch.events.empty()) {
      batches[std::string(port)].push_back(std::make_shared<const Batch>(std::move(batch)));
    }
  }

  // The event texts sent on `port`, in order.
  std::vector<std::string> events(const std::string& port = "") const {
    std::vector<std::string> texts;
    const auto found = batches.find(port);
    if (found != batches.end()) {
      for (const BatchPtr& batch : found->second) {
        for (const Event& event : batch->events) {
          texts.push_back(event.json);
        }
      }
    }
    return texts;
  }

  std::size_t count(const std::string& port = "") const { return events(port).size(); }

  std::map<std::string, std::vector<BatchPtr>> batches;
  std::size_t forwarded_batches = 0;
};

// The parsed YAML must outlive the Section that refers to it.
struct TestSettings {
  YAML::Node node;
  config::Section section;
};

// Builds settings from YAML and runs the schema check the loader runs.
inline TestSettings settings_from(const config::Schema& schema, const std::string& yaml, const std::string& context,
                                  config::Errors& errors) {
  YAML::Node node = YAML::Load(yaml);
  config::check_against_schema(node, schema, context, "test.yaml", "", errors);
  return TestSettings{node, config::Section(node, &schema, context, "test.yaml")};
}

inline std::vector<std::string> problem_texts(const config::Errors& errors) {
  std::vector<std::string> texts;
  for (const config::Problem& problem : errors.problems()) {
    texts.push_back(problem.format());
  }
  return texts;
}

inline BatchPtr batch_of(std::vector<std::string> lines, std::vector<AckRef> acks = {}) {
  auto batch = std::make_shared<Batch>();
  for (std::string& line : lines) {
    batch->events.push_back(Event{std::move(line), {}});
  }
  batch->acks = std::move(acks);
  return batch;
}

inline std::vector<std::string> read_lines(const std::filesystem::path& path) {
  std::vector<std::string> lines;
  std::ifstream stream(path);
  std::string line;
  while (std::getline(stream, line)) {
    if (!line.empty()) {
      lines.push_back(line);
    }
  }
  return lines;
}

// A clock that moves only through advance() or when a filter sleeps on it:
// sleep_until() jumps to the deadline at once and records it.
class FakeClock final : public Clock {
 public:
  std::int64_t wall_micros() override {
    return wall_start_micros_ + std::chrono::duration_cast<std::chrono::microseconds>(elapsed_).count();
  }
  SteadyTime steady_now() override { return SteadyTime{} + elapsed_; }
  void sleep_until(SteadyTime deadline) override {
    sleeps.push_back(deadline);
    if (deadline > steady_now()) {
      elapsed_ = deadline - SteadyTime{};
    }
  }

  void advance(std::chrono::microseconds step) { elapsed_ += step; }
  void set_wall_start(std::int64_t micros) { wall_start_micros_ = micros; }

  std::vector<SteadyTime> sleeps;

 private:
  std::int64_t wall_start_micros_ = 1'712'656'800'000'000;  // 2024-04-09T10:00:00Z
  SteadyTime::duration elapsed_{};
};

}  // namespace slipway::filters::testing
