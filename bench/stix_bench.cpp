// Per-alert cost of the stix filter's mapping from IDEA0 to a STIX bundle.
// The input is what idea_normalize makes of gen_bench_alerts.py -n 10000
// --seed 42, or of the file SLIPWAY_BENCH_ALERTS names.
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include <benchmark/benchmark.h>

#include "filters/idea/normalizer.hpp"
#include "filters/stix/stix_mapper.hpp"

namespace slipway {
namespace {

constexpr int kGeneratedBenchLines = 10'000;

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

// The generated alerts after idea_normalize.
const std::vector<std::string>& idea_records() {
  static const std::vector<std::string> records = [] {
    std::vector<std::string> lines;
    if (const char* path = std::getenv("SLIPWAY_BENCH_ALERTS")) {
      lines = read_lines(path);
    } else {
      const std::filesystem::path output =
          std::filesystem::temp_directory_path() / ("slipway-stix-bench-" + std::to_string(getpid()) + ".json");
      const std::string command = "python3 '" SLIPWAY_SHARED_DIR "/tools/gen_bench_alerts.py' -n " +
                                  std::to_string(kGeneratedBenchLines) + " --seed 42 -o '" + output.string() + "'";
      if (std::system(command.c_str()) == 0) {
        lines = read_lines(output);
      }
      std::filesystem::remove(output);
    }
    filters::idea::Normalizer normalizer({});
    std::vector<std::string> normalized;
    std::string out;
    std::string reason;
    for (const std::string& line : lines) {
      out.clear();
      if (normalizer.normalize(line, out, reason)) {
        normalized.push_back(out);
      }
    }
    return normalized;
  }();
  return records;
}

void map_records(benchmark::State& state, stix::MapperOptions options) {
  const std::vector<std::string>& records = idea_records();
  if (records.empty()) {
    state.SkipWithError("no alerts: gen_bench_alerts.py failed");
    return;
  }
  stix::StixMapper mapper(std::move(options));
  std::string out;
  std::string reason;
  std::size_t index = 0;
  std::size_t bytes = 0;
  for (auto _ : state) {
    out.clear();
    benchmark::DoNotOptimize(mapper.map(records[index], out, reason));
    bytes += out.size();
    index = index + 1 == records.size() ? 0 : index + 1;
  }
  state.SetItemsProcessed(state.iterations());
  state.counters["output_bytes_per_alert"] = static_cast<double>(bytes) / static_cast<double>(state.iterations());
}

void BM_StixIndicatorOnly(benchmark::State& state) { map_records(state, {}); }
BENCHMARK(BM_StixIndicatorOnly);

void BM_StixAllObjects(benchmark::State& state) {
  stix::MapperOptions options;
  options.sighting = true;
  options.observed_data = true;
  map_records(state, options);
}
BENCHMARK(BM_StixAllObjects);

}  // namespace
}  // namespace slipway

BENCHMARK_MAIN();
