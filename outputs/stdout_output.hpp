// The `stdout` output: writes records to standard output, for trying a
// pipeline out or piping it into another program.
#pragma once

#include <memory>
#include <string>

#include "config/errors.hpp"
#include "config/schema.hpp"
#include "engine/component.hpp"
#include "outputs/record_format.hpp"

namespace slipway::outputs {

class StdoutOutput final : public Output {
 public:
  explicit StdoutOutput(RecordFormat format) : format_(format) {}

  static const config::Schema kSchema;
  static std::unique_ptr<Output> create(const config::Section& settings, config::Errors& errors);

  void write(const BatchPtr& batch, OutputContext& context) override;

 private:
  RecordFormat format_;
  std::string buffer_;
};

}  // namespace slipway::outputs
