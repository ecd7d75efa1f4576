// Hot-path costs of the JSON layer on Slips-style alert lines (600 to 900
// bytes each): decoding a clean line as an input does, repairing a broken
// one, and building and writing a document as filters do.
#include <benchmark/benchmark.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>
#include <unistd.h>
#include <vector>

#include "engine/json.hpp"
#include "engine/json_line.hpp"

namespace {

constexpr int kGeneratedLines = 10'000;
constexpr int kGeneratorSeed = 42;

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
// into a temporary file; an empty result makes every benchmark skip.
std::vector<std::string> load_alert_lines() {
  if (const char* path = std::getenv("SLIPWAY_BENCH_ALERTS")) {
    return read_lines(path);
  }
  const std::filesystem::path output =
      std::filesystem::temp_directory_path() / ("slipway-bench-alerts-" + std::to_string(getpid()) + ".json");
  const std::string command = "python3 '" SLIPWAY_SHARED_DIR "/tools/gen_bench_alerts.py' -n " +
                              std::to_string(kGeneratedLines) + " --seed " + std::to_string(kGeneratorSeed) +
                              " -o '" + output.string() + "'";
  if (std::system(command.c_str()) != 0) {
    return {};
  }
  std::vector<std::string> lines = read_lines(output);
  std::filesystem::remove(output);
  return lines;
}

const std::vector<std::string>& alert_lines() {
  static const std::vector<std::string> lines = load_alert_lines();
  return lines;
}

// The same lines, each with one Latin-1 byte in its first string, so every
// line takes the repairing path.
const std::vector<std::string>& broken_alert_lines() {
  static const std::vector<std::string> lines = [] {
    std::vector<std::string> broken = alert_lines();
    for (std::string& line : broken) {
      const std::size_t value_start = line.find(": \"");
      if (value_start != std::string::npos) {
        const std::size_t split = value_start + 3;
        line = line.substr(0, split) + '\xE9' + line.substr(split);
      }
    }
    return broken;
  }();
  return lines;
}

bool skip_without_lines(benchmark::State& state, const std::vector<std::string>& lines) {
  if (lines.empty()) {
    state.SkipWithError(
        "no alert lines: set SLIPWAY_BENCH_ALERTS to a JSON-lines file or make python3 and "
        "gen_bench_alerts.py available");
    return true;
  }
  return false;
}

// Runs `body` once per iteration on the next line, cycling through `lines`.
template <typename Body>
void run_over_lines(benchmark::State& state, const std::vector<std::string>& lines, Body body) {
  if (skip_without_lines(state, lines)) {
    return;
  }
  std::size_t line_idx = 0;
  std::int64_t bytes = 0;
  for (auto _ : state) {
    const std::string& line = lines[line_idx];
    body(line);
    bytes += static_cast<std::int64_t>(line.size());
    line_idx = line_idx + 1 == lines.size() ? 0 : line_idx + 1;
  }
  state.SetItemsProcessed(state.iterations());
  state.SetBytesProcessed(bytes);
}

void BM_DecodeCleanLine(benchmark::State& state) {
  slipway::json::LineDecoder decoder;
  run_over_lines(state, alert_lines(), [&](const std::string& line) {
    slipway::json::DecodedLine decoded = decoder.decode(line);
    benchmark::DoNotOptimize(decoded);
  });
}
BENCHMARK(BM_DecodeCleanLine);

void BM_DecodeRepairedLine(benchmark::State& state) {
  slipway::json::LineDecoder decoder;
  run_over_lines(state, broken_alert_lines(), [&](const std::string& line) {
    slipway::json::DecodedLine decoded = decoder.decode(line);
    benchmark::DoNotOptimize(decoded);
  });
}
BENCHMARK(BM_DecodeRepairedLine);

void BM_Parse(benchmark::State& state) {
  run_over_lines(state, alert_lines(), [](const std::string& line) {
    slipway::json::ParseResult parsed = slipway::json::parse(line);
    benchmark::DoNotOptimize(parsed);
  });
}
BENCHMARK(BM_Parse);

void BM_ParseAndWrite(benchmark::State& state) {
  std::string out;
  run_over_lines(state, alert_lines(), [&](const std::string& line) {
    const slipway::json::ParseResult parsed = slipway::json::parse(line);
    out.clear();
    slipway::json::write(*parsed.value, out);
    benchmark::DoNotOptimize(out.data());
  });
}
BENCHMARK(BM_ParseAndWrite);

// Writes documents that are already in cache, as a filter does right after
// changing one; cycling through all 10 000 would mostly measure cache misses.
void BM_Write(benchmark::State& state) {
  constexpr std::size_t kDocuments = 64;
  if (skip_without_lines(state, alert_lines())) {
    return;
  }
  std::vector<slipway::json::Value> values;
  for (std::size_t line_idx = 0; line_idx < kDocuments && line_idx < alert_lines().size(); ++line_idx) {
    values.push_back(*slipway::json::parse(alert_lines()[line_idx]).value);
  }
  std::string out;
  std::size_t value_idx = 0;
  for (auto _ : state) {
    out.clear();
    slipway::json::write(values[value_idx], out);
    benchmark::DoNotOptimize(out.data());
    value_idx = value_idx + 1 == values.size() ? 0 : value_idx + 1;
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_Write);

}  // namespace

BENCHMARK_MAIN();
