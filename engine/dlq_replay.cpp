// `slipway dlq replay OUTPUT_ID`: sends the events of an output's
// dead-letter file to that output again. The file is first renamed to
// <file>.replaying, so events that fail again are written to a fresh
// dead-letter file by the usual delivery loop, and an interrupted replay
// resumes from the renamed file next time (repeating what it had sent).
#include <signal.h>
#include <unistd.h>

#include <cstdio>
#include <fstream>
#include <memory>
#include <vector>

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include "engine/commands.hpp"
#include "engine/data_dir_lock.hpp"
#include "engine/dead_letter.hpp"
#include "engine/json.hpp"
#include "engine/logging.hpp"
#include "engine/output_runtime.hpp"
#include "engine/registry.hpp"

namespace slipway::commands {

namespace {

constexpr std::size_t kReplayBatchEvents = 500;

// Set by SIGINT and SIGTERM: the delivery loop then stops retrying, and
// what is left stays in the dead-letter file.
ShutdownDeadline* g_replay_deadline = nullptr;

void stop_replay(int /*signal_number*/) {
  if (g_replay_deadline != nullptr) {
    g_replay_deadline->set(std::chrono::steady_clock::now());
  }
}

// The event stored in one dead-letter line, with its origin. Lines of
// records an input or a filter could not read contain no event: empty then.
std::optional<Event> event_of(const std::string& line, std::shared_ptr<const std::string>& last_source) {
  const json::ParseResult parsed = json::parse(line);
  if (!parsed.value || !parsed.value->is_object()) {
    return std::nullopt;
  }
  const json::Value* event = parsed.value->find("event");
  if (event == nullptr || !event->is_object()) {
    return std::nullopt;
  }
  Event result;
  result.json = json::to_string(*event);
  const json::Value* source = parsed.value->find("source");
  if (source != nullptr && source->is_string()) {
    if (!last_source || *last_source != source->as_string()) {
      last_source = std::make_shared<const std::string>(source->as_string());
    }
    result.origin.source = last_source;
  }
  if (const json::Value* number = parsed.value->find("line"); number != nullptr && number->as_int()) {
    result.origin.line = static_cast<std::uint64_t>(*number->as_int());
  }
  if (const json::Value* offset = parsed.value->find("offset"); offset != nullptr && offset->as_int()) {
    result.origin.offset = static_cast<std::uint64_t>(*offset->as_int());
  }
  return result;
}

std::string output_ids(const config::PipelineConfig& config) {
  std::string ids;
  for (const config::ComponentConfig& component : config.components) {
    if (component.kind == ComponentKind::Output) {
      ids += ids.empty() ? component.id : ", " + component.id;
    }
  }
  return ids;
}

struct ReplayCounts {
  std::uint64_t events = 0;
  std::uint64_t kept_lines = 0;  // written back unchanged: no event, or not tried
};

}  // namespace

int dlq_replay(const std::string& output_id, const std::filesystem::path& config_file, const GlobalOptions& options) {
  configure_logging(options, nullptr);
  config::Errors errors;
  std::optional<config::PipelineConfig> config = load_checked_pipeline(config_file, errors);
  std::fputs(errors.format().c_str(), stderr);
  if (!config) {
    return kExitConfig;
  }
  configure_logging(options, &*config);
  const config::ComponentConfig* component = config->find(output_id);
  if (component == nullptr || component->kind != ComponentKind::Output) {
    std::fprintf(stderr, "%s: no output with id \"%s\"; the outputs are: %s\n", config_file.c_str(),
                 output_id.c_str(), output_ids(*config).c_str());
    return kExitUsage;
  }

  int lock_fd = -1;
  try {
    lock_fd = lock_data_dir(config->data_dir);
  } catch (const std::exception& exception) {
    std::fprintf(stderr, "Cannot replay dead letters: %s. A replay needs the pipeline stopped.\n", exception.what());
    return kExitFailure;
  }
  const std::filesystem::path dead_letter_path = output_dead_letter_path(config->data_dir, output_id);
  std::filesystem::path replaying = dead_letter_path;
  replaying += ".replaying";
  std::error_code error;
  if (std::filesystem::exists(replaying)) {
    spdlog::warn("Resuming an interrupted replay; events it had already sent are sent again. file={}",
                 replaying.string());
  } else if (!std::filesystem::exists(dead_letter_path) || std::filesystem::file_size(dead_letter_path, error) == 0) {
    std::printf("%s: no dead letters to replay\n", dead_letter_path.c_str());
    ::close(lock_fd);
    return kExitOk;
  } else {
    std::filesystem::rename(dead_letter_path, replaying);
  }

  const config::Section settings = component->settings(config->file);
  std::unique_ptr<Output> output = component->type->make_output(settings, errors);
  const OutputSettings output_settings =
      OutputSettings::parse(config::Section(component->node, &OutputSettings::kSchema, component->context, config->file));
  auto log = logging::component_logger("output", component->type->name, output_id);
  ComponentContext context(ComponentKind::Output, output_id, component->type->name, log, config->data_dir,
                           std::make_shared<DeadLetterQueue>(config->dead_letter_path));
  try {
    output->start(context);
  } catch (const std::exception& exception) {
    spdlog::critical("Cannot start the output; the dead letters stay in {}. error=\"{}\"", replaying.string(),
                     exception.what());
    ::close(lock_fd);
    return kExitFailure;
  }

  ShutdownDeadline deadline;
  g_replay_deadline = &deadline;
  ::signal(SIGINT, stop_replay);
  ::signal(SIGTERM, stop_replay);
  OutputRunner runner(*output, context, output_settings.retry, std::make_shared<DeadLetterQueue>(dead_letter_path),
                      deadline);

  ReplayCounts counts;
  std::vector<std::string> kept;
  std::ifstream letters(replaying);
  std::string line;
  std::shared_ptr<const std::string> last_source;
  auto batch = std::make_shared<Batch>();
  std::vector<std::string> batch_lines;
  bool stopped = false;
  const auto send_batch = [&] {
    if (batch->events.empty()) {
      return;
    }
    counts.events += batch->events.size();
    if (stopped || !runner.deliver(batch)) {
      // Interrupted: the whole batch stays, as some of it may not have arrived.
      stopped = true;
      kept.insert(kept.end(), batch_lines.begin(), batch_lines.end());
    }
    batch = std::make_shared<Batch>();
    batch_lines.clear();
  };
  while (std::getline(letters, line)) {
    if (line.empty()) {
      continue;
    }
    std::optional<Event> event = event_of(line, last_source);
    if (!event) {
      kept.push_back(line);
      continue;
    }
    batch->events.push_back(std::move(*event));
    batch_lines.push_back(line);
    if (batch->events.size() >= kReplayBatchEvents) {
      send_batch();
    }
  }
  send_batch();
  output->stop(context);
  g_replay_deadline = nullptr;

  if (!kept.empty()) {
    std::ofstream back(dead_letter_path, std::ios::app);
    for (const std::string& kept_line : kept) {
      back << kept_line << '\n';
    }
    if (!back.flush()) {
      spdlog::critical("Writing dead letters back failed; they stay in {}. file={}", replaying.string(),
                       dead_letter_path.string());
      ::close(lock_fd);
      return kExitFailure;
    }
  }
  counts.kept_lines = kept.size();
  std::filesystem::remove(replaying);

  const std::uint64_t delivered = context.metrics().sent_events.load();
  const std::uint64_t failed = context.metrics().dead_lettered_events.load();
  std::printf("output \"%s\": %llu events replayed: %llu delivered, %llu dead-lettered again, %llu lines kept in %s\n",
              output_id.c_str(), static_cast<unsigned long long>(counts.events),
              static_cast<unsigned long long>(delivered), static_cast<unsigned long long>(failed),
              static_cast<unsigned long long>(counts.kept_lines), dead_letter_path.c_str());
  ::close(lock_fd);
  return failed == 0 && counts.kept_lines == 0 ? kExitOk : kExitFailure;
}

}  // namespace slipway::commands
