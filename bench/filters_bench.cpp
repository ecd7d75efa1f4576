// Per-event cost of the route and modify filters on Slips-style alert lines
// (600 to 900 bytes each), alone and chained as in the example pipeline
// route-incidents-to-slack-archive-all.yaml: modify, then route.
#include <benchmark/benchmark.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>
#include <unistd.h>
#include <vector>

#include <spdlog/sinks/null_sink.h>
#include <yaml-cpp/yaml.h>

#include "filters/modify.hpp"
#include "filters/route.hpp"

namespace {

using slipway::Batch;
using slipway::BatchPtr;

constexpr int kGeneratedLines = 10'000;
constexpr int kGeneratorSeed = 42;
// Events per batch, as the file input's default batch_max_events sends them.
constexpr std::size_t kBatchEvents = 1024;

constexpr const char* kModifySettings = R"(
set:
  sensor: slips-1
  received_at: "{{ now | %Y-%m-%dT%H:%M:%SZ }}"
)";

constexpr const char* kRouteSettings = R"(
routes:
  incidents: {field: Category, contains: Intrusion.Botnet}
  everything: {field: ID, exists: true}
)";

std::vector<std::string> read_lines(const std::filesystem::path& path) {
  std::vector<std::string> lines;
  std::ifstream stream(path, std::ios::binary);
  std::string line;
  while (std::getline(stream, line)) {
    if (!line.empty()) {
      lines.push_back(line);
    }
  }
  return lines;
}

// Reads the file SLIPWAY_BENCH_ALERTS names, or runs the shared generator
// into a temporary file; no batches make every benchmark skip.
std::vector<BatchPtr> load_batches() {
  std::vector<std::string> lines;
  if (const char* path = std::getenv("SLIPWAY_BENCH_ALERTS")) {
    lines = read_lines(path);
  } else {
    const std::filesystem::path output = std::filesystem::temp_directory_path() /
                                         ("slipway-bench-filters-" + std::to_string(getpid()) + ".json");
    const std::string command = "python3 '" SLIPWAY_SHARED_DIR "/tools/gen_bench_alerts.py' -n " +
                                std::to_string(kGeneratedLines) + " --seed " + std::to_string(kGeneratorSeed) +
                                " -o '" + output.string() + "'";
    if (std::system(command.c_str()) == 0) {
      lines = read_lines(output);
    }
    std::filesystem::remove(output);
  }

  std::vector<BatchPtr> batches;
  for (std::size_t start = 0; start < lines.size(); start += kBatchEvents) {
    auto batch = std::make_shared<Batch>();
    for (std::size_t line_idx = start; line_idx < std::min(lines.size(), start + kBatchEvents); ++line_idx) {
      batch->events.push_back(slipway::Event{lines[line_idx], {}});
    }
    batches.push_back(std::move(batch));
  }
  return batches;
}

const std::vector<BatchPtr>& alert_batches() {
  static const std::vector<BatchPtr> batches = load_batches();
  return batches;
}

// Discards what a filter sends, or hands it to `next` when set.
class ChainContext final : public slipway::FilterContext {
 public:
  explicit ChainContext(slipway::Filter* next = nullptr, ChainContext* next_context = nullptr)
      : FilterContext(slipway::ComponentKind::Filter, "bench", "bench",
                      std::make_shared<spdlog::logger>("bench", std::make_shared<spdlog::sinks::null_sink_mt>()), {},
                      nullptr),
        next_(next),
        next_context_(next_context) {}

  void emit(Batch batch) override { emit_to("", std::move(batch)); }
  void forward(const BatchPtr& batch) override { pass(batch); }
  void emit_to(std::string_view /*port*/, Batch batch) override {
    pass(std::make_shared<const Batch>(std::move(batch)));
  }

 private:
  void pass(const BatchPtr& batch) {
    if (next_ != nullptr) {
      next_->process(batch, *next_context_);
    }
    benchmark::DoNotOptimize(batch.get());
  }

  slipway::Filter* next_;
  ChainContext* next_context_;
};

std::unique_ptr<slipway::Filter> make_modify() {
  const YAML::Node node = YAML::Load(kModifySettings);
  slipway::config::Errors errors;
  const slipway::config::Section settings(node, &slipway::filters::ModifyConfig::kSchema, "filter \"tag\" (modify)",
                                          "bench.yaml");
  return slipway::filters::ModifyFilter::create(settings, errors);
}

std::unique_ptr<slipway::Filter> make_route() {
  const YAML::Node node = YAML::Load(kRouteSettings);
  slipway::config::Errors errors;
  const slipway::config::Section settings(node, &slipway::filters::RouteConfig::kSchema, "filter \"router\" (route)",
                                          "bench.yaml");
  return slipway::filters::RouteFilter::create(settings, errors);
}

// Feeds every batch to `first` in turn; one iteration is one batch.
void run_batches(benchmark::State& state, slipway::Filter& first, ChainContext& context) {
  const std::vector<BatchPtr>& batches = alert_batches();
  if (batches.empty()) {
    state.SkipWithError(
        "no alert lines: set SLIPWAY_BENCH_ALERTS to a JSON-lines file or make python3 and "
        "gen_bench_alerts.py available");
    return;
  }
  std::size_t batch_idx = 0;
  std::int64_t events = 0;
  for (auto _ : state) {
    first.process(batches[batch_idx], context);
    events += static_cast<std::int64_t>(batches[batch_idx]->events.size());
    batch_idx = batch_idx + 1 == batches.size() ? 0 : batch_idx + 1;
  }
  state.SetItemsProcessed(events);
}

void BM_Route(benchmark::State& state) {
  auto route = make_route();
  ChainContext context;
  run_batches(state, *route, context);
}
BENCHMARK(BM_Route)->Unit(benchmark::kMillisecond);

void BM_Modify(benchmark::State& state) {
  auto modify = make_modify();
  ChainContext context;
  run_batches(state, *modify, context);
}
BENCHMARK(BM_Modify)->Unit(benchmark::kMillisecond);

// Both filters on one thread; in a pipeline each has its own thread.
void BM_ModifyThenRoute(benchmark::State& state) {
  auto modify = make_modify();
  auto route = make_route();
  ChainContext route_context;
  ChainContext modify_context(route.get(), &route_context);
  run_batches(state, *modify, modify_context);
}
BENCHMARK(BM_ModifyThenRoute)->Unit(benchmark::kMillisecond);

}  // namespace

BENCHMARK_MAIN();
