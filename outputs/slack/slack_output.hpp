// The `slack` output: posts alerts to a Slack channel through the Web API
// (chat.postMessage with a bot token) or an incoming webhook, one message
// per alert or one digest per group of alerts. Messages to a channel are
// paced to Slack's rate of about one per second; a message that must wait
// stays queued, nothing is dropped. 429 and `ok:false` with `ratelimited`
// are retried after Retry-After. A rejected token or channel
// (`invalid_auth`, `channel_not_found`, ...) dead-letters the alerts and
// marks the output degraded on /health. A message Slack rejects for its
// content (`msg_too_long`, ...) dead-letters its own alerts only.
#pragma once

#include <chrono>
#include <cstddef>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "config/errors.hpp"
#include "config/schema.hpp"
#include "engine/component.hpp"
#include "outputs/http/http_client.hpp"
#include "outputs/slack/slack_message.hpp"

namespace slipway::outputs::slack {

enum class SlackMode { WebApi, Webhook };

struct DigestSettings {
  std::size_t max_alerts = 1;  // 1: one message per alert
  std::chrono::seconds window{60};
};

struct SlackOutputConfig {
  SlackMode mode = SlackMode::WebApi;
  std::string api_url = "https://slack.com/api";  // chat.postMessage is appended
  std::filesystem::path token_file;                // web_api
  std::string channel;                             // web_api: name ("#alerts") or id ("C0123...")
  std::filesystem::path webhook_url_file;          // webhook
  std::optional<MessageTemplate> message_template;
  MessageSettings message;
  DigestSettings digest;
  std::chrono::milliseconds min_message_interval{1000};
  http::ClientSettings client;

  static const config::Schema kSchema;
  // Returns nothing when `errors` received a problem.
  static std::optional<SlackOutputConfig> parse(const config::Section& settings, config::Errors& errors);
};

class ChannelPacer;

class SlackOutput final : public Output {
 public:
  explicit SlackOutput(SlackOutputConfig config);
  ~SlackOutput() override;

  static std::unique_ptr<Output> create(const config::Section& settings, config::Errors& errors);

  // Reads the token or webhook URL file and opens the client; throws
  // std::runtime_error naming the key and file when that fails.
  void start(OutputContext& context) override;
  // Posts the batch's messages in order, each once, waiting for the
  // channel's turn before each; maps every message's outcome to its alerts.
  DeliveryResult deliver(const BatchPtr& batch, OutputContext& context) override;
  void stop(OutputContext& context) override;

 private:
  enum class Outcome { Posted, RetryLater, MessageRejected, DestinationRejected };
  struct PostResult {
    Outcome outcome = Outcome::Posted;
    std::string reason;
    std::optional<std::chrono::milliseconds> retry_after;
    bool blocks_rejected = false;  // Slack rejected the blocks; the text alone may pass
    std::string warning;           // the `warning` of an ok:true reply, e.g. a message Slack cut
  };

  PostResult post(const SlackMessage& message);
  PostResult interpret_web_api(const http::Result& result) const;
  PostResult interpret_webhook(const http::Result& result) const;
  void report(const PostResult& result, std::size_t alerts, OutputContext& context);

  SlackOutputConfig config_;
  std::string url_;
  std::string endpoint_;  // what messages show of the URL; a webhook URL's path is a secret
  std::vector<http::Header> headers_;
  std::unique_ptr<http::HttpClient> client_;
  std::shared_ptr<ChannelPacer> pacer_;
  std::chrono::steady_clock::time_point last_error_log_{};
  std::uint64_t suppressed_error_logs_ = 0;
};

}  // namespace slipway::outputs::slack
