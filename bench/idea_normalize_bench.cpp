// Per-alert cost of the idea_normalize filter. The IDEA0 lines, shaped like
// Slips 1.1.1 output, come from gen_bench_alerts.py -n 10000 --seed 42 or
// from the file SLIPWAY_BENCH_ALERTS names. The IDMEFv2 and Redis lines come
// from gen_slips_alerts.py --seed 42 --evidence 5000. A simdjson parse of
// the same lines is measured too, as the floor under any normalizer.
#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <memory>
#include <string>
#include <vector>

#include <benchmark/benchmark.h>
#include <simdjson.h>
#include <spdlog/sinks/null_sink.h>

#include "engine/component.hpp"
#include "filters/idea/idea_normalize.hpp"
#include "filters/idea/normalizer.hpp"

namespace slipway {
namespace {

constexpr int kGeneratedBenchLines = 10'000;
constexpr int kGeneratedEvidence = 5'000;
constexpr int kGeneratorSeed = 42;
constexpr std::size_t kEventsPerBatch = 1024;

std::vector<std::string> read_lines(const std::filesystem::path& path) {
  std::vector<std::string> lines;
  std::ifstream stream(path, std::ios::binary);
  for (std::string line; std::getline(stream, line);) {
    if (!line.empty()) {
      lines.push_back(line);
    }
  }
  return lines;
}

std::filesystem::path scratch_dir() {
  return std::filesystem::temp_directory_path() / ("slipway-idea-bench-" + std::to_string(getpid()));
}

// Removes the generated files when the process ends.
struct ScratchCleanup {
  ScratchCleanup() = default;
  ScratchCleanup(const ScratchCleanup&) = delete;
  ScratchCleanup& operator=(const ScratchCleanup&) = delete;
  ~ScratchCleanup() {
    std::error_code ignored;
    std::filesystem::remove_all(scratch_dir(), ignored);
  }
};
const ScratchCleanup kScratchCleanup;

const std::vector<std::string>& bench_alerts() {
  static const std::vector<std::string> lines = [] {
    if (const char* path = std::getenv("SLIPWAY_BENCH_ALERTS")) {
      return read_lines(path);
    }
    std::filesystem::create_directories(scratch_dir());
    const std::filesystem::path output = scratch_dir() / "bench-alerts.json";
    const std::string command = "python3 '" SLIPWAY_SHARED_DIR "/tools/gen_bench_alerts.py' -n " +
                                std::to_string(kGeneratedBenchLines) + " --seed " + std::to_string(kGeneratorSeed) +
                                " -o '" + output.string() + "'";
    return std::system(command.c_str()) == 0 ? read_lines(output) : std::vector<std::string>{};
  }();
  return lines;
}

// Runs gen_slips_alerts.py once and returns one of the files it wrote.
std::vector<std::string> slips_output(const std::string& file_name) {
  static const bool generated = [] {
    std::filesystem::create_directories(scratch_dir());
    const std::string command = "python3 '" SLIPWAY_SHARED_DIR "/tools/gen_slips_alerts.py' --out '" +
                                (scratch_dir() / "slips").string() + "' --seed " + std::to_string(kGeneratorSeed) +
                                " --evidence " + std::to_string(kGeneratedEvidence) + " > /dev/null";
    return std::system(command.c_str()) == 0;
  }();
  return generated ? read_lines(scratch_dir() / "slips" / file_name) : std::vector<std::string>{};
}

const std::vector<std::string>& idmef_alerts() {
  static const std::vector<std::string> lines = slips_output("alerts.json");
  return lines;
}

const std::vector<std::string>& redis_evidence() {
  static const std::vector<std::string> lines = slips_output("redis_evidence_added.jsonl");
  return lines;
}

bool skip_without_lines(benchmark::State& state, const std::vector<std::string>& lines) {
  if (lines.empty()) {
    state.SkipWithError("no alert lines: set SLIPWAY_BENCH_ALERTS or make python3 and the shared generators available");
    return true;
  }
  return false;
}

void BM_ParseOnlyBenchAlerts(benchmark::State& state) {
  const std::vector<std::string>& lines = bench_alerts();
  if (skip_without_lines(state, lines)) {
    return;
  }
  simdjson::dom::parser parser;
  std::size_t index = 0;
  for (auto _ : state) {
    simdjson::dom::element document;
    if (parser.parse(lines[index]).get(document) != simdjson::SUCCESS) {
      state.SkipWithError("simdjson rejected a line");
      break;
    }
    benchmark::DoNotOptimize(document);
    index = index + 1 == lines.size() ? 0 : index + 1;
  }
  state.SetItemsProcessed(state.iterations());
}

void normalize_lines(benchmark::State& state, const std::vector<std::string>& lines) {
  if (skip_without_lines(state, lines)) {
    return;
  }
  filters::idea::Normalizer normalizer(filters::idea::NormalizerOptions{});
  std::string out;
  std::string reason;
  std::size_t index = 0;
  for (auto _ : state) {
    out.clear();
    if (!normalizer.normalize(lines[index], out, reason)) {
      state.SkipWithError(reason.c_str());
      break;
    }
    benchmark::DoNotOptimize(out.data());
    index = index + 1 == lines.size() ? 0 : index + 1;
  }
  state.SetItemsProcessed(state.iterations());
}

void BM_NormalizeBenchAlerts(benchmark::State& state) { normalize_lines(state, bench_alerts()); }
void BM_NormalizeIdmefAlerts(benchmark::State& state) { normalize_lines(state, idmef_alerts()); }
void BM_NormalizeRedisEvidence(benchmark::State& state) { normalize_lines(state, redis_evidence()); }

// A FilterContext that discards what the filter emits.
class DiscardingContext final : public FilterContext {
 public:
  DiscardingContext()
      : FilterContext(ComponentKind::Filter, "bench", "idea_normalize",
                      std::make_shared<spdlog::logger>("bench", std::make_shared<spdlog::sinks::null_sink_mt>()),
                      std::filesystem::temp_directory_path(), nullptr) {}
  void emit(Batch batch) override { benchmark::DoNotOptimize(batch.events.data()); }
  void forward(const BatchPtr& batch) override { benchmark::DoNotOptimize(batch.get()); }
  void emit_to(std::string_view /*port*/, Batch batch) override { benchmark::DoNotOptimize(batch.events.data()); }
};

// The whole filter step as the pipeline runs it, with each event's output
// string and the batch handling included.
void BM_FilterProcessBenchAlerts(benchmark::State& state) {
  const std::vector<std::string>& lines = bench_alerts();
  if (skip_without_lines(state, lines)) {
    return;
  }
  std::vector<BatchPtr> batches;
  for (std::size_t start = 0; start < lines.size(); start += kEventsPerBatch) {
    auto batch = std::make_shared<Batch>();
    for (std::size_t index = start; index < std::min(lines.size(), start + kEventsPerBatch); ++index) {
      batch->events.push_back(Event{lines[index], {}});
    }
    batches.push_back(std::move(batch));
  }
  filters::IdeaNormalize filter(filters::idea::NormalizerOptions{});
  DiscardingContext context;
  std::int64_t events = 0;
  for (auto _ : state) {
    for (const BatchPtr& batch : batches) {
      filter.process(batch, context);
      events += static_cast<std::int64_t>(batch->events.size());
    }
  }
  state.SetItemsProcessed(events);
}

BENCHMARK(BM_ParseOnlyBenchAlerts);
BENCHMARK(BM_NormalizeBenchAlerts);
BENCHMARK(BM_NormalizeIdmefAlerts);
BENCHMARK(BM_NormalizeRedisEvidence);
BENCHMARK(BM_FilterProcessBenchAlerts)->Unit(benchmark::kMillisecond);

}  // namespace
}  // namespace slipway

BENCHMARK_MAIN();
