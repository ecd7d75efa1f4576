#include "engine/output_runtime.hpp"

#include <thread>

#include <fmt/format.h>

#include "engine/dead_letter.hpp"

namespace slipway {

namespace {

const config::Schema kBufferSchema{{
    config::Field{.name = "type",
                  .type = config::FieldType::Enum,
                  .doc = "memory: events wait in memory; disk: events wait in data_dir/buffers/<output id>/, "
                         "survive a crash and count as accepted once stored",
                  .default_text = "memory",
                  .choices = {"memory", "disk"}},
    config::Field{.name = "max_events",
                  .type = config::FieldType::Integer,
                  .doc = "Events the buffer holds before when_full applies; a disk buffer has no event limit "
                         "unless this is set",
                  .default_text = "10000",
                  .min = 1},
    config::Field{.name = "max_bytes",
                  .type = config::FieldType::Integer,
                  .doc = "Bytes of events the buffer holds before when_full applies; 0 for no byte limit. A disk "
                         "buffer counts the bytes of its files and defaults to 1073741824 (1 GiB)",
                  .default_text = "0",
                  .min = 0},
    config::Field{.name = "when_full",
                  .type = config::FieldType::Enum,
                  .doc = "block: slow the inputs down (nothing is lost); drop_newest: discard arriving events "
                         "and count them",
                  .default_text = "block",
                  .choices = {"block", "drop_newest"}},
    config::Field{.name = "fsync",
                  .type = config::FieldType::Boolean,
                  .doc = "Disk buffers only: flush events to the storage device before they count as accepted, so "
                         "they also survive a power loss; false survives a crash of the process only",
                  .default_text = "true"},
}};

constexpr std::size_t kDefaultDiskBufferBytes = std::size_t{1} << 30;

// Identical retry messages within this interval are folded into one line
// with a count, so an outage does not flood the log.
constexpr auto kRetryLogInterval = std::chrono::seconds(10);

Batch subset(const Batch& batch, const std::vector<std::size_t>& indices) {
  Batch part;
  part.events.reserve(indices.size());
  for (std::size_t index : indices) {
    part.events.push_back(batch.events[index]);
  }
  part.acks = batch.acks;
  return part;
}

}  // namespace

const config::Schema OutputSettings::kSchema{{
    config::Field{.name = "buffer",
                  .type = config::FieldType::Object,
                  .doc = "Where events wait for this output, and what happens when that space is full",
                  .nested = &kBufferSchema},
    config::Field{.name = "retry",
                  .type = config::FieldType::Object,
                  .doc = "How failed deliveries are retried before their events are dead-lettered",
                  .nested = &RetryPolicy::kSchema},
}};

OutputSettings OutputSettings::parse(const config::Section& settings) {
  OutputSettings parsed;
  const config::Section buffer = settings.object("buffer");
  parsed.buffer.type = buffer.string("type") == "disk" ? BufferType::Disk : BufferType::Memory;
  const bool disk = parsed.buffer.type == BufferType::Disk;
  parsed.buffer.max_events = disk && !buffer.has("max_events") ? 0 : static_cast<std::size_t>(buffer.integer("max_events"));
  parsed.buffer.max_bytes =
      disk && !buffer.has("max_bytes") ? kDefaultDiskBufferBytes : static_cast<std::size_t>(buffer.integer("max_bytes"));
  parsed.buffer.fsync = buffer.boolean("fsync");
  parsed.buffer.when_full = buffer.string("when_full") == "drop_newest" ? WhenFull::DropNewest : WhenFull::Block;
  parsed.retry = RetryPolicy::parse(settings.object("retry"));
  return parsed;
}

void ShutdownDeadline::set(std::chrono::steady_clock::time_point deadline) {
  deadline_ns_.store(deadline.time_since_epoch().count() > 0 ? deadline.time_since_epoch().count() : 1);
}

bool ShutdownDeadline::is_set() const { return deadline_ns_.load() != 0; }

bool ShutdownDeadline::passed() const {
  const std::int64_t deadline = deadline_ns_.load();
  return deadline != 0 && std::chrono::steady_clock::now().time_since_epoch().count() >= deadline;
}

bool ShutdownDeadline::sleep_for(std::chrono::milliseconds delay) const {
  // Sleep in short steps so a deadline set during the wait is noticed.
  constexpr auto kStep = std::chrono::milliseconds(50);
  const auto until = std::chrono::steady_clock::now() + delay;
  while (std::chrono::steady_clock::now() < until) {
    if (passed()) {
      return false;
    }
    const auto left = until - std::chrono::steady_clock::now();
    std::this_thread::sleep_for(std::min<std::chrono::steady_clock::duration>(left, kStep));
  }
  return !passed();
}

OutputRunner::OutputRunner(Output& output, ComponentContext& context, RetryPolicy retry,
                           std::shared_ptr<DeadLetterQueue> dead_letters, const ShutdownDeadline& deadline)
    : output_(output),
      context_(context),
      retry_(retry),
      dead_letters_(std::move(dead_letters)),
      deadline_(deadline),
      random_(std::random_device{}()) {}

void OutputRunner::abandon(const BatchPtr& batch) {
  for (const AckRef& ack : batch->acks) {
    if (ack) {
      ack->mark_undelivered();
    }
  }
}

bool OutputRunner::deliver(const BatchPtr& batch) {
  ComponentMetrics& metrics = context_.metrics();
  BatchPtr pending = batch;
  std::uint32_t attempt = 0;
  // Failures since the last attempt that delivered something: they drive
  // the backoff and the retry limits, so a batch that keeps making progress
  // is neither slowed down nor dead-lettered for the failures before it.
  std::uint32_t failed_in_row = 0;
  auto failing_since = std::chrono::steady_clock::now();

  while (true) {
    ++attempt;
    ++failed_in_row;
    DeliveryResult result;
    try {
      result = output_.deliver(pending, context_);
    } catch (const std::exception& exception) {
      result = DeliveryResult::retry(exception.what());
    }

    std::vector<std::size_t> retry_indices;
    std::string retry_reason = result.reason;
    switch (result.status) {
      case DeliveryStatus::Delivered:
        metrics.sent_events.fetch_add(pending->events.size() - result.failures.size(), std::memory_order_relaxed);
        for (const EventFailure& failure : result.failures) {
          if (failure.retryable) {
            retry_indices.push_back(failure.index);
            retry_reason = failure.reason;
          } else {
            dead_letter(pending->events[failure.index], failure.reason, attempt);
          }
        }
        break;
      case DeliveryStatus::Rejected:
        for (const Event& event : pending->events) {
          dead_letter(event, result.reason, attempt);
        }
        break;
      case DeliveryStatus::Retry:
        for (std::size_t index = 0; index < pending->events.size(); ++index) {
          retry_indices.push_back(index);
        }
        break;
    }
    if (retry_indices.empty()) {
      if (result.status == DeliveryStatus::Rejected) {
        // A destination that rejects whole batches (bad credentials, a
        // missing channel) needs a person, so it shows on /health.
        context_.health().set_degraded(result.reason);
        return true;
      }
      if (attempt > 1) {
        context_.log().info("Delivery succeeded after retrying. attempts={}", attempt);
      }
      context_.health().set_healthy();
      return true;
    }
    context_.health().set_degraded(retry_reason);
    if (retry_indices.size() < pending->events.size()) {
      failed_in_row = 1;
      failing_since = std::chrono::steady_clock::now();
    }

    const bool retries_exhausted = retry_.max_retries > 0 && failed_in_row > retry_.max_retries;
    const bool time_exhausted =
        retry_.max_elapsed.count() > 0 && std::chrono::steady_clock::now() - failing_since >= retry_.max_elapsed;
    if (retries_exhausted || time_exhausted) {
      const std::string reason = fmt::format("retries exhausted after {} attempts: {}", attempt, retry_reason);
      for (std::size_t index : retry_indices) {
        dead_letter(pending->events[index], reason, attempt);
      }
      return true;
    }

    if (retry_indices.size() != pending->events.size()) {
      pending = std::make_shared<const Batch>(subset(*pending, retry_indices));
    }
    metrics.retries.fetch_add(1, std::memory_order_relaxed);
    const std::chrono::milliseconds delay = retry_.backoff(failed_in_row, result.retry_after, random_);
    log_retry(result.status == DeliveryStatus::Retry ? result : DeliveryResult::retry(retry_reason),
              pending->events.size(), attempt, delay);
    if (deadline_.passed() || !deadline_.sleep_for(delay)) {
      context_.log().warn("Shutdown deadline reached while retrying; the events are sent again after a restart. "
                          "events={}",
                          pending->events.size());
      abandon(pending);
      return false;
    }
  }
}

void OutputRunner::dead_letter(const Event& event, std::string_view reason, std::uint32_t attempts) {
  ComponentMetrics& metrics = context_.metrics();
  metrics.dead_lettered_events.fetch_add(1, std::memory_order_relaxed);
  const DeadLetter letter{component_kind_name(context_.kind()), context_.id(), context_.type(), reason, event.json,
                          &event.origin, true, attempts};
  if (!dead_letters_ || !dead_letters_->write(letter)) {
    metrics.errors.fetch_add(1, std::memory_order_relaxed);
    context_.log().error("Writing the dead-letter file failed; the event is lost. reason=\"{}\"", reason);
  }
}

void OutputRunner::log_retry(const DeliveryResult& result, std::size_t events, std::uint32_t attempt,
                             std::chrono::milliseconds delay) {
  const auto now = std::chrono::steady_clock::now();
  if (now - last_retry_log_ < kRetryLogInterval) {
    ++suppressed_retry_logs_;
    return;
  }
  const std::uint64_t backlog = buffer_events_ ? buffer_events_() : 0;
  context_.log().warn("Delivery failed; retrying. events={} attempt={} delay_ms={} buffer_events={} "
                      "similar_messages_suppressed={} error=\"{}\"",
                      events, attempt, delay.count(), backlog, suppressed_retry_logs_, result.reason);
  last_retry_log_ = now;
  suppressed_retry_logs_ = 0;
}

}  // namespace slipway
