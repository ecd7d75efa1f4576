// Delivery over TAXII 1.1: events become STIX 1.2 packages, sent as the
// content blocks of inbox messages. A message whose reply blames its
// content is halved until the blocks the server rejects are found.
#include <unistd.h>

#include <fmt/format.h>

#include "outputs/taxii/taxii11.hpp"
#include "outputs/taxii/taxii_output.hpp"

namespace slipway::outputs::taxii {

namespace {

constexpr long kOk = 200;

// Groups the events at `indexes` into messages under the limits, in order;
// an event that alone exceeds them goes to `oversized`.
std::vector<std::vector<std::size_t>> group_packages(const std::vector<std::optional<std::string>>& packages,
                                                     const std::vector<std::size_t>& indexes, std::size_t max_bytes,
                                                     std::size_t max_blocks, std::vector<std::size_t>& oversized) {
  // Room for the message element, its collection name and each block's wrapper.
  constexpr std::size_t kMessageOverhead = 512;
  constexpr std::size_t kBlockOverhead = 160;
  std::vector<std::vector<std::size_t>> groups;
  std::vector<std::size_t> current;
  std::size_t current_bytes = kMessageOverhead;
  for (const std::size_t index : indexes) {
    const std::size_t bytes = packages[index]->size() + kBlockOverhead;
    if (!current.empty() && (current_bytes + bytes > max_bytes || current.size() >= max_blocks)) {
      groups.push_back(std::move(current));
      current.clear();
      current_bytes = kMessageOverhead;
    }
    if (current_bytes + bytes > max_bytes) {
      oversized.push_back(index);
      continue;
    }
    current.push_back(index);
    current_bytes += bytes;
  }
  if (!current.empty()) {
    groups.push_back(std::move(current));
  }
  return groups;
}

}  // namespace

DeliveryResult TaxiiOutput::deliver_taxii11(const BatchPtr& batch, OutputContext& context) {
  // Convert every event to a STIX 1.2 package.
  const std::vector<Event>& events = batch->events;
  std::vector<EventVerdict> verdicts(events.size());
  std::vector<std::optional<std::string>> packages(events.size());
  std::vector<std::size_t> sendable;
  for (std::size_t index = 0; index < events.size(); ++index) {
    const EventObjects objects = read_event_objects(events[index].json);
    std::string error = objects.error;
    if (error.empty()) {
      std::vector<std::string> texts;
      for (const StixObject& object : objects.objects) {
        texts.push_back(object.json);
      }
      packages[index] = stix12_package(texts, error);
    }
    if (!packages[index]) {
      verdicts[index] = EventVerdict{false, false, "cannot be sent over TAXII 1.1: " + error};
      continue;
    }
    sendable.push_back(index);
  }

  // Send inbox messages; a message the server blames is sent again in halves.
  std::vector<std::size_t> oversized;
  std::vector<std::vector<std::size_t>> work =
      group_packages(packages, sendable, config_.batch_max_bytes, config_.batch_max_objects, oversized);
  for (const std::size_t index : oversized) {
    verdicts[index] = EventVerdict{
        false, false, fmt::format("the event's STIX 1.2 package exceeds batch_max_bytes ({})", config_.batch_max_bytes)};
  }
  const std::vector<http::Header> protocol_headers = taxii11_headers(config_.url);
  std::optional<RequestFailure> stop;
  while (!work.empty() && !stop) {
    const std::vector<std::size_t> group = std::move(work.front());
    work.erase(work.begin());
    std::vector<const std::string*> contents;
    for (const std::size_t index : group) {
      contents.push_back(&*packages[index]);
    }
    const std::string message_id = fmt::format("slipway-{}-{}", ::getpid(), ++message_counter_);
    const std::string body = inbox_message(message_id, config_.collection, contents);
    std::vector<http::Header> headers = headers_;
    headers.insert(headers.end(), protocol_headers.begin(), protocol_headers.end());
    const http::Result result = client_->send(http::Request{"POST", config_.url, headers, body});

    // Read the verdict: the HTTP status first, then the status_type.
    std::optional<Taxii11Status> status;
    std::string reason;
    bool retryable = result.retryable;
    if (!result.response) {
      reason = fmt::format("POST {} failed: {}: {}", endpoint_, http::transport_failure_name(result.failure),
                           result.error);
    } else if (result.response->status != kOk) {
      reason = fmt::format("POST {} returned {}: {}", endpoint_, result.response->status,
                           redactor_.excerpt(result.response->body));
      retryable = is_retryable_http_status(result.response->status);
    } else if (!(status = read_taxii11_status(result.response->body))) {
      reason = fmt::format("POST {} returned no TAXII 1.1 Status_Message: {}", endpoint_,
                           redactor_.excerpt(result.response->body));
      retryable = false;
    } else if (status->status_type == "SUCCESS" && status->in_response_to == message_id) {
      for (const std::size_t index : group) {
        verdicts[index].delivered = true;
      }
      continue;
    } else {
      reason = fmt::format("POST {} returned status_type {}{}{}", endpoint_, status->status_type,
                           status->message.empty() ? "" : ": ", redactor_.excerpt(status->message));
      if (status->status_type == "SUCCESS") {
        reason += fmt::format(" in response to \"{}\", not to this message \"{}\"", status->in_response_to, message_id);
      }
      retryable = is_retryable_status_type(status->status_type);
    }

    if (retryable) {
      stop = RequestFailure{0, true, reason, std::nullopt};
      break;
    }
    if (status && is_content_status_type(status->status_type) && group.size() > 1) {
      const auto middle = group.begin() + static_cast<std::ptrdiff_t>(group.size() / 2);
      work.insert(work.begin(), std::vector<std::size_t>(middle, group.end()));
      work.insert(work.begin(), std::vector<std::size_t>(group.begin(), middle));
      continue;
    }
    for (const std::size_t index : group) {
      verdicts[index] = EventVerdict{false, false, reason};
    }
    log_rejection(fmt::format("The TAXII 1.1 server rejected an inbox message; its events go to the dead-letter file. "
                              "events={} error=\"{}\"",
                              group.size(), reason),
                  context);
  }

  // Turn the verdicts into the engine's result.
  DeliveryResult delivery = DeliveryResult::delivered();
  std::size_t retryable_count = 0;
  for (std::size_t index = 0; index < events.size(); ++index) {
    EventVerdict& verdict = verdicts[index];
    if (verdict.delivered) {
      continue;
    }
    if (verdict.reason.empty() && stop) {
      verdict = EventVerdict{false, true, stop->reason};
    }
    retryable_count += verdict.retryable ? 1 : 0;
    delivery.failures.push_back(EventFailure{index, verdict.retryable, verdict.reason});
  }
  if (stop && retryable_count == events.size()) {
    return DeliveryResult::retry(stop->reason);
  }
  return delivery;
}

}  // namespace slipway::outputs::taxii
