// A loopback stand-in for Slack's chat.postMessage and incoming webhooks,
// on HttpTestServer. It responds as Slack does: the Web API always with
// HTTP 200 and {"ok": ...} except 429 when a channel gets messages faster
// than its limit; a webhook with 200 "ok" or a 4xx plain-text error. It
// logs every request with the time the server decided on it, so a test
// can measure the rate the channel saw.
#pragma once

#include <chrono>
#include <cstddef>
#include <deque>
#include <map>
#include <mutex>
#include <set>
#include <string>
#include <vector>

#include "tests/support/http_test_server.hpp"

namespace slipway::testing {

struct SlackPost {
  std::chrono::steady_clock::time_point decided_at;
  bool webhook = false;
  int status = 0;
  std::string error;  // the ok:false error or webhook error text; empty when accepted
  std::string channel;
  std::string text;
  std::string blocks_json;  // compact JSON of "blocks"; empty when absent
  std::string authorization;

  bool accepted() const { return status == 200 && error.empty(); }
};

class SlackTestServer {
 public:
  struct Options {
    std::string token = "xoxb-test";
    std::set<std::string> channels = {"#alerts", "C0123ABC"};
    // Minimum time between two accepted messages to one channel (or webhook).
    std::chrono::milliseconds min_interval{1000};
    int retry_after_secs = 1;
    // Slack's readable limit; longer text gets ok:false msg_too_long.
    std::size_t max_text_chars = 4000;
  };

  explicit SlackTestServer(Options options);

  // Base URL for the slack output's api_url, ending in /api.
  std::string api_url() const { return http_.url("/api"); }
  // The one webhook URL this server accepts; its path is the secret.
  std::string webhook_url() const { return http_.url(kWebhookPath); }

  // Replies to the next Web API requests with ok:false and these errors,
  // in order. An empty string leaves that request's reply unchanged.
  void inject_errors(std::vector<std::string> errors);

  std::vector<SlackPost> posts() const;
  std::vector<SlackPost> accepted_posts() const;
  // Waits until `count` messages were accepted or `timeout` passed.
  bool wait_for_accepted(std::size_t count, std::chrono::milliseconds timeout) const;

  static constexpr const char* kWebhookPath = "/services/T0000/B0000/webhooksecret123";

 private:
  HttpReply respond(const ReceivedRequest& request);
  HttpReply respond_web_api(const ReceivedRequest& request, SlackPost& post);
  HttpReply respond_webhook(const ReceivedRequest& request, SlackPost& post);
  bool take_turn(const std::string& channel, std::chrono::steady_clock::time_point now);

  Options options_;
  mutable std::mutex mutex_;
  std::vector<SlackPost> posts_;
  std::deque<std::string> injected_errors_;
  std::map<std::string, std::chrono::steady_clock::time_point> last_accepted_;
  HttpTestServer http_;
};

}  // namespace slipway::testing
