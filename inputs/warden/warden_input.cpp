#include "inputs/warden/warden_input.hpp"

#include <charconv>
#include <map>

#include <fmt/format.h>

#include "engine/json.hpp"
#include "engine/registry.hpp"

namespace slipway::inputs::warden {

namespace {

using outputs::warden::WardenClient;
using outputs::warden::WardenSettings;

constexpr auto kFailureLogInterval = std::chrono::seconds(10);
constexpr std::int64_t kMaxCount = 100'000;
constexpr std::int64_t kMaxPollIntervalMs = 86'400'000;

// The getEvents query parameter of each filter key, and its opposite.
struct FilterKey {
  std::string_view key;
  std::string_view exclude_key;
  std::string_view parameter;
  std::string_view exclude_parameter;
};
constexpr FilterKey kFilterKeys[] = {
    {"categories", "exclude_categories", "cat", "nocat"},
    {"tags", "exclude_tags", "tag", "notag"},
    {"groups", "exclude_groups", "group", "nogroup"},
};

config::Schema make_schema() {
  std::vector<config::Field> fields;
  WardenSettings::add_schema_fields(fields);
  const std::vector<config::Field> own = {
      config::Field{.name = "count",
                    .type = config::FieldType::Integer,
                    .doc = "Most events one getEvents call returns; the server caps it at its get_events_limit",
                    .default_text = "1000",
                    .min = 1,
                    .max = kMaxCount},
      config::Field{.name = "categories",
                    .type = config::FieldType::StringList,
                    .doc = "Fetch only events in these categories (Recon.Scanning, or a top-level word such as Recon)"},
      config::Field{.name = "exclude_categories",
                    .type = config::FieldType::StringList,
                    .doc = "Fetch no events in these categories; not together with categories"},
      config::Field{.name = "tags",
                    .type = config::FieldType::StringList,
                    .doc = "Fetch only events whose Node Type has one of these tags (Honeypot, Flow, ...)"},
      config::Field{.name = "exclude_tags",
                    .type = config::FieldType::StringList,
                    .doc = "Fetch no events whose Node Type has one of these tags; not together with tags"},
      config::Field{.name = "groups",
                    .type = config::FieldType::StringList,
                    .doc = "Fetch only events sent by these clients or their dotted subtrees (cz.cesnet)"},
      config::Field{.name = "exclude_groups",
                    .type = config::FieldType::StringList,
                    .doc = "Fetch no events sent by these clients or subtrees; not together with groups"},
      config::Field{.name = "poll_interval_ms",
                    .type = config::FieldType::Integer,
                    .doc = "Wait between two getEvents calls when the last one returned fewer than count events, in "
                           "milliseconds",
                    .default_text = "60000",
                    .min = 1,
                    .max = kMaxPollIntervalMs},
  };
  fields.insert(fields.end(), own.begin(), own.end());
  return config::Schema{std::move(fields)};
}

std::optional<std::int64_t> parse_id(std::string_view text) {
  std::int64_t value = 0;
  const auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (error != std::errc() || end != text.data() + text.size()) {
    return std::nullopt;
  }
  return value;
}

}  // namespace

const config::Schema WardenInputConfig::kSchema = make_schema();

std::optional<WardenInputConfig> WardenInputConfig::parse(const config::Section& settings, config::Errors& errors) {
  WardenInputConfig config;
  bool valid = true;
  std::optional<WardenSettings> connection = WardenSettings::parse(settings, errors);
  config.count = static_cast<std::size_t>(settings.integer("count"));
  config.categories = settings.strings("categories");
  config.exclude_categories = settings.strings("exclude_categories");
  config.tags = settings.strings("tags");
  config.exclude_tags = settings.strings("exclude_tags");
  config.groups = settings.strings("groups");
  config.exclude_groups = settings.strings("exclude_groups");
  config.poll_interval = std::chrono::milliseconds(settings.integer("poll_interval_ms"));
  for (const FilterKey& filter : kFilterKeys) {
    // The server rejects both at once with 422; saying so here saves a failing start.
    if (settings.has(filter.key) && settings.has(filter.exclude_key)) {
      errors.add(settings.location(filter.exclude_key),
                 fmt::format("{}: key \"{}\": cannot be combined with \"{}\"; keep one of them", settings.context(),
                             filter.exclude_key, filter.key));
      valid = false;
    }
  }
  if (!connection || !valid) {
    return std::nullopt;
  }
  config.connection = std::move(*connection);
  config.count = std::min(config.count, config.connection.get_events_limit);
  return config;
}

WardenInput::WardenInput(WardenInputConfig config) : config_(std::move(config)) {}

std::unique_ptr<Input> WardenInput::create(const config::Section& settings, config::Errors& errors) {
  std::optional<WardenInputConfig> config = WardenInputConfig::parse(settings, errors);
  if (!config) {
    return nullptr;
  }
  return std::make_unique<WardenInput>(std::move(*config));
}

void WardenInput::run(InputContext& context) {
  client_ = std::make_unique<WardenClient>(config_.connection, context.log());
  checkpoint_key_ = fmt::format("{} client={}", client_->endpoint("getEvents"), config_.connection.client_name);
  origin_ = std::make_shared<const std::string>(client_->endpoint("getEvents"));

  std::optional<std::int64_t> cursor;
  const std::map<std::string, std::string> checkpoints = context.load_checkpoints();
  if (const auto found = checkpoints.find(checkpoint_key_); found != checkpoints.end()) {
    cursor = parse_id(found->second);
    if (!cursor) {
      context.log().warn("Ignoring a checkpoint that is not an event id; starting at the server's newest event. "
                         "value={}",
                         found->second);
    }
  }
  context.log().info("Polling Warden. url={} client={} count={} poll_interval_ms={} resume_after_id={}",
                     client_->endpoint("getEvents"), config_.connection.client_name, config_.count,
                     config_.poll_interval.count(), cursor ? std::to_string(*cursor) : "none");

  while (!context.stop_requested()) {
    Poll poll = get_events(cursor);
    if (!poll.ok) {
      report_failure(poll.error, context);
      if (context.wait_for_stop(config_.poll_interval)) {
        break;
      }
      continue;
    }
    context.health().set_healthy();
    if (!cursor) {
      context.log().info("First start: beginning at the server's newest event. id={}", poll.last_id);
    }
    const std::size_t received = poll.events.size();
    if (!cursor || poll.last_id != *cursor || received > 0) {
      emit(poll, context);
    }
    cursor = poll.last_id;
    // A full reply means more events are waiting.
    if (received < config_.count && context.wait_for_stop(config_.poll_interval)) {
      break;
    }
  }
}

WardenInput::Poll WardenInput::get_events(std::optional<std::int64_t> cursor) {
  WardenClient::Query query;
  // The server reads id=0 as "start at the newest event" and id=-K as "the
  // last K events", so a cursor of 0, from a server that had no events at
  // the first start, asks for the last `count` events instead.
  // NOTE: when more than `count` events arrived on such a server before
  // the second poll, the oldest of them are skipped.
  if (cursor) {
    const std::int64_t id = *cursor == 0 ? -static_cast<std::int64_t>(config_.count) : *cursor;
    query.emplace_back("id", std::to_string(id));
  }
  query.emplace_back("count", std::to_string(config_.count));
  const auto add_all = [&](std::string_view parameter, const std::vector<std::string>& values) {
    for (const std::string& value : values) {
      query.emplace_back(std::string(parameter), value);
    }
  };
  add_all("cat", config_.categories);
  add_all("nocat", config_.exclude_categories);
  add_all("tag", config_.tags);
  add_all("notag", config_.exclude_tags);
  add_all("group", config_.groups);
  add_all("nogroup", config_.exclude_groups);

  Poll poll;
  const outputs::http::Result result = client_->call("getEvents", query, "");
  if (!result.response || result.response->status != 200) {
    poll.error = outputs::warden::describe_failure(*client_, "getEvents", result);
    return poll;
  }
  const json::ParseResult parsed = json::parse(result.response->body);
  const json::Value* last_id = parsed.value ? parsed.value->find("lastid") : nullptr;
  const json::Value* events = parsed.value ? parsed.value->find("events") : nullptr;
  if (last_id == nullptr || !last_id->as_int() || events == nullptr || !events->is_array()) {
    poll.error = fmt::format("POST {} returned 200 without \"lastid\" and \"events\"", client_->endpoint("getEvents"));
    return poll;
  }
  poll.ok = true;
  poll.last_id = *last_id->as_int();
  for (const json::Value& event : events->items()) {
    poll.events.push_back(json::to_string(event));
  }
  return poll;
}

void WardenInput::emit(Poll& poll, InputContext& context) {
  Batch batch;
  for (std::string& text : poll.events) {
    const EventOrigin origin{origin_, 0, 0};
    if (text.empty() || text.front() != '{') {
      context.dead_letter(text, origin, "a Warden event that is not a JSON object");
      continue;
    }
    batch.events.push_back(Event{std::move(text), origin});
  }
  // The reference is released at once when the batch is empty, which
  // commits a cursor that moved past filtered events without delivering any.
  AckRef ack = context.track(CheckpointEntry{checkpoint_key_, std::to_string(poll.last_id)});
  if (batch.events.empty()) {
    return;
  }
  batch.acks.push_back(std::move(ack));
  context.emit(std::move(batch));
}

void WardenInput::report_failure(const std::string& error, InputContext& context) {
  context.metrics().errors.fetch_add(1, std::memory_order_relaxed);
  context.health().set_degraded(error);
  const auto now = std::chrono::steady_clock::now();
  if (now - last_failure_log_ < kFailureLogInterval) {
    ++suppressed_failure_logs_;
    return;
  }
  context.log().warn("Polling Warden failed; trying again after poll_interval_ms. similar_messages_suppressed={} "
                     "error=\"{}\"",
                     suppressed_failure_logs_, error);
  last_failure_log_ = now;
  suppressed_failure_logs_ = 0;
}

SLIPWAY_REGISTER_INPUT("warden", "Fetches IDEA events from a Warden 3 server with getEvents, resuming at the last "
                                 "delivered event id",
                       WardenInputConfig::kSchema, &WardenInput::create);

}  // namespace slipway::inputs::warden
