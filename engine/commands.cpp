#include "engine/commands.hpp"

#include <cstdio>
#include <optional>

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include "config/pipeline_config.hpp"
#include "engine/api_server.hpp"
#include "engine/command_support.hpp"
#include "engine/pipeline.hpp"
#include "engine/registry.hpp"

namespace slipway::commands {

int validate(const std::filesystem::path& config_file, const GlobalOptions& options) {
  configure_logging(options, nullptr);
  std::optional<config::PipelineConfig> pipeline = load_and_check(config_file);
  if (!pipeline) {
    return kExitConfig;
  }
  std::size_t counts[3] = {0, 0, 0};
  for (const config::ComponentConfig& component : pipeline->components) {
    ++counts[static_cast<int>(component.kind)];
  }
  std::printf("%s: valid (%zu inputs, %zu filters, %zu outputs)\n", config_file.c_str(), counts[0], counts[1],
              counts[2]);
  return kExitOk;
}

int run(const std::filesystem::path& config_file, const GlobalOptions& options) {
  configure_logging(options, nullptr);
  std::optional<config::PipelineConfig> config = load_and_check(config_file);
  if (!config) {
    return kExitConfig;
  }
  configure_logging(options, &*config);

  block_stop_signals();
  config::Errors errors;
  std::unique_ptr<Pipeline> pipeline;
  try {
    pipeline = Pipeline::build(*config, errors);
    if (!pipeline) {
      std::fputs(errors.format().c_str(), stderr);
      return kExitConfig;
    }
    SignalWatcher signals([&pipeline] { pipeline->request_stop(); });
    std::unique_ptr<ApiServer> api;
    if (config->api_address) {
      Pipeline& running = *pipeline;
      api = std::make_unique<ApiServer>([&running] { return running.prometheus_metrics(); },
                                        [&running] { return running.health(); });
      api->start(*config->api_address);
      spdlog::info("Serving /metrics and /health. address={}", *config->api_address);
    }
    pipeline->start();
    spdlog::info("Started pipeline. file={} components={} data_dir={}", config_file.string(),
                 config->components.size(), config->data_dir.string());
    pipeline->wait();
  } catch (const std::exception& exception) {
    spdlog::critical("Cannot run the pipeline. error=\"{}\"", exception.what());
    return kExitFailure;
  }

  log_summary(*pipeline);
  spdlog::info("Stopped. dead_letter_file={}", pipeline->dead_letter_path().string());
  return kExitOk;
}

}  // namespace slipway::commands
