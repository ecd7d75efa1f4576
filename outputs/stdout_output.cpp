#include "outputs/stdout_output.hpp"

#include <unistd.h>

#include <cstring>
#include <stdexcept>

#include <fmt/format.h>

#include "engine/registry.hpp"

namespace slipway::outputs {

const config::Schema StdoutOutput::kSchema{{
    config::Field{.name = "format",
                  .type = config::FieldType::Enum,
                  .doc = "json: one JSON object per line; alerts_log: the human-readable line of Slips' alerts.log",
                  .default_text = "json",
                  .choices = kRecordFormatNames},
}};

std::unique_ptr<Output> StdoutOutput::create(const config::Section& settings, config::Errors& /*errors*/) {
  return std::make_unique<StdoutOutput>(parse_record_format(settings.string("format")));
}

void StdoutOutput::write(const BatchPtr& batch, OutputContext& /*context*/) {
  buffer_.clear();
  append_records(*batch, format_, buffer_);
  if (const int error = write_fully(STDOUT_FILENO, buffer_); error != 0) {
    throw std::runtime_error(fmt::format("writing to standard output failed: {}", std::strerror(error)));
  }
}

SLIPWAY_REGISTER_OUTPUT("stdout", "Writes events to standard output as JSON lines or alerts.log lines",
                        StdoutOutput::kSchema, &StdoutOutput::create);

}  // namespace slipway::outputs
