// The `warden` output: shares IDEA events with a Warden 3 server through
// sendEvents, in batches within the server's send_events_limit. Before an
// event leaves, private addresses are removed from its Source and Target
// (on by default) and an event with no Source or Target left is not sent;
// Node[0].Name is set to the client name, as the server requires. Warden
// saves every event it does not list in its error reply, so only the
// listed ones fail: those with a 5xx code are retried, the others go to
// the dead-letter file.
#pragma once

#include <chrono>
#include <cstddef>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "config/errors.hpp"
#include "config/schema.hpp"
#include "engine/component.hpp"
#include "outputs/warden/address_filter.hpp"
#include "outputs/warden/warden_client.hpp"

namespace slipway::outputs::warden {

struct WardenOutputConfig {
  WardenSettings connection;
  bool drop_private_addresses = true;
  std::vector<std::string> private_ranges;  // CIDR blocks, ranges or addresses
  bool add_test_category = false;           // for clients on probation, whose events must carry "Test"

  static const config::Schema kSchema;
  // Returns nothing when `errors` received a problem.
  static std::optional<WardenOutputConfig> parse(const config::Section& settings, config::Errors& errors);
};

class WardenOutput final : public Output {
 public:
  WardenOutput(WardenOutputConfig config, AddressFilter filter);
  ~WardenOutput() override;

  static std::unique_ptr<Output> create(const config::Section& settings, config::Errors& errors);

  // Reads the secret file and opens the client; throws std::runtime_error
  // naming the file when a certificate, key or secret cannot be read.
  void start(OutputContext& context) override;
  DeliveryResult deliver(const BatchPtr& batch, OutputContext& context) override;
  void stop(OutputContext& context) override;

 private:
  // An event ready to send and its position in the delivered batch.
  struct Prepared {
    std::size_t batch_index = 0;
    std::string json;
  };

  std::vector<Prepared> prepare(const std::vector<Event>& events, DeliveryResult& delivery, OutputContext& context);
  void lower_limit_to_server(OutputContext& context);
  // Sends events [begin, end) of `prepared`; returns the batch indices
  // that failed, each with its reason and whether a retry may pass.
  std::vector<EventFailure> send_chunk(const std::vector<Prepared>& prepared, std::size_t begin, std::size_t end,
                                       std::optional<std::chrono::milliseconds>& retry_after, OutputContext& context);
  void report_rejections(const std::vector<EventFailure>& failures, OutputContext& context);

  WardenOutputConfig config_;
  AddressFilter filter_;
  std::unique_ptr<WardenClient> client_;
  std::size_t send_events_limit_ = 0;
  bool server_limits_known_ = false;
  std::chrono::steady_clock::time_point last_rejection_log_{};
  std::uint64_t suppressed_rejection_logs_ = 0;
};

}  // namespace slipway::outputs::warden
