#include "tests/support/fake_filter_context.hpp"

#include <fstream>

#include <spdlog/sinks/null_sink.h>

#include "engine/dead_letter.hpp"

namespace slipway::testing {

namespace {

constexpr std::string_view kDeadLetterFileName = "dead_letter.json";

std::shared_ptr<spdlog::logger> make_quiet_logger(const std::string& type) {
  return std::make_shared<spdlog::logger>("filter." + type + ".test", std::make_shared<spdlog::sinks::null_sink_mt>());
}

}  // namespace

FakeFilterContext::FakeFilterContext(const std::filesystem::path& work_dir, std::string type)
    : FilterContext(ComponentKind::Filter, "test", type, make_quiet_logger(type), work_dir,
                    std::make_shared<DeadLetterQueue>(work_dir / kDeadLetterFileName)),
      dead_letter_path_(work_dir / kDeadLetterFileName) {}

void FakeFilterContext::run(Filter& filter, const BatchPtr& batch) {
  metrics().received_events.fetch_add(batch->events.size(), std::memory_order_relaxed);
  filter.process(batch, *this);
}

void FakeFilterContext::emit(Batch batch) { record("", std::make_shared<const Batch>(std::move(batch))); }

void FakeFilterContext::forward(const BatchPtr& batch) { record("", batch); }

void FakeFilterContext::emit_to(std::string_view port, Batch batch) {
  record(std::string(port), std::make_shared<const Batch>(std::move(batch)));
}

void FakeFilterContext::record(std::string port, BatchPtr batch) {
  metrics().sent_events.fetch_add(batch->events.size(), std::memory_order_relaxed);
  emitted_.push_back(Emitted{std::move(port), std::move(batch)});
}

std::vector<Event> FakeFilterContext::events() const {
  std::vector<Event> all;
  for (const Emitted& emitted : emitted_) {
    all.insert(all.end(), emitted.batch->events.begin(), emitted.batch->events.end());
  }
  return all;
}

std::vector<std::string> FakeFilterContext::event_texts() const {
  std::vector<std::string> texts;
  for (const Event& event : events()) {
    texts.push_back(event.json);
  }
  return texts;
}

std::vector<std::string> FakeFilterContext::dead_letter_lines() const {
  std::vector<std::string> lines;
  std::ifstream stream(dead_letter_path_);
  for (std::string line; std::getline(stream, line);) {
    lines.push_back(line);
  }
  return lines;
}

}  // namespace slipway::testing
