#include "outputs/taxii/taxii_output.hpp"

#include <algorithm>
#include <thread>

#include <fmt/format.h>

#include "engine/registry.hpp"

namespace slipway::outputs::taxii {

namespace {

constexpr long kBadRequest = 400;
constexpr long kNotFound = 404;
constexpr long kPayloadTooLarge = 413;
constexpr long kUnprocessable = 422;
constexpr auto kRejectionLogInterval = std::chrono::seconds(10);
constexpr auto kFirstPollDelay = std::chrono::milliseconds(100);
constexpr auto kMaxPollDelay = std::chrono::milliseconds(2'000);
// Bounds the confirmed-object cache; clearing it only means a shared
// object is sent once more.
constexpr std::size_t kMaxConfirmedObjects = 100'000;

std::string object_key(const StixObject& object) { return object.id + '|' + object.version; }

bool same_object(const ObjectStatus& status, const StixObject& object) {
  return status.id == object.id && (status.version.empty() || object.version.empty() || status.version == object.version);
}

// 400 (OpenTAXII's STIX validation failure) and 422 blame the content: an
// envelope without the offending event may pass.
bool blames_content(long status) { return status == kBadRequest || status == kUnprocessable; }

}  // namespace

TaxiiOutput::TaxiiOutput(TaxiiOutputConfig config)
    : config_(std::move(config)), endpoint_(http::url_for_messages(config_.url)) {}

TaxiiOutput::~TaxiiOutput() = default;

std::unique_ptr<Output> TaxiiOutput::create(const config::Section& settings, config::Errors& errors) {
  std::optional<TaxiiOutputConfig> config = TaxiiOutputConfig::parse(settings, errors);
  if (!config) {
    return nullptr;
  }
  return std::make_unique<TaxiiOutput>(std::move(*config));
}

void TaxiiOutput::start(OutputContext& context) {
  headers_.clear();
  redactor_ = http::SecretRedactor();
  try {
    if (std::optional<http::Header> authorization = http::load_authorization(config_.auth, context, redactor_)) {
      headers_.push_back(std::move(*authorization));
    }
    client_ = std::make_unique<http::HttpClient>(config_.client);
  } catch (const std::runtime_error& error) {
    throw std::runtime_error(
        fmt::format("{} \"{}\": {}", component_kind_name(context.kind()), context.id(), error.what()));
  }
  taxii21_ = std::make_unique<Taxii21Client>(*client_, headers_, redactor_);
  collection_found_ = false;

  if (!config_.client.tls.verify) {
    context.log().warn("TLS certificate verification is off, so any server can pose as the TAXII server. url={}",
                       endpoint_);
  }
  if (config_.auth.strategy != http::AuthStrategy::None && config_.url.starts_with("http://")) {
    context.log().warn("Credentials are sent over plain HTTP; use an https:// url. url={}", endpoint_);
  }
  context.log().info("Sharing STIX over TAXII. version={} url={} collection=\"{}\" auth={} batch_max_objects={} "
                     "batch_max_bytes={}",
                     config_.version == TaxiiVersion::V21 ? "2.1" : "1.1", endpoint_, config_.collection,
                     http::auth_strategy_name(config_.auth.strategy), config_.batch_max_objects,
                     config_.batch_max_bytes);
}

void TaxiiOutput::stop(OutputContext& /*context*/) {
  taxii21_.reset();
  client_.reset();
}

DeliveryResult TaxiiOutput::deliver(const BatchPtr& batch, OutputContext& context) {
  return config_.version == TaxiiVersion::V21 ? deliver_taxii21(batch, context) : deliver_taxii11(batch, context);
}

DeliveryResult TaxiiOutput::deliver_taxii21(const BatchPtr& batch, OutputContext& context) {
  // Find the collection once per run, and again after it disappeared.
  if (!collection_found_) {
    if (std::optional<RequestFailure> failure = taxii21_->find_collection(config_.url, config_.collection)) {
      if (failure->retryable) {
        return DeliveryResult::retry(std::move(failure->reason), failure->retry_after);
      }
      log_rejection(fmt::format("The TAXII collection cannot be used; events go to the dead-letter file. error=\"{}\"",
                                failure->reason),
                    context);
      return DeliveryResult::rejected(std::move(failure->reason));
    }
    collection_found_ = true;
    const Collection& collection = taxii21_->collection();
    context.log().info("Found the TAXII collection. id={} title=\"{}\" api_root={} max_content_length={}",
                       collection.id, collection.title, http::url_for_messages(collection.api_root),
                       collection.max_content_length);
  }

  // Split every event into its objects.
  const std::vector<Event>& events = batch->events;
  std::vector<EventObjects> objects(events.size());
  std::vector<EventVerdict> verdicts(events.size());
  std::vector<std::size_t> sendable;
  for (std::size_t index = 0; index < events.size(); ++index) {
    objects[index] = read_event_objects(events[index].json);
    if (!objects[index].error.empty()) {
      verdicts[index] = EventVerdict{false, false, "not a STIX object or bundle: " + objects[index].error};
      continue;
    }
    sendable.push_back(index);
  }

  // Send envelopes until every event has a verdict. A group that must be
  // split (413, 422) goes back to the front of the work list in halves.
  std::vector<std::vector<std::size_t>> work = {sendable};
  std::optional<RequestFailure> stop;
  while (!work.empty() && !stop) {
    const std::vector<std::size_t> group = std::move(work.front());
    work.erase(work.begin());
    const Packing packing = pack_envelopes(objects, group, envelope_limit(), config_.batch_max_objects,
                                           [this](const StixObject& object) { return confirmed(object); });
    for (const std::size_t index : packing.confirmed) {
      verdicts[index].delivered = true;
    }
    for (const std::size_t index : packing.oversized) {
      verdicts[index] = EventVerdict{
          false, false,
          fmt::format("the event's STIX objects exceed the largest request the server accepts ({} bytes, {} objects)",
                      envelope_limit(), config_.batch_max_objects)};
    }
    // Envelopes after the first one of a split group wait in the work list,
    // so a second 413 splits only what it concerns.
    for (std::size_t envelope_idx = 0; envelope_idx < packing.envelopes.size() && !stop; ++envelope_idx) {
      send_envelope(packing.envelopes[envelope_idx], objects, verdicts, work, stop, context);
    }
  }

  // Turn the verdicts into the engine's result.
  DeliveryResult delivery = DeliveryResult::delivered();
  std::size_t retryable = 0;
  for (std::size_t index = 0; index < events.size(); ++index) {
    EventVerdict& verdict = verdicts[index];
    if (verdict.delivered) {
      continue;
    }
    if (verdict.reason.empty() && stop) {
      verdict = EventVerdict{false, stop->retryable, stop->reason};
    }
    retryable += verdict.retryable ? 1 : 0;
    delivery.failures.push_back(EventFailure{index, verdict.retryable, verdict.reason});
  }
  if (stop && stop->retryable && retryable == events.size()) {
    return DeliveryResult::retry(stop->reason, stop->retry_after);
  }
  if (stop && !stop->retryable && delivery.failures.size() == events.size()) {
    // Bad credentials or media types need a person, so /health shows them.
    return DeliveryResult::rejected(stop->reason);
  }
  if (stop) {
    delivery.retry_after = stop->retry_after;
  }
  return delivery;
}

void TaxiiOutput::send_envelope(const Envelope& envelope, const std::vector<EventObjects>& objects,
                                std::vector<EventVerdict>& verdicts, std::vector<std::vector<std::size_t>>& work,
                                std::optional<RequestFailure>& stop, OutputContext& context) {
  const Taxii21Client::PostResult post = taxii21_->add_objects(envelope.body);
  if (post.status) {
    judge_objects(envelope, wait_for_status(*post.status), objects, verdicts, context);
    return;
  }

  const RequestFailure& failure = post.failure;
  const bool several = envelope.events.size() > 1;
  if (failure.status == kPayloadTooLarge || (blames_content(failure.status) && several)) {
    if (failure.status == kPayloadTooLarge) {
      learned_limit_ = envelope.body.size() > 1 ? envelope.body.size() - 1 : 1;
    }
    if (several) {
      // Halve the envelope: a smaller one passes the size limit, and
      // halving again finds the events the server cannot process.
      const auto middle = envelope.events.begin() + static_cast<std::ptrdiff_t>(envelope.events.size() / 2);
      work.insert(work.begin(), std::vector<std::size_t>(middle, envelope.events.end()));
      work.insert(work.begin(), std::vector<std::size_t>(envelope.events.begin(), middle));
      context.log().warn("The TAXII server rejected an envelope; sending its events in two halves. events={} "
                         "bytes={} error=\"{}\"",
                         envelope.events.size(), envelope.body.size(), failure.reason);
      return;
    }
  }
  if (failure.status == kNotFound) {
    // The collection may have been deleted or renamed: look it up again.
    collection_found_ = false;
    stop = RequestFailure{failure.status, true, failure.reason + "; looking the collection up again", std::nullopt};
    return;
  }
  if (failure.retryable) {
    stop = failure;
    return;
  }
  for (const std::size_t index : envelope.events) {
    verdicts[index] = EventVerdict{false, false, failure.reason};
  }
  log_rejection(fmt::format("The TAXII server rejected an envelope; its events go to the dead-letter file. events={} "
                            "error=\"{}\"",
                            envelope.events.size(), failure.reason),
                context);
  if (!blames_content(failure.status) && failure.status != kPayloadTooLarge) {
    // 401, 403, 406, 415: every later envelope would get the same response.
    stop = failure;
  }
}

// NOTE: the polling does not watch the pipeline's shutdown deadline, so a
// stop can wait up to status_timeout_ms for a slow server.
Status TaxiiOutput::wait_for_status(Status status) {
  const auto deadline = std::chrono::steady_clock::now() + config_.status_timeout;
  auto delay = kFirstPollDelay;
  while (!status.complete && !status.id.empty() && std::chrono::steady_clock::now() + delay <= deadline) {
    std::this_thread::sleep_for(delay);
    delay = std::min(delay * 2, kMaxPollDelay);
    Taxii21Client::PostResult polled = taxii21_->get_status(status.id);
    if (polled.status) {
      status = std::move(*polled.status);
    }
  }
  return status;
}

void TaxiiOutput::judge_objects(const Envelope& envelope, const Status& status,
                                const std::vector<EventObjects>& objects, std::vector<EventVerdict>& verdicts,
                                OutputContext& context) {
  // A status with counts but no lists speaks for the whole envelope.
  const bool listed = !status.successes.empty() || !status.failures.empty() || !status.pendings.empty();
  const bool all_succeeded =
      !listed && status.complete && status.failure_count == 0 && status.pending_count == 0;

  for (const StixObject* object : envelope.objects) {
    const auto matches = [&](const ObjectStatus& entry) { return same_object(entry, *object); };
    const bool succeeded = all_succeeded || std::any_of(status.successes.begin(), status.successes.end(), matches);
    if (succeeded) {
      remember_confirmed(*object);
    }
  }

  for (const std::size_t index : envelope.events) {
    EventVerdict verdict{true, false, {}};
    for (const StixObject& object : objects[index].objects) {
      if (confirmed(object)) {
        continue;
      }
      const auto matches = [&](const ObjectStatus& entry) { return same_object(entry, object); };
      const auto failure = std::find_if(status.failures.begin(), status.failures.end(), matches);
      if (failure != status.failures.end() || (!listed && status.complete)) {
        // medallion reports an object it already stores as a failure; the
        // collection itself tells a repeat from a rejection.
        // NOTE: one GET per failed object, so replaying a large backlog
        // into medallion costs a request per object.
        if (taxii21_->collection().can_read && taxii21_->has_object(object.id, object.version)) {
          remember_confirmed(object);
          continue;
        }
        const std::string message = failure != status.failures.end() && !failure->message.empty()
                                        ? failure->message
                                        : "reported as failed without a message";
        verdict = EventVerdict{false, false, fmt::format("the TAXII server rejected {}: {}", object.id, message)};
        log_rejection(fmt::format("The TAXII server rejected an object; its event goes to the dead-letter file. "
                                  "id={} error=\"{}\"",
                                  object.id, message),
                      context);
        break;
      }
      // Neither confirmed nor rejected: still pending when polling ended.
      verdict = EventVerdict{false, true,
                             fmt::format("{} still pending at the TAXII server after {} ms", object.id,
                                         config_.status_timeout.count())};
    }
    verdicts[index] = verdict;
  }
}

bool TaxiiOutput::confirmed(const StixObject& object) const { return confirmed_.contains(object_key(object)); }

void TaxiiOutput::remember_confirmed(const StixObject& object) {
  if (confirmed_.size() >= kMaxConfirmedObjects) {
    confirmed_.clear();
  }
  confirmed_.insert(object_key(object));
}

std::size_t TaxiiOutput::envelope_limit() const {
  std::size_t limit = config_.batch_max_bytes;
  const std::size_t advertised = taxii21_ ? taxii21_->collection().max_content_length : 0;
  if (advertised > 0) {
    limit = std::min(limit, advertised);
  }
  if (learned_limit_ > 0) {
    limit = std::min(limit, learned_limit_);
  }
  return limit;
}

void TaxiiOutput::log_rejection(std::string_view message, OutputContext& context) {
  const auto now = std::chrono::steady_clock::now();
  if (now - last_rejection_log_ < kRejectionLogInterval) {
    ++suppressed_rejection_logs_;
    return;
  }
  context.log().error("{} similar_messages_suppressed={}", message, suppressed_rejection_logs_);
  last_rejection_log_ = now;
  suppressed_rejection_logs_ = 0;
}

SLIPWAY_REGISTER_OUTPUT("taxii",
                        "Shares STIX bundles with a TAXII 2.1 collection or a TAXII 1.1 inbox; delivered once the "
                        "server confirmed every object",
                        TaxiiOutputConfig::kSchema, &TaxiiOutput::create);

}  // namespace slipway::outputs::taxii
