// Throughput of file -> http: runs the slipway binary over a JSON-lines
// alert file with an http output pointed at a loopback sink in this
// process, and prints alerts/s, MB/s, the CPU seconds and the peak RSS of
// the slipway process for a few output settings, after a file -> file run
// of the same input as the baseline. The sink is the test suite's
// HttpTestServer with recording off, so it counts lines and keeps no body.
// The CPU column matters on a loaded machine, where wall time varies.
//
//   slipway_bench_http build/slipway alerts-1000000.json [WORK_DIR]
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include <fmt/format.h>

#include "tests/support/http_test_server.hpp"

namespace {

struct Variant {
  const char* name;
  // Output keys, indented by 4, as a fmt format string with {work}; the
  // first variant is the file output baseline.
  const char* settings;
  bool counts_lines;  // json_array bodies have no line breaks to count
};

constexpr Variant kVariants[] = {
    {"file -> file (baseline)", "    type: file\n    path: {work}/out.json\n    fsync: never\n", true},
    {"file -> http json_lines", "    batch_max_events: 1000\n", true},
    {"file -> http json_lines gzip", "    batch_max_events: 1000\n    compression: gzip\n", true},
    {"file -> http json_array", "    batch_max_events: 1000\n    encoding: {{codec: json_array}}\n", false},
    {"file -> http json_lines, disk buffer", "    batch_max_events: 1000\n    buffer: {{type: disk}}\n", true},
};

std::uint64_t count_lines(const std::filesystem::path& path) {
  std::ifstream stream(path, std::ios::binary);
  std::vector<char> chunk(1 << 20);
  std::uint64_t lines = 0;
  while (stream.read(chunk.data(), static_cast<std::streamsize>(chunk.size())) || stream.gcount() > 0) {
    lines += static_cast<std::uint64_t>(std::count(chunk.data(), chunk.data() + stream.gcount(), '\n'));
  }
  return lines;
}

struct Measurement {
  double seconds = 0;
  double cpu_seconds = 0;  // user and system time of the slipway process
  double peak_rss_mib = 0;
  int exit_code = -1;
};

// Runs `slipway run CONFIG`; returns the wall time and the child's peak RSS.
Measurement run_slipway(const std::string& slipway, const std::filesystem::path& config) {
  const auto start = std::chrono::steady_clock::now();
  const pid_t pid = ::fork();
  if (pid == 0) {
    const std::string config_text = config.string();
    ::execl(slipway.c_str(), slipway.c_str(), "--log-level", "warn", "run", config_text.c_str(),
            static_cast<char*>(nullptr));
    ::_exit(127);
  }
  int status = 0;
  rusage usage{};
  ::wait4(pid, &status, 0, &usage);
  Measurement measurement;
  measurement.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  measurement.cpu_seconds = static_cast<double>(usage.ru_utime.tv_sec + usage.ru_stime.tv_sec) +
                            static_cast<double>(usage.ru_utime.tv_usec + usage.ru_stime.tv_usec) / 1e6;
  // Linux starts a child's maximum RSS at the RSS of the process it was
  // forked from, so this process keeps no bodies.
  measurement.peak_rss_mib = static_cast<double>(usage.ru_maxrss) / 1024.0;
  measurement.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  return measurement;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 3) {
    std::fprintf(stderr, "usage: %s SLIPWAY_BINARY ALERTS_FILE [WORK_DIR]\n", argv[0]);
    return 64;
  }
  const std::string slipway = argv[1];
  const std::filesystem::path alerts = std::filesystem::absolute(argv[2]);
  const std::filesystem::path work = std::filesystem::absolute(argc > 3 ? argv[3] : "bench-http-work");
  std::filesystem::create_directories(work);
  const std::uint64_t expected = count_lines(alerts);
  const double size_mb = static_cast<double>(std::filesystem::file_size(alerts)) / 1e6;

  fmt::print("{:34} {:>12} {:>8} {:>8} {:>10}\n", "pipeline", "alerts/s", "MB/s", "CPU s", "peak RSS");
  for (const Variant& variant : kVariants) {
    const bool baseline = &variant == &kVariants[0];
    slipway::testing::HttpTestServer sink;
    sink.set_recording(false);
    std::filesystem::remove_all(work / "var");
    const std::filesystem::path config = work / "pipeline.yaml";
    std::string output = fmt::format(fmt::runtime(variant.settings), fmt::arg("work", work.string()));
    if (!baseline) {
      output = fmt::format("    type: http\n    url: {}\n{}", sink.url("/ingest"), output);
    }
    std::ofstream(config) << fmt::format(R"(data_dir: {}
inputs:
  alerts:
    type: file
    paths: [{}]
    exit_at_eof: true
outputs:
  sink:
    from: [alerts]
{})",
                                         (work / "var").string(), alerts.string(), output);

    const Measurement measurement = run_slipway(slipway, config);
    if (measurement.exit_code != 0) {
      std::fprintf(stderr, "%s: slipway exited with %d\n", variant.name, measurement.exit_code);
      return 1;
    }
    const std::uint64_t received = baseline ? count_lines(work / "out.json") : sink.received_lines();
    if (variant.counts_lines && received != expected) {
      std::fprintf(stderr, "%s: the sink received %llu lines, expected %llu\n", variant.name,
                   static_cast<unsigned long long>(received), static_cast<unsigned long long>(expected));
      return 1;
    }
    if (!baseline && sink.request_count() == 0) {
      std::fprintf(stderr, "%s: the sink received no request\n", variant.name);
      return 1;
    }
    fmt::print("{:34} {:>12.0f} {:>8.0f} {:>8.1f} {:>8.1f}MB\n", variant.name,
               static_cast<double>(expected) / measurement.seconds, size_mb / measurement.seconds,
               measurement.cpu_seconds, measurement.peak_rss_mib);
    std::filesystem::remove(work / "out.json");
    std::fflush(stdout);
  }
  return 0;
}
