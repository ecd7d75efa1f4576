// The `http` output: sends events to an HTTP endpoint as JSON lines or a
// JSON array, in requests of bounded size. Delivery is at least once: a
// request that times out or loses its connection is sent again with the
// same idempotency key, so the receiver can drop the repeat. 408, 429, 5xx
// and transport failures are retried by the engine; other statuses are
// final and their events go to the output's dead-letter file.
#pragma once

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <unordered_set>
#include <vector>

#include "config/errors.hpp"
#include "config/schema.hpp"
#include "engine/component.hpp"
#include "outputs/http/auth.hpp"
#include "outputs/http/http_client.hpp"
#include "outputs/http/request_body.hpp"

namespace slipway::outputs::http {

enum class Method { Post, Put };
enum class Compression { None, Gzip };
struct HttpOutputConfig {
  std::string url;
  Method method = Method::Post;
  Codec codec = Codec::JsonLines;
  std::size_t batch_max_events = 1000;
  std::size_t batch_max_bytes = 1024 * 1024;
  std::vector<Header> headers;
  AuthConfig auth;
  Compression compression = Compression::None;
  std::string idempotency_header = "Idempotency-Key";  // empty: none sent
  ClientSettings client;

  static const config::Schema kSchema;
  // Returns nothing when `errors` received a problem.
  static std::optional<HttpOutputConfig> parse(const config::Section& settings, config::Errors& errors);
};

class HttpOutput final : public Output {
 public:
  explicit HttpOutput(HttpOutputConfig config);
  ~HttpOutput() override;

  static std::unique_ptr<Output> create(const config::Section& settings, config::Errors& errors);

  // Reads the auth files and opens the client; throws std::runtime_error
  // naming the key and file when a file cannot be read or is empty.
  void start(OutputContext& context) override;
  // Sends the batch in as many requests as the batch limits need, each
  // once, and maps each request's outcome to its events.
  DeliveryResult deliver(const BatchPtr& batch, OutputContext& context) override;
  void stop(OutputContext& context) override;

 private:
  enum class Outcome { Delivered, Retry, Rejected, RejectedInGroup };
  struct RequestResult {
    Outcome outcome = Outcome::Delivered;
    std::string reason;
    std::optional<std::chrono::milliseconds> retry_after;
    // The request was sent whole but no response arrived, so the server may have processed it.
    bool ambiguous = false;
  };

  std::vector<bool> take_events_to_send_alone(const std::vector<Event>& events);
  RequestResult send(const std::vector<Event>& events, EventRange range);
  RequestResult interpret(const Result& result, EventRange range) const;
  void report(const RequestResult& result, const std::vector<Event>& events, EventRange range,
              OutputContext& context);

  HttpOutputConfig config_;
  std::string endpoint_;         // the URL as messages show it
  std::vector<Header> headers_;  // sent with every request
  SecretRedactor redactor_;  // keeps secrets out of response text before it reaches a message
  std::unique_ptr<HttpClient> client_;
  GzipEncoder gzip_;
  std::string body_;
  std::string compressed_;
  // Keys of events whose group request was rejected with a 4xx: each is
  // sent alone next time, so only the events the server rejects are
  // dead-lettered.
  std::unordered_set<std::string> send_alone_;
  std::chrono::steady_clock::time_point last_rejection_log_{};
  std::uint64_t suppressed_rejection_logs_ = 0;
};

}  // namespace slipway::outputs::http
