#include "engine/logging.hpp"

#include <chrono>
#include <mutex>

#include <fmt/chrono.h>
#include <fmt/format.h>
#include <spdlog/formatter.h>
#include <spdlog/pattern_formatter.h>
#include <spdlog/sinks/stdout_sinks.h>
#include <spdlog/spdlog.h>

#include "engine/json.hpp"

namespace slipway::logging {

namespace {

// One JSON object per line: time, level, logger and message, with the
// message escaped, which a pattern formatter cannot do.
class JsonFormatter final : public spdlog::formatter {
 public:
  void format(const spdlog::details::log_msg& message, spdlog::memory_buf_t& destination) override {
    std::string line = "{\"time\":";
    const auto time = std::chrono::floor<std::chrono::milliseconds>(message.time);
    json::append_quoted(fmt::format("{:%Y-%m-%dT%H:%M:%S}Z", time), line);
    line += ",\"level\":";
    const auto level = spdlog::level::to_string_view(message.level);
    json::append_quoted(std::string_view(level.data(), level.size()), line);
    line += ",\"logger\":";
    json::append_quoted(std::string_view(message.logger_name.data(), message.logger_name.size()), line);
    line += ",\"message\":";
    json::append_quoted(std::string_view(message.payload.data(), message.payload.size()), line);
    line += "}\n";
    destination.append(line.data(), line.data() + line.size());
  }

  std::unique_ptr<spdlog::formatter> clone() const override { return std::make_unique<JsonFormatter>(); }
};

std::mutex& configuration_mutex() {
  static std::mutex mutex;
  return mutex;
}

spdlog::sink_ptr& shared_sink() {
  static spdlog::sink_ptr sink = std::make_shared<spdlog::sinks::stderr_sink_mt>();
  return sink;
}

}  // namespace

std::optional<spdlog::level::level_enum> parse_level(std::string_view name) {
  static constexpr std::pair<std::string_view, spdlog::level::level_enum> kLevels[] = {
      {"trace", spdlog::level::trace}, {"debug", spdlog::level::debug},       {"info", spdlog::level::info},
      {"warn", spdlog::level::warn},   {"error", spdlog::level::err},         {"critical", spdlog::level::critical},
      {"off", spdlog::level::off},
  };
  for (const auto& [text, level] : kLevels) {
    if (text == name) {
      return level;
    }
  }
  return std::nullopt;
}

std::optional<Format> parse_format(std::string_view name) {
  if (name == "text") {
    return Format::Text;
  }
  if (name == "json") {
    return Format::Json;
  }
  return std::nullopt;
}

void configure(Format format, spdlog::level::level_enum level) {
  std::lock_guard lock(configuration_mutex());
  spdlog::sink_ptr sink = shared_sink();
  if (format == Format::Json) {
    sink->set_formatter(std::make_unique<JsonFormatter>());
  } else {
    sink->set_formatter(std::make_unique<spdlog::pattern_formatter>("%Y-%m-%dT%H:%M:%S.%eZ %l %n: %v",
                                                                     spdlog::pattern_time_type::utc));
  }
  auto main_logger = std::make_shared<spdlog::logger>("slipway", sink);
  spdlog::set_default_logger(main_logger);
  spdlog::set_level(level);
}

void set_level(spdlog::level::level_enum level) { spdlog::set_level(level); }

std::shared_ptr<spdlog::logger> component_logger(std::string_view kind, std::string_view type, std::string_view id) {
  std::lock_guard lock(configuration_mutex());
  auto logger = std::make_shared<spdlog::logger>(fmt::format("{}.{}.{}", kind, type, id), shared_sink());
  logger->set_level(spdlog::get_level());
  return logger;
}

}  // namespace slipway::logging
