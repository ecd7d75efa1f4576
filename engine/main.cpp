// The slipway command line.
#include <CLI/CLI.hpp>

#include "engine/commands.hpp"

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

  CLI::App* dlq = app.add_subcommand("dlq", "Work with an output's dead-letter file");
  dlq->require_subcommand(1);
  CLI::App* replay = dlq->add_subcommand(
      "replay", "Send the events in an output's dead-letter file to that output again; the pipeline must be stopped");
  std::string output_id;
  replay->add_option("output_id", output_id, "Id of the output whose dead letters are sent again")->required();
  replay->add_option("-c,--config", config_file, "Pipeline file (YAML) that defines the output")->required();

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& error) {
    const int code = app.exit(error);
    return code == 0 ? commands::kExitOk : commands::kExitUsage;
  }
  options.log_format = log_format == "json" ? logging::Format::Json : logging::Format::Text;

  if (run->parsed()) {
    return commands::run(config_file, options);
  }
  if (replay->parsed()) {
    return commands::dlq_replay(output_id, config_file, options);
  }
  return commands::validate(config_file, options);
}
