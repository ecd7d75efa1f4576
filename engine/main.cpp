// The slipway command line.
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <fmt/format.h>

#include "engine/commands.hpp"
#include "engine/convert_slips.hpp"
#include "engine/pipeline_tests.hpp"
#include "engine/replay.hpp"

#if defined(SLIPWAY_JEMALLOC)
// jemalloc reads its options from this variable. Freed pages go back to
// the system after one second instead of ten, so the resident size tracks
// the bounded queues rather than the peak of the last ten seconds.
extern "C" {
const char* malloc_conf = "dirty_decay_ms:1000,muzzy_decay_ms:0";
}
#endif

int main(int argc, char** argv) {
  using namespace slipway;

  CLI::App app{"slipway: moves security alerts from where an IDS writes them to where people act on them."};
  app.set_version_flag("--version", std::string("slipway ") + SLIPWAY_VERSION);
  app.require_subcommand(1);

  commands::GlobalOptions options;
  std::string log_format = "text";
  app.add_option("--log-level", options.log_level,
                 "Least severe log level written: trace, debug, info, warn, error, critical or off "
                 "(default: the pipeline's log_level, else info)")
      ->check(CLI::IsMember({"trace", "debug", "info", "warn", "error", "critical", "off"}));
  app.add_option("--log-format", log_format, "Log line format: text, or json for one JSON object per line")
      ->check(CLI::IsMember({"text", "json"}))
      ->capture_default_str();

  std::string config_file;
  CLI::App* run = app.add_subcommand("run", "Run a pipeline until SIGINT/SIGTERM or until every input finishes");
  run->add_option("config", config_file, "Pipeline file (YAML)")->required();
  CLI::App* validate = app.add_subcommand("validate", "Check a pipeline file and list every problem in it");
  validate->add_option("config", config_file, "Pipeline file (YAML)")->required();

  std::string type_name;
  bool markdown = false;
  std::string pages_dir;
  CLI::App* describe =
      app.add_subcommand("describe", "List component types, or print the settings of one type from its schema");
  describe->add_option("type", type_name, "Component type, e.g. file or idea_normalize (default: list all types)");
  describe->add_flag("--markdown", markdown, "Print the settings as a Markdown page");
  describe->add_option("--write-pages", pages_dir, "Write one Markdown page per type and an index into this directory");

  replay::ReplayOptions replay_options;
  std::string replay_config;
  double speed = 0;
  CLI::App* replay = app.add_subcommand(
      "replay", "Run a pipeline over archived alert files (globs, rotated and .gz files, oldest first), then exit");
  replay->add_option("-c,--config", replay_config, "Pipeline file (YAML)")->required();
  replay->add_option("--input", replay_options.input_id,
                     "Id of the file input that reads the files (default: the pipeline's only file input)");
  replay->add_option("--speed", speed, "Pace events at N times the pace of their original times; 0 is as fast as "
                                       "possible")
      ->check(CLI::NonNegativeNumber)
      ->capture_default_str();
  replay->add_option("--since", replay_options.since, "Replay only events at or after this RFC 3339 time");
  replay->add_option("--until", replay_options.until, "Replay only events before this RFC 3339 time");
  replay->add_flag("--restart", replay_options.restart,
                   "Start over instead of continuing an interrupted replay of the same files");
  replay->add_option("files", replay_options.files, "Alert files or glob patterns")->required();

  std::string test_pipeline;
  std::vector<std::string> test_files;
  CLI::App* test = app.add_subcommand(
      "test", "Run the test cases of TESTFILEs against the filters of a pipeline and show a diff for each failure");
  test->add_option("-c,--config", test_pipeline, "Pipeline file (YAML)")->required();
  test->add_option("testfiles", test_files, "Test files (YAML) listing cases: component, input, expected")
      ->required();

  CLI::App* dlq = app.add_subcommand("dlq", "Work with an output's dead-letter file");
  dlq->require_subcommand(1);
  CLI::App* dlq_replay = dlq->add_subcommand(
      "replay", "Send the events in an output's dead-letter file to that output again; the pipeline must be stopped");
  std::string output_id;
  dlq_replay->add_option("output_id", output_id, "Id of the output whose dead letters are sent again")->required();
  dlq_replay->add_option("-c,--config", config_file, "Pipeline file (YAML) that defines the output")->required();

  std::string slips_file;
  std::string warden_conf_file;
  CLI::App* convert = app.add_subcommand(
      "convert-slips", "Print a pipeline that does what the exporting settings of a Slips configuration do");
  convert->add_option("slips_yaml", slips_file, "Slips configuration file, e.g. /opt/Slips/config/slips.yaml")
      ->required();
  convert->add_option("--warden-conf", warden_conf_file,
                      "warden.conf for the Warden components, instead of the file cesnet.configuration_file names");

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& error) {
    const int code = app.exit(error);
    return code == 0 ? commands::kExitOk : commands::kExitUsage;
  }
  options.log_format = log_format == "json" ? logging::Format::Json : logging::Format::Text;

  if (convert->parsed()) {
    std::optional<std::filesystem::path> warden_conf;
    if (!warden_conf_file.empty()) {
      warden_conf = warden_conf_file;
    }
    return convert_slips::run(slips_file, warden_conf);
  }
  if (test->parsed()) {
    return pipeline_tests::run(test_pipeline, {test_files.begin(), test_files.end()}, options);
  }
  if (replay->parsed()) {
    replay_options.config_file = replay_config;
    replay_options.speed = fmt::format("{}", speed);
    replay_options.progress_bar = ::isatty(STDERR_FILENO) == 1;
    return replay::run(replay_options, options);
  }
  if (describe->parsed()) {
    return commands::describe(type_name, markdown, pages_dir);
  }
  if (run->parsed()) {
    return commands::run(config_file, options);
  }
  if (dlq_replay->parsed()) {
    return commands::dlq_replay(output_id, config_file, options);
  }
  return commands::validate(config_file, options);
}
