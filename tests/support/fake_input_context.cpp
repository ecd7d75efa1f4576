#include "tests/support/fake_input_context.hpp"

#include <algorithm>
#include <exception>

#include <spdlog/sinks/ringbuffer_sink.h>
#include <spdlog/spdlog.h>

#include "engine/dead_letter.hpp"

namespace slipway::testing {

namespace {

constexpr std::size_t kLogLinesKept = 10'000;

std::shared_ptr<spdlog::logger> make_capturing_logger() {
  auto sink = std::make_shared<spdlog::sinks::ringbuffer_sink_mt>(kLogLinesKept);
  sink->set_pattern("%l %v");
  auto logger = std::make_shared<spdlog::logger>("input.file.test", std::move(sink));
  logger->set_level(spdlog::level::trace);
  return logger;
}

}  // namespace

std::map<std::string, std::string> CheckpointMap::entries() const {
  std::lock_guard lock(mutex_);
  return entries_;
}

std::optional<std::string> CheckpointMap::find(const std::string& key) const {
  std::lock_guard lock(mutex_);
  const auto found = entries_.find(key);
  if (found == entries_.end()) {
    return std::nullopt;
  }
  return found->second;
}

void CheckpointMap::commit(const std::vector<CheckpointEntry>& entries) {
  std::lock_guard lock(mutex_);
  for (const CheckpointEntry& entry : entries) {
    entries_[entry.key] = entry.value;
  }
}

void CheckpointMap::set(const std::string& key, const std::string& value) {
  std::lock_guard lock(mutex_);
  entries_[key] = value;
}

void CheckpointMap::remove(const std::string& key) {
  std::lock_guard lock(mutex_);
  entries_.erase(key);
}

FakeInputContext::FakeInputContext(const std::filesystem::path& work_dir, std::shared_ptr<CheckpointMap> checkpoints)
    : InputContext(ComponentKind::Input, "test", "file", make_capturing_logger(), work_dir,
                   std::make_shared<DeadLetterQueue>(work_dir / "dead_letter.json")),
      dead_letter_path_(work_dir / "dead_letter.json"),
      checkpoints_(std::move(checkpoints)),
      tracker_(std::make_shared<AckTracker>([checkpoints = checkpoints_](const std::vector<CheckpointEntry>& entries) {
        checkpoints->commit(entries);
      })) {}

FakeInputContext::~FakeInputContext() {
  stop();
  // Held batches complete as undelivered: a test that did not acknowledge
  // them must not find their checkpoints committed by the teardown.
  drop_unacknowledged();
}

bool FakeInputContext::stop_requested() const {
  std::lock_guard lock(mutex_);
  return stop_;
}

bool FakeInputContext::wait_for_stop(std::chrono::milliseconds timeout) {
  std::unique_lock lock(mutex_);
  ++idle_waits_;
  ++generation_;
  changed_.notify_all();
  changed_.wait_for(lock, timeout, [&] { return stop_; });
  return stop_;
}

void FakeInputContext::emit(Batch batch) {
  if (batch.events.empty()) {
    return;
  }
  metrics().sent_events.fetch_add(batch.events.size(), std::memory_order_relaxed);
  auto shared = std::make_shared<const Batch>(std::move(batch));
  {
    std::lock_guard lock(mutex_);
    batches_.push_back(shared->events);
    if (!auto_acknowledge_) {
      held_.push_back(shared);
    }
  }
  // With auto-acknowledge, `shared` is the last reference and its release commits.
  shared.reset();
  signal_change();
}

std::map<std::string, std::string> FakeInputContext::load_checkpoints() { return checkpoints_->entries(); }

void FakeInputContext::remove_checkpoint(const std::string& key) { checkpoints_->remove(key); }

AckRef FakeInputContext::track(CheckpointEntry checkpoint) { return tracker_->track(std::move(checkpoint)); }

void FakeInputContext::start(std::unique_ptr<Input> input) {
  input_ = std::move(input);
  thread_ = std::thread([this] {
    try {
      input_->run(*this);
    } catch (const std::exception& error) {
      std::lock_guard lock(mutex_);
      run_error_ = error.what();
    }
    {
      std::lock_guard lock(mutex_);
      finished_ = true;
    }
    signal_change();
  });
}

void FakeInputContext::stop() {
  {
    std::lock_guard lock(mutex_);
    stop_ = true;
  }
  changed_.notify_all();
  if (thread_.joinable()) {
    thread_.join();
  }
}

bool FakeInputContext::wait_for_finish(std::chrono::milliseconds timeout) {
  std::unique_lock lock(mutex_);
  return changed_.wait_for(lock, timeout, [&] { return finished_; });
}

std::optional<std::string> FakeInputContext::run_error() const {
  std::lock_guard lock(mutex_);
  return run_error_;
}

bool FakeInputContext::wait_until(const std::function<bool()>& predicate, std::chrono::milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  for (;;) {
    // The generation is read before the predicate, so a change between the
    // two ends the wait below at once instead of being missed.
    const std::uint64_t seen = generation();
    if (predicate()) {
      return true;
    }
    std::unique_lock lock(mutex_);
    if (!changed_.wait_until(lock, deadline, [&] { return generation_ != seen || finished_; })) {
      lock.unlock();
      return predicate();
    }
    if (finished_ && generation_ == seen) {
      lock.unlock();
      return predicate();
    }
  }
}

bool FakeInputContext::wait_for_events(std::size_t count, std::chrono::milliseconds timeout) {
  return wait_until([&] { return events().size() >= count; }, timeout);
}

bool FakeInputContext::wait_for_idle_passes(std::size_t count, std::chrono::milliseconds timeout) {
  std::unique_lock lock(mutex_);
  const std::uint64_t target = idle_waits_ + count;
  return changed_.wait_for(lock, timeout, [&] { return idle_waits_ >= target; });
}

std::vector<Event> FakeInputContext::events() const {
  std::lock_guard lock(mutex_);
  std::vector<Event> all;
  for (const std::vector<Event>& batch : batches_) {
    all.insert(all.end(), batch.begin(), batch.end());
  }
  return all;
}

std::vector<std::string> FakeInputContext::event_texts() const {
  std::vector<std::string> texts;
  for (const Event& event : events()) {
    texts.push_back(event.json);
  }
  return texts;
}

std::vector<std::vector<Event>> FakeInputContext::batches() const {
  std::lock_guard lock(mutex_);
  return batches_;
}

void FakeInputContext::acknowledge_all() {
  std::vector<BatchPtr> released;
  {
    std::lock_guard lock(mutex_);
    released.swap(held_);
  }
  released.clear();
}

void FakeInputContext::drop_unacknowledged() {
  std::vector<BatchPtr> released;
  {
    std::lock_guard lock(mutex_);
    released.swap(held_);
  }
  for (const BatchPtr& batch : released) {
    for (const AckRef& ack : batch->acks) {
      ack->mark_undelivered();
    }
  }
  released.clear();
}

void FakeInputContext::set_auto_acknowledge(bool enabled) {
  std::lock_guard lock(mutex_);
  auto_acknowledge_ = enabled;
}

std::vector<std::string> FakeInputContext::log_lines() {
  const auto& sinks = log().sinks();
  const auto sink = std::dynamic_pointer_cast<spdlog::sinks::ringbuffer_sink_mt>(sinks.front());
  return sink->last_formatted();
}

bool FakeInputContext::log_contains(const std::string& text) {
  const std::vector<std::string> lines = log_lines();
  return std::any_of(lines.begin(), lines.end(),
                     [&](const std::string& line) { return line.find(text) != std::string::npos; });
}

std::uint64_t FakeInputContext::generation() const {
  std::lock_guard lock(mutex_);
  return generation_;
}

void FakeInputContext::signal_change() {
  {
    std::lock_guard lock(mutex_);
    ++generation_;
  }
  changed_.notify_all();
}

}  // namespace slipway::testing
