#include "engine/replay.hpp"

#include <glob.h>
#include <unistd.h>
#include <zlib.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <fstream>
#include <map>
#include <mutex>
#include <stdexcept>
#include <thread>

#include <fmt/format.h>
#include <fmt/ranges.h>
#include <spdlog/spdlog.h>

#include "config/pipeline_config.hpp"
#include "engine/command_support.hpp"
#include "engine/pipeline.hpp"
#include "engine/registry.hpp"
#include "engine/timestamp.hpp"

namespace slipway::replay {

namespace {

constexpr std::string_view kWindowFilterId = "replay_time_window";
constexpr auto kProgressRedraw = std::chrono::milliseconds(200);
constexpr auto kProgressLogInterval = std::chrono::seconds(5);

struct RotatedName {
  std::string base;   // directory and name without rotation and .gz suffixes
  int rotation = 0;   // 0 for the current file
};

RotatedName split_rotation(const std::filesystem::path& path) {
  std::string stem = path.string();
  if (stem.ends_with(".gz")) {
    stem.resize(stem.size() - 3);
  }
  const std::size_t dot = stem.rfind('.');
  const std::string_view suffix = dot == std::string::npos ? "" : std::string_view(stem).substr(dot + 1);
  const bool numbered = !suffix.empty() && suffix.size() <= 6 &&
                        std::all_of(suffix.begin(), suffix.end(), [](char c) { return c >= '0' && c <= '9'; });
  if (!numbered) {
    return RotatedName{stem, 0};
  }
  return RotatedName{stem.substr(0, dot), std::stoi(std::string(suffix))};
}

bool has_glob_characters(std::string_view text) { return text.find_first_of("*?[") != std::string_view::npos; }

std::vector<std::filesystem::path> expand(const std::string& pattern) {
  if (!has_glob_characters(pattern)) {
    if (!std::filesystem::is_regular_file(pattern)) {
      throw std::runtime_error(fmt::format("file not found: {}", pattern));
    }
    return {std::filesystem::absolute(pattern)};
  }

  glob_t matches{};
  const int status = ::glob(pattern.c_str(), 0, nullptr, &matches);
  std::vector<std::filesystem::path> files;
  if (status == 0) {
    for (std::size_t index = 0; index < matches.gl_pathc; ++index) {
      if (std::filesystem::is_regular_file(matches.gl_pathv[index])) {
        files.push_back(std::filesystem::absolute(matches.gl_pathv[index]));
      }
    }
  }
  ::globfree(&matches);
  if (files.empty()) {
    throw std::runtime_error(fmt::format("no file matches {}", pattern));
  }
  return files;
}

std::uint64_t fnv1a(std::string_view text, std::uint64_t hash) {
  for (const char c : text) {
    hash ^= static_cast<unsigned char>(c);
    hash *= 0x100000001b3ULL;
  }
  return hash;
}

// The one file input the replay feeds, named or found.
const config::ComponentConfig* find_input(const config::PipelineConfig& pipeline, const std::string& input_id) {
  std::vector<const config::ComponentConfig*> file_inputs;
  for (const config::ComponentConfig& component : pipeline.components) {
    if (component.kind != ComponentKind::Input) {
      continue;
    }
    if (!input_id.empty() && component.id == input_id) {
      if (component.type->name != "file") {
        throw std::runtime_error(fmt::format("input \"{}\" is of type {}; a replay feeds files to a file input only",
                                             input_id, component.type->name));
      }
      return &component;
    }
    if (component.type->name == "file") {
      file_inputs.push_back(&component);
    }
  }

  if (!input_id.empty()) {
    throw std::runtime_error(fmt::format("the pipeline has no input \"{}\"", input_id));
  }
  if (file_inputs.empty()) {
    throw std::runtime_error("the pipeline has no file input to replay into; add one or pick another pipeline");
  }
  if (file_inputs.size() > 1) {
    std::vector<std::string> ids;
    for (const config::ComponentConfig* component : file_inputs) {
      ids.push_back(component->id);
    }
    throw std::runtime_error(
        fmt::format("the pipeline has several file inputs ({}); name one with --input", fmt::join(ids, ", ")));
  }
  return file_inputs.front();
}

// Puts a time_window filter right after the input: every component that
// read the input now reads the filter.
void insert_window_filter(config::PipelineConfig& pipeline, const std::string& input_id, const ReplayOptions& options) {
  YAML::Node node(YAML::NodeType::Map);
  node["type"] = "time_window";
  node["from"].push_back(input_id);
  node["speed"] = options.speed;
  if (!options.since.empty()) {
    node["since"] = options.since;
  }
  if (!options.until.empty()) {
    node["until"] = options.until;
  }
  if (!options.since.empty() || !options.until.empty()) {
    node["without_time"] = "drop";
  }

  for (config::ComponentConfig& component : pipeline.components) {
    for (config::Upstream& upstream : component.from) {
      if (upstream.id == input_id) {
        upstream.id = std::string(kWindowFilterId);
      }
    }
  }

  config::ComponentConfig filter;
  filter.kind = ComponentKind::Filter;
  filter.id = std::string(kWindowFilterId);
  filter.type = Registry::instance().find(ComponentKind::Filter, "time_window");
  filter.from = {config::Upstream{input_id, ""}};
  filter.node = node;
  filter.context = fmt::format("filter \"{}\" (time_window)", kWindowFilterId);
  const auto first_non_input =
      std::find_if(pipeline.components.begin(), pipeline.components.end(),
                   [](const config::ComponentConfig& component) { return component.kind != ComponentKind::Input; });
  pipeline.components.insert(first_non_input, std::move(filter));
}

// Totals of one output over every file of the replay.
struct OutputTotals {
  std::string type;
  std::uint64_t sent = 0;
  std::uint64_t retried = 0;
  std::uint64_t dead_lettered = 0;
};

// Shows how far the replay is: a redrawn line on a terminal, else a log line every few seconds.
class ProgressReporter {
 public:
  ProgressReporter(bool bar, std::uint64_t total_bytes, std::size_t file_count)
      : bar_(bar), total_bytes_(total_bytes), file_count_(file_count), started_(std::chrono::steady_clock::now()) {}

  void update(std::size_t file_number, std::uint64_t done_bytes, std::uint64_t events) {
    const auto now = std::chrono::steady_clock::now();
    if (!bar_ && now - last_log_ < kProgressLogInterval) {
      return;
    }
    last_log_ = now;

    const double seconds = std::max(1e-3, std::chrono::duration<double>(now - started_).count());
    const double events_per_second = static_cast<double>(events) / seconds;
    const double fraction =
        total_bytes_ == 0 ? 1.0 : std::min(1.0, static_cast<double>(done_bytes) / static_cast<double>(total_bytes_));
    const double bytes_per_second = static_cast<double>(done_bytes) / seconds;
    const auto eta_seconds = bytes_per_second <= 0
                                 ? 0
                                 : static_cast<std::int64_t>(static_cast<double>(total_bytes_ - std::min(done_bytes, total_bytes_)) /
                                                             bytes_per_second);
    if (!bar_) {
      spdlog::info("Replay progress. file={}/{} bytes={}/{} events={} events_per_second={:.0f} eta_seconds={}",
                   file_number, file_count_, done_bytes, total_bytes_, events, events_per_second, eta_seconds);
      return;
    }

    constexpr int kBarWidth = 30;
    const int filled = static_cast<int>(fraction * kBarWidth);
    std::fputs(fmt::format("\r[{:=<{}}{: <{}}] {:3.0f}%  {:.1f}/{:.1f} MB  {:.0f} events/s  ETA {}:{:02}  file {}/{} ",
                           "", filled, "", kBarWidth - filled, fraction * 100, static_cast<double>(done_bytes) / 1e6,
                           static_cast<double>(total_bytes_) / 1e6, events_per_second, eta_seconds / 60,
                           eta_seconds % 60, file_number, file_count_)
                   .c_str(),
               stderr);
    std::fflush(stderr);
  }

  void finish() {
    if (bar_) {
      std::fputs("\n", stderr);
    }
  }

  double elapsed_seconds() const {
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - started_).count();
  }

 private:
  bool bar_;
  std::uint64_t total_bytes_;
  std::size_t file_count_;
  std::chrono::steady_clock::time_point started_;
  std::chrono::steady_clock::time_point last_log_{};
};

void print_summary(const std::map<std::string, OutputTotals>& outputs, std::size_t files_done, std::size_t file_count,
                   std::uint64_t events_read, double seconds, bool interrupted, bool continued) {
  if (continued && events_read == 0 && !interrupted) {
    std::printf("These files were replayed before, so nothing was sent; add --restart to replay them again.\n");
  }
  if (interrupted) {
    std::printf("Replay interrupted after %zu of %zu files; run the same command again to continue.\n", files_done,
                file_count);
  } else {
    std::printf("Replay finished: %zu files, %llu events read in %.1f s.\n", file_count,
                static_cast<unsigned long long>(events_read), seconds);
  }

  std::size_t id_width = 6;
  std::size_t type_width = 4;
  for (const auto& [id, totals] : outputs) {
    id_width = std::max(id_width, id.size());
    type_width = std::max(type_width, totals.type.size());
  }
  std::fputs(fmt::format("{:<{}}  {:<{}}  {:>10}  {:>10}  {:>13}\n", "OUTPUT", id_width, "TYPE", type_width, "SENT",
                         "RETRIED", "DEAD-LETTERED")
                 .c_str(),
             stdout);
  for (const auto& [id, totals] : outputs) {
    std::fputs(fmt::format("{:<{}}  {:<{}}  {:>10}  {:>10}  {:>13}\n", id, id_width, totals.type, type_width,
                           totals.sent, totals.retried, totals.dead_lettered)
                   .c_str(),
               stdout);
  }
}

}  // namespace

std::vector<std::filesystem::path> order_files(const std::vector<std::string>& patterns) {
  std::vector<std::filesystem::path> files;
  for (const std::string& pattern : patterns) {
    for (std::filesystem::path& file : expand(pattern)) {
      if (std::find(files.begin(), files.end(), file) == files.end()) {
        files.push_back(std::move(file));
      }
    }
  }

  std::stable_sort(files.begin(), files.end(), [](const std::filesystem::path& left, const std::filesystem::path& right) {
    const RotatedName left_name = split_rotation(left);
    const RotatedName right_name = split_rotation(right);
    if (left_name.base != right_name.base) {
      return left_name.base < right_name.base;
    }
    if (left_name.rotation != right_name.rotation) {
      return left_name.rotation > right_name.rotation;
    }
    return left < right;
  });
  return files;
}

std::string state_key(const ReplayOptions& options, const std::vector<std::filesystem::path>& files) {
  std::uint64_t hash = 0xcbf29ce484222325ULL;
  hash = fnv1a(options.input_id, hash);
  for (const std::filesystem::path& file : files) {
    hash = fnv1a(std::string_view("\n"), hash);
    hash = fnv1a(file.string(), hash);
  }
  hash = fnv1a("\nsince=" + options.since + "\nuntil=" + options.until, hash);
  return fmt::format("{:016x}", hash);
}

void gunzip_file(const std::filesystem::path& source, const std::filesystem::path& target) {
  gzFile archive = ::gzopen(source.c_str(), "rb");
  if (archive == nullptr) {
    throw std::runtime_error(fmt::format("failed to open {}", source.string()));
  }
  const std::filesystem::path partial = target.string() + ".partial";
  std::ofstream out(partial, std::ios::binary | std::ios::trunc);
  std::vector<char> chunk(1 << 20);
  int count = 0;
  while ((count = ::gzread(archive, chunk.data(), static_cast<unsigned>(chunk.size()))) > 0) {
    out.write(chunk.data(), count);
  }
  int error_code = Z_OK;
  const std::string error = count < 0 ? ::gzerror(archive, &error_code) : "";
  const int close_status = ::gzclose_r(archive);
  out.close();
  if (count < 0 || close_status != Z_OK || !out) {
    std::filesystem::remove(partial);
    throw std::runtime_error(fmt::format("{} is not a complete gzip file ({}); replay the files before it, or "
                                         "repair or remove it",
                                         source.string(), error.empty() ? "unexpected end of data" : error));
  }
  std::filesystem::rename(partial, target);
}

int run(const ReplayOptions& options, const commands::GlobalOptions& global_options) {
  commands::configure_logging(global_options, nullptr);
  std::optional<config::PipelineConfig> loaded = commands::load_and_check(options.config_file);
  if (!loaded) {
    return commands::kExitConfig;
  }
  commands::configure_logging(global_options, &*loaded);
  config::PipelineConfig pipeline_config = std::move(*loaded);

  for (const auto& [name, text] : {std::pair{"--since", options.since}, std::pair{"--until", options.until}}) {
    const timestamp::ParsedTime parsed = timestamp::parse(text, timestamp::TimeZone::utc());
    if (!text.empty() && !parsed.ok()) {
      std::fputs(fmt::format("slipway replay: invalid time \"{}\" for {} ({}); write an RFC 3339 time such as "
                             "2024-03-01T00:00:00Z\n",
                             text, name, timestamp::describe(parsed.error))
                     .c_str(),
                 stderr);
      return commands::kExitUsage;
    }
  }

  std::string input_id;
  std::vector<std::filesystem::path> files;
  std::filesystem::path state_dir;
  try {
    input_id = find_input(pipeline_config, options.input_id)->id;
    files = order_files(options.files);
    ReplayOptions keyed = options;
    keyed.input_id = input_id;
    state_dir = pipeline_config.data_dir / "replays" / state_key(keyed, files);
  } catch (const std::runtime_error& error) {
    std::fputs(fmt::format("slipway replay: {}\n", error.what()).c_str(), stderr);
    return commands::kExitUsage;
  }

  const bool continued = !options.restart && std::filesystem::exists(state_dir);
  if (options.restart) {
    std::filesystem::remove_all(state_dir);
  } else if (continued) {
    spdlog::info("Continuing an earlier replay of these files from its checkpoints; --restart starts over. "
                 "state_dir={}",
                 state_dir.string());
  }
  std::filesystem::create_directories(state_dir / "unpacked");

  // Gzip files are read from an unpacked copy, kept until the replay ends
  // so that an interrupted replay resumes from the same bytes.
  std::vector<std::filesystem::path> plain_files;
  std::uint64_t total_bytes = 0;
  for (std::size_t index = 0; index < files.size(); ++index) {
    std::filesystem::path plain = files[index];
    if (plain.extension() == ".gz") {
      plain = state_dir / "unpacked" / fmt::format("{:04}-{}", index, files[index].stem().string());
      if (!std::filesystem::exists(plain)) {
        try {
          gunzip_file(files[index], plain);
        } catch (const std::exception& error) {
          std::fputs(fmt::format("slipway replay: {}\n", error.what()).c_str(), stderr);
          return commands::kExitFailure;
        }
      }
    }
    total_bytes += std::filesystem::file_size(plain);
    plain_files.push_back(std::move(plain));
  }

  pipeline_config.data_dir = state_dir;
  pipeline_config.dead_letter_path = state_dir / "dead_letter.json";
  pipeline_config.api_address.reset();
  if (!options.since.empty() || !options.until.empty() || options.speed != "0") {
    insert_window_filter(pipeline_config, input_id, options);
  }
  config::ComponentConfig& input = *std::find_if(
      pipeline_config.components.begin(), pipeline_config.components.end(),
      [&](const config::ComponentConfig& component) { return component.id == input_id; });
  input.node["exit_at_eof"] = true;
  input.node["start_at"] = "beginning";

  commands::block_stop_signals();
  std::mutex current_mutex;
  Pipeline* current = nullptr;
  std::atomic<bool> interrupted{false};
  commands::SignalWatcher signals([&] {
    interrupted.store(true);
    std::lock_guard lock(current_mutex);
    if (current != nullptr) {
      current->request_stop();
    }
  });

  ProgressReporter progress(options.progress_bar, total_bytes, plain_files.size());
  std::map<std::string, OutputTotals> outputs;
  std::uint64_t events_read = 0;
  std::uint64_t done_bytes = 0;
  std::size_t files_done = 0;
  for (std::size_t index = 0; index < plain_files.size() && !interrupted.load(); ++index) {
    const std::filesystem::path& file = plain_files[index];
    input.node["paths"] = std::vector<std::string>{file.string()};

    config::Errors errors;
    std::unique_ptr<Pipeline> pipeline;
    try {
      pipeline = Pipeline::build(pipeline_config, errors);
    } catch (const std::exception& error) {
      spdlog::critical("Cannot run the pipeline. error=\"{}\"", error.what());
      return commands::kExitFailure;
    }
    if (!pipeline) {
      std::fputs(errors.format().c_str(), stderr);
      return commands::kExitConfig;
    }
    {
      std::lock_guard lock(current_mutex);
      current = pipeline.get();
    }
    if (interrupted.load()) {
      pipeline->request_stop();
    }

    // Progress is read from the input's counters while the pipeline runs.
    const std::uint64_t file_bytes = std::filesystem::file_size(file);
    const auto input_progress = [&](std::uint64_t& bytes, std::uint64_t& events) {
      for (const ComponentSummary& row : pipeline->summary()) {
        if (row.id == input_id) {
          const std::uint64_t lag = row.lag_bytes < 0 ? file_bytes : static_cast<std::uint64_t>(row.lag_bytes);
          bytes = file_bytes - std::min(lag, file_bytes);
          events = row.sent_events;
        }
      }
    };
    std::mutex progress_mutex;
    std::condition_variable progress_stop;
    bool running = true;
    std::thread reporter([&] {
      std::unique_lock lock(progress_mutex);
      while (!progress_stop.wait_for(lock, kProgressRedraw, [&] { return !running; })) {
        std::uint64_t bytes = 0;
        std::uint64_t events = 0;
        input_progress(bytes, events);
        progress.update(index + 1, done_bytes + bytes, events_read + events);
      }
    });

    pipeline->start();
    pipeline->wait();
    {
      std::lock_guard lock(progress_mutex);
      running = false;
    }
    progress_stop.notify_all();
    reporter.join();

    for (const ComponentSummary& row : pipeline->summary()) {
      if (row.id == input_id) {
        events_read += row.sent_events;
      }
      if (row.kind == ComponentKind::Output) {
        OutputTotals& totals = outputs[row.id];
        totals.type = row.type;
        totals.sent += row.sent_events;
        totals.retried += row.retries;
        totals.dead_lettered += row.dead_lettered_events;
      }
    }
    {
      std::lock_guard lock(current_mutex);
      current = nullptr;
    }
    pipeline.reset();
    if (!interrupted.load()) {
      done_bytes += file_bytes;
      ++files_done;
      progress.update(index + 1, done_bytes, events_read);
    }
  }
  progress.finish();

  const bool was_interrupted = interrupted.load();
  if (!was_interrupted) {
    std::filesystem::remove_all(state_dir / "unpacked");
  }
  print_summary(outputs, files_done, plain_files.size(), events_read, progress.elapsed_seconds(), was_interrupted,
                continued);
  std::uint64_t dead_lettered = 0;
  for (const auto& [id, totals] : outputs) {
    dead_lettered += totals.dead_lettered;
  }
  if (dead_lettered > 0) {
    std::printf("Dead letters are in %s.\n", state_dir.c_str());
  }
  return was_interrupted ? commands::kExitFailure : commands::kExitOk;
}

}  // namespace slipway::replay
