// The http protocol: the generic http output, sending each batch as one
// JSON array (Content-Type application/json), which Logstash's http input
// decodes into one event per element. With several hosts, a batch that one
// host cannot take (a transport failure, 408, 429 or 5xx) goes to the next
// host at once, and the engine's retry starts only when every host failed.
#include <fmt/format.h>

#include "outputs/http/http_output.hpp"
#include "outputs/logstash/logstash_output.hpp"

namespace slipway::outputs::logstash {

namespace {

// Logstash's http input reads up to 100 MB per request by default
// (max_content_length); 10 MiB keeps a request well inside it.
constexpr std::size_t kRequestMaxBytes = 10 * 1024 * 1024;

class HttpSender final : public Sender {
 public:
  explicit HttpSender(const LogstashOutputConfig& config) : config_(config) {}

  void start(OutputContext& context) override {
    for (const std::string& url : config_.urls) {
      http::HttpOutputConfig settings;
      settings.url = url;
      settings.codec = http::Codec::JsonArray;
      settings.batch_max_events = config_.batch_max_events;
      settings.batch_max_bytes = kRequestMaxBytes;
      settings.compression = config_.compression_level > 0 ? http::Compression::Gzip : http::Compression::None;
      settings.client.timeout = config_.timeout;
      settings.client.connect_timeout = config_.connect_timeout;
      settings.client.tls.verify = config_.tls.verify;
      settings.client.tls.ca_file = config_.tls.ca_file;
      settings.client.tls.cert_file = config_.tls.cert_file;
      settings.client.tls.key_file = config_.tls.key_file;
      if (!config_.user.empty()) {
        settings.auth.strategy = http::AuthStrategy::Basic;
        settings.auth.user = config_.user;
        settings.auth.password_file = config_.password_file;
      }
      auto output = std::make_unique<http::HttpOutput>(std::move(settings));
      output->start(context);
      hosts_.push_back(std::move(output));
    }
  }

  DeliveryResult deliver(const BatchPtr& batch, OutputContext& context) override {
    DeliveryResult result;
    for (std::size_t tried = 0; tried < hosts_.size(); ++tried) {
      result = hosts_[current_]->deliver(batch, context);
      if (result.status != DeliveryStatus::Retry) {
        return result;
      }
      current_ = (current_ + 1) % hosts_.size();
    }
    return result;
  }

  void stop(OutputContext& context) override {
    for (auto& host : hosts_) {
      host->stop(context);
    }
  }

 private:
  const LogstashOutputConfig& config_;
  std::vector<std::unique_ptr<http::HttpOutput>> hosts_;
  std::size_t current_ = 0;
};

}  // namespace

std::unique_ptr<Sender> make_http_sender(const LogstashOutputConfig& config) {
  return std::make_unique<HttpSender>(config);
}

}  // namespace slipway::outputs::logstash
