// The `logstash` output: ships events to Logstash as Filebeat does (beats,
// Lumberjack v2 with ACKs), as JSON lines over TCP (Logstash's tcp input
// with the json_lines codec), or over HTTP (Logstash's http input). Several
// hosts give failover: a host that cannot be reached is skipped for the
// next one. Delivery is at least once: what the receiver did not confirm
// is sent again, so a receiver may see an event twice but never miss one
// it confirmed.
#pragma once

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "config/errors.hpp"
#include "config/schema.hpp"
#include "engine/component.hpp"
#include "outputs/logstash/stream_connection.hpp"

namespace slipway::outputs::logstash {

enum class Protocol { Beats, Tcp, Http };

struct LogstashOutputConfig {
  Protocol protocol = Protocol::Beats;
  std::vector<Endpoint> endpoints;  // beats and tcp
  std::vector<std::string> urls;    // http
  std::size_t batch_max_events = 2048;
  int compression_level = 0;  // beats: zlib level of 'C' frames; http: gzip when above 0
  std::chrono::milliseconds timeout{30'000};
  std::chrono::milliseconds connect_timeout{10'000};
  StreamTlsSettings tls;
  std::string user;                     // http basic authentication
  std::filesystem::path password_file;  // http basic authentication

  static const config::Schema kSchema;
  // Returns nothing when `errors` received a problem.
  static std::optional<LogstashOutputConfig> parse(const config::Section& settings, config::Errors& errors);
};

// One protocol's way of delivering a batch.
class Sender {
 public:
  virtual ~Sender() = default;
  virtual void start(OutputContext& context) = 0;
  virtual DeliveryResult deliver(const BatchPtr& batch, OutputContext& context) = 0;
  virtual void stop(OutputContext& context) = 0;
};

std::unique_ptr<Sender> make_beats_sender(const LogstashOutputConfig& config);
std::unique_ptr<Sender> make_json_lines_sender(const LogstashOutputConfig& config);
std::unique_ptr<Sender> make_http_sender(const LogstashOutputConfig& config);

class LogstashOutput final : public Output {
 public:
  explicit LogstashOutput(LogstashOutputConfig config);

  static std::unique_ptr<Output> create(const config::Section& settings, config::Errors& errors);

  void start(OutputContext& context) override;
  DeliveryResult deliver(const BatchPtr& batch, OutputContext& context) override;
  void stop(OutputContext& context) override;

 private:
  LogstashOutputConfig config_;
  std::unique_ptr<Sender> sender_;
};

}  // namespace slipway::outputs::logstash
