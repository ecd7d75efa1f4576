// The `taxii` output: shares STIX events (bundles from the `stix` filter)
// with a TAXII server. With version 2.1 it finds the collection through
// discovery, posts envelopes that stay under the API root's
// max_content_length, and polls the status resource until the server has
// decided on every object. With version 1.1 it posts inbox messages whose
// content blocks are STIX 1.2 packages, and reads the reply's status_type.
// An event counts as delivered only when the server confirmed all its
// objects. Events with an object the server rejects go to the dead-letter
// file. Transport failures, 408, 429, 5xx and objects still pending are
// retried.
#pragma once

#include <chrono>
#include <cstddef>
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
#include "outputs/taxii/envelope.hpp"
#include "outputs/taxii/taxii21.hpp"

namespace slipway::outputs::taxii {

enum class TaxiiVersion { V21, V11 };

struct TaxiiOutputConfig {
  TaxiiVersion version = TaxiiVersion::V21;
  std::string url;         // 2.1: discovery or API root URL; 1.1: inbox service URL
  std::string collection;  // 2.1: collection id or title; 1.1: collection name
  std::size_t batch_max_objects = 500;
  std::size_t batch_max_bytes = 1024 * 1024;
  std::chrono::milliseconds status_timeout{30'000};
  http::AuthConfig auth;
  http::ClientSettings client;

  static const config::Schema kSchema;
  // Returns nothing when `errors` received a problem.
  static std::optional<TaxiiOutputConfig> parse(const config::Section& settings, config::Errors& errors);
};

class TaxiiOutput final : public Output {
 public:
  explicit TaxiiOutput(TaxiiOutputConfig config);
  ~TaxiiOutput() override;

  static std::unique_ptr<Output> create(const config::Section& settings, config::Errors& errors);

  // Reads the auth files and opens the HTTP client; throws
  // std::runtime_error naming the key and file when a file cannot be read.
  // Contacts no server, so a pipeline starts while the server is down.
  void start(OutputContext& context) override;
  DeliveryResult deliver(const BatchPtr& batch, OutputContext& context) override;
  void stop(OutputContext& context) override;

 private:
  // The verdict on the events of one envelope or inbox message.
  struct EventVerdict {
    bool delivered = false;
    bool retryable = false;
    std::string reason;
  };

  DeliveryResult deliver_taxii21(const BatchPtr& batch, OutputContext& context);
  DeliveryResult deliver_taxii11(const BatchPtr& batch, OutputContext& context);
  // Sends one envelope and decides each of its events.
  void send_envelope(const Envelope& envelope, const std::vector<EventObjects>& objects,
                     std::vector<EventVerdict>& verdicts, std::vector<std::vector<std::size_t>>& work,
                     std::optional<RequestFailure>& stop, OutputContext& context);
  // Polls a pending status until it is complete or status_timeout passes.
  Status wait_for_status(Status status);
  void judge_objects(const Envelope& envelope, const Status& status, const std::vector<EventObjects>& objects,
                     std::vector<EventVerdict>& verdicts, OutputContext& context);
  bool confirmed(const StixObject& object) const;
  void remember_confirmed(const StixObject& object);
  std::size_t envelope_limit() const;
  void log_rejection(std::string_view message, OutputContext& context);

  TaxiiOutputConfig config_;
  std::string endpoint_;  // the URL as messages show it
  std::vector<http::Header> headers_;
  http::SecretRedactor redactor_;
  std::unique_ptr<http::HttpClient> client_;
  std::unique_ptr<Taxii21Client> taxii21_;
  bool collection_found_ = false;
  // One byte under the last envelope that got 413, 0 before any did; caps
  // later envelopes below the advertised max_content_length.
  // NOTE: it never grows again during a run, so a proxy limit that was
  // raised takes effect only after a restart.
  std::size_t learned_limit_ = 0;
  // Objects (id and version) the server confirmed, so shared ones such as
  // the identity are sent once per run rather than in every envelope.
  std::unordered_set<std::string> confirmed_;
  std::uint64_t message_counter_ = 0;  // TAXII 1.1 message ids
  std::chrono::steady_clock::time_point last_rejection_log_{};
  std::uint64_t suppressed_rejection_logs_ = 0;
};

}  // namespace slipway::outputs::taxii
