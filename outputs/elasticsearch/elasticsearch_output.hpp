// The `elasticsearch` output: indexes events into Elasticsearch or
// OpenSearch with the _bulk API. Each event goes into an index named from
// its time (slips-alerts-%Y.%m.%d) under an _id taken from its alert ID,
// so a resent event replaces itself instead of appearing twice. Items the
// cluster rejects with 429 or 5xx are retried; other rejected items go to
// the dead-letter file with the cluster's reason.
#pragma once

#include <chrono>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "config/errors.hpp"
#include "config/schema.hpp"
#include "engine/component.hpp"
#include "outputs/elasticsearch/bulk_request.hpp"
#include "outputs/http/http_client.hpp"
#include "outputs/http/request_body.hpp"

namespace slipway::outputs::elasticsearch {

enum class AuthStrategy { None, Basic, ApiKey };

struct ElasticsearchOutputConfig {
  std::vector<std::string> urls;  // cluster nodes, tried in turn
  BulkSettings bulk;
  std::size_t batch_max_events = 1000;
  std::size_t batch_max_bytes = 5 * 1024 * 1024;
  bool gzip = false;
  AuthStrategy auth = AuthStrategy::None;
  std::string user;
  std::filesystem::path password_file;
  std::filesystem::path api_key_file;
  http::ClientSettings client;

  static const config::Schema kSchema;
  // Returns nothing when `errors` received a problem.
  static std::optional<ElasticsearchOutputConfig> parse(const config::Section& settings, config::Errors& errors);
};

class ElasticsearchOutput final : public Output {
 public:
  explicit ElasticsearchOutput(ElasticsearchOutputConfig config);
  ~ElasticsearchOutput() override;

  static std::unique_ptr<Output> create(const config::Section& settings, config::Errors& errors);

  // Reads the auth files; throws std::runtime_error naming the key and the
  // file when one cannot be read.
  void start(OutputContext& context) override;
  DeliveryResult deliver(const BatchPtr& batch, OutputContext& context) override;
  void stop(OutputContext& context) override;

 private:
  struct RequestOutcome {
    DeliveryStatus status = DeliveryStatus::Delivered;  // Retry and Rejected concern the whole request
    std::string reason;
    std::optional<std::chrono::milliseconds> retry_after;
    std::vector<EventFailure> failures;  // items that failed, with Delivered
  };

  std::vector<BulkRange> split(const std::vector<Event>& events);
  RequestOutcome send(BulkRange range);
  RequestOutcome send_to(const std::string& url, BulkRange range);
  RequestOutcome read_items(const http::Response& response, const std::string& url, BulkRange range) const;

  ElasticsearchOutputConfig config_;
  std::vector<http::Header> headers_;
  std::vector<std::string> secrets_;
  std::unique_ptr<http::HttpClient> client_;
  std::unique_ptr<http::GzipEncoder> gzip_;
  std::vector<std::string> items_;  // the action and source lines of each event of the batch
  std::string body_;
  std::string compressed_;
  std::size_t current_url_ = 0;
};

}  // namespace slipway::outputs::elasticsearch
