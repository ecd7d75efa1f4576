// The `warden` input: polls a Warden 3 server with getEvents and emits the
// IDEA events it returns. The id cursor the server returns (`lastid`) is
// the input's checkpoint, committed once every output has the events, so
// a restart resumes after the last delivered event. On its very first
// start the input requests the server's newest id, with a getEvents call
// without id that returns only `lastid`, and begins there; older events
// are not fetched.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "config/errors.hpp"
#include "config/schema.hpp"
#include "engine/component.hpp"
#include "outputs/warden/warden_client.hpp"

namespace slipway::inputs::warden {

struct WardenInputConfig {
  outputs::warden::WardenSettings connection;
  std::size_t count = 1000;  // events per getEvents call
  // getEvents filters; a list and its exclude_ counterpart cannot both be set.
  std::vector<std::string> categories;
  std::vector<std::string> exclude_categories;
  std::vector<std::string> tags;
  std::vector<std::string> exclude_tags;
  std::vector<std::string> groups;
  std::vector<std::string> exclude_groups;
  std::chrono::milliseconds poll_interval{60'000};

  static const config::Schema kSchema;
  // Returns nothing when `errors` received a problem.
  static std::optional<WardenInputConfig> parse(const config::Section& settings, config::Errors& errors);
};

class WardenInput final : public Input {
 public:
  explicit WardenInput(WardenInputConfig config);

  static std::unique_ptr<Input> create(const config::Section& settings, config::Errors& errors);

  // Polls until a stop is requested. Throws std::runtime_error when a
  // certificate, key or secret file cannot be read.
  void run(InputContext& context) override;

 private:
  struct Poll {
    bool ok = false;
    std::int64_t last_id = 0;
    std::vector<std::string> events;  // compact JSON objects
    std::string error;
  };

  Poll get_events(std::optional<std::int64_t> cursor);
  void emit(Poll& poll, InputContext& context);
  void report_failure(const std::string& error, InputContext& context);

  WardenInputConfig config_;
  std::unique_ptr<outputs::warden::WardenClient> client_;
  std::string checkpoint_key_;
  std::shared_ptr<const std::string> origin_;
  std::chrono::steady_clock::time_point last_failure_log_{};
  std::uint64_t suppressed_failure_logs_ = 0;
};

}  // namespace slipway::inputs::warden
