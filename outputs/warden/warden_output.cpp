#include "outputs/warden/warden_output.hpp"

#include <algorithm>

#include <fmt/format.h>

#include "engine/delivery.hpp"
#include "engine/json.hpp"
#include "engine/registry.hpp"

namespace slipway::outputs::warden {

namespace {

constexpr auto kRejectionLogInterval = std::chrono::seconds(10);
// The reference client's default; the server's getInfo may lower it.
constexpr std::int64_t kDefaultSendEventsLimit = 500;
constexpr std::int64_t kMaxSendEventsLimit = 100'000;
constexpr std::string_view kSoftwareName = "slipway";

config::Schema make_schema() {
  std::vector<config::Field> fields;
  WardenSettings::add_schema_fields(fields);
  const std::vector<config::Field> own = {
      config::Field{.name = "send_events_limit",
                    .type = config::FieldType::Integer,
                    .doc = "Most events in one sendEvents call; lowered to the server's limit from getInfo",
                    .default_text = std::to_string(kDefaultSendEventsLimit),
                    .min = 1,
                    .max = kMaxSendEventsLimit},
      config::Field{.name = "drop_private_addresses",
                    .type = config::FieldType::Boolean,
                    .doc = "Remove private, loopback, link-local and reserved addresses from Source and Target, and "
                           "send no event that has neither left",
                    .default_text = "true"},
      config::Field{.name = "private_ranges",
                    .type = config::FieldType::StringList,
                    .doc = "The ranges drop_private_addresses removes (CIDR blocks, first-last ranges or addresses), "
                           "replacing the default list of IANA special-purpose ranges"},
      config::Field{.name = "add_test_category",
                    .type = config::FieldType::Boolean,
                    .doc = "Add \"Test\" to every Category, as the server requires from clients on probation",
                    .default_text = "false"},
  };
  fields.insert(fields.end(), own.begin(), own.end());
  return config::Schema{std::move(fields)};
}

void set_node_name(json::Value& event, const std::string& client_name) {
  json::Value* nodes = event.find("Node");
  if (nodes != nullptr && nodes->is_array() && !nodes->items().empty() && nodes->items().front().is_object()) {
    nodes->items().front().set("Name", json::Value::string(client_name));
    return;
  }
  json::Value node = json::Value::object();
  node.set("Name", json::Value::string(client_name));
  json::Value software = json::Value::array();
  software.push_back(json::Value::string(std::string(kSoftwareName)));
  node.set("SW", std::move(software));
  json::Value list = json::Value::array();
  list.push_back(std::move(node));
  event.set("Node", std::move(list));
}

void add_test_category(json::Value& event) {
  json::Value* categories = event.find("Category");
  if (categories == nullptr || !categories->is_array()) {
    json::Value list = json::Value::array();
    list.push_back(json::Value::string("Test"));
    event.set("Category", std::move(list));
    return;
  }
  const bool present = std::any_of(categories->items().begin(), categories->items().end(),
                                   [](const json::Value& item) { return item.is_string() && item.as_string() == "Test"; });
  if (!present) {
    categories->push_back(json::Value::string("Test"));
  }
}

bool is_retryable_code(long code) { return code >= 500 || code == 408 || code == 429; }

}  // namespace

const config::Schema WardenOutputConfig::kSchema = make_schema();

std::optional<WardenOutputConfig> WardenOutputConfig::parse(const config::Section& settings, config::Errors& errors) {
  WardenOutputConfig config;
  std::optional<WardenSettings> connection = WardenSettings::parse(settings, errors);
  config.drop_private_addresses = settings.boolean("drop_private_addresses");
  config.private_ranges = settings.has("private_ranges") ? settings.strings("private_ranges") : default_private_ranges();
  config.add_test_category = settings.boolean("add_test_category");
  if (!connection) {
    return std::nullopt;
  }
  config.connection = std::move(*connection);
  if (settings.has("send_events_limit") || config.connection.send_events_limit == 0) {
    config.connection.send_events_limit = static_cast<std::size_t>(settings.integer("send_events_limit"));
  }
  return config;
}

WardenOutput::WardenOutput(WardenOutputConfig config, AddressFilter filter)
    : config_(std::move(config)), filter_(std::move(filter)), send_events_limit_(config_.connection.send_events_limit) {}

WardenOutput::~WardenOutput() = default;

std::unique_ptr<Output> WardenOutput::create(const config::Section& settings, config::Errors& errors) {
  std::optional<WardenOutputConfig> config = WardenOutputConfig::parse(settings, errors);
  if (!config) {
    return nullptr;
  }
  std::string error;
  std::optional<AddressFilter> filter = AddressFilter::create(config->private_ranges, error);
  if (!filter) {
    errors.add(settings.location("private_ranges"),
               fmt::format("{}: key \"private_ranges\": {}", settings.context(), error));
    return nullptr;
  }
  return std::make_unique<WardenOutput>(std::move(*config), std::move(*filter));
}

void WardenOutput::start(OutputContext& context) {
  try {
    client_ = std::make_unique<WardenClient>(config_.connection, context.log());
  } catch (const std::runtime_error& error) {
    throw std::runtime_error(fmt::format("{} \"{}\": {}", component_kind_name(context.kind()), context.id(), error.what()));
  }
  if (!config_.connection.url.starts_with("https://")) {
    context.log().warn("The Warden URL is not https, so no client certificate is presented and events travel "
                       "unencrypted. url={}",
                       http::url_for_messages(config_.connection.url));
  }
  if (!config_.drop_private_addresses) {
    context.log().warn("drop_private_addresses is off: internal addresses in Source and Target are shared with "
                       "every Warden recipient.");
  }
  context.log().info("Sending events to Warden. url={} client={} send_events_limit={} drop_private_addresses={}",
                     client_->endpoint("sendEvents"), config_.connection.client_name, send_events_limit_,
                     config_.drop_private_addresses);
}

void WardenOutput::stop(OutputContext& /*context*/) { client_.reset(); }

DeliveryResult WardenOutput::deliver(const BatchPtr& batch, OutputContext& context) {
  lower_limit_to_server(context);

  DeliveryResult delivery = DeliveryResult::delivered();
  const std::vector<Prepared> prepared = prepare(batch->events, delivery, context);
  std::optional<std::chrono::milliseconds> retry_after;
  std::size_t begin = 0;
  while (begin < prepared.size()) {
    const std::size_t end = std::min(prepared.size(), begin + send_events_limit_);
    std::vector<EventFailure> failures = send_chunk(prepared, begin, end, retry_after, context);
    const bool whole_chunk_retryable = failures.size() == end - begin &&
                                       std::all_of(failures.begin(), failures.end(),
                                                   [](const EventFailure& failure) { return failure.retryable; });
    report_rejections(failures, context);
    delivery.failures.insert(delivery.failures.end(), failures.begin(), failures.end());
    begin = end;
    // A server that failed a whole call is likely to fail the next, and each try may cost a timeout.
    if (whole_chunk_retryable) {
      for (std::size_t index = begin; index < prepared.size(); ++index) {
        delivery.failures.push_back(EventFailure{prepared[index].batch_index, true, failures.front().reason});
      }
      break;
    }
  }

  if (delivery.failures.size() == batch->events.size() && !delivery.failures.empty()) {
    const bool all_retryable = std::all_of(delivery.failures.begin(), delivery.failures.end(),
                                           [](const EventFailure& failure) { return failure.retryable; });
    const bool none_retryable = std::none_of(delivery.failures.begin(), delivery.failures.end(),
                                             [](const EventFailure& failure) { return failure.retryable; });
    if (all_retryable) {
      return DeliveryResult::retry(delivery.failures.front().reason, retry_after);
    }
    if (none_retryable) {
      return DeliveryResult::rejected(delivery.failures.front().reason);
    }
  }
  delivery.retry_after = retry_after;
  return delivery;
}

void WardenOutput::lower_limit_to_server(OutputContext& context) {
  if (server_limits_known_) {
    return;
  }
  const http::Result result = client_->call("getInfo", {}, "");
  if (!result.response) {
    return;  // the server is unreachable; sendEvents reports that, and the next batch asks again
  }
  // Asked once per run: a server that refuses getInfo reports its limit in
  // a 507 reply to sendEvents too, so sending can go on.
  server_limits_known_ = true;
  if (result.response->status != 200) {
    context.log().warn("Requesting the Warden server's limits failed; using send_events_limit={}. error=\"{}\"",
                       send_events_limit_, describe_failure(*client_, "getInfo", result));
    return;
  }
  const json::ParseResult info = json::parse(result.response->body);
  const json::Value* limit = info.value ? info.value->find("send_events_limit") : nullptr;
  if (limit != nullptr && limit->as_int() && *limit->as_int() > 0 &&
      static_cast<std::size_t>(*limit->as_int()) < send_events_limit_) {
    send_events_limit_ = static_cast<std::size_t>(*limit->as_int());
    context.log().info("Lowered send_events_limit to the server's. send_events_limit={}", send_events_limit_);
  }
}

std::vector<WardenOutput::Prepared> WardenOutput::prepare(const std::vector<Event>& events, DeliveryResult& delivery,
                                                          OutputContext& context) {
  std::vector<Prepared> prepared;
  prepared.reserve(events.size());
  for (std::size_t index = 0; index < events.size(); ++index) {
    json::ParseResult parsed = json::parse(events[index].json);
    if (!parsed.value || !parsed.value->is_object()) {
      delivery.failures.push_back(EventFailure{index, false, "the event is not a JSON object"});
      continue;
    }
    json::Value& event = *parsed.value;
    if (config_.drop_private_addresses && !filter_.apply(event).keep) {
      // NOTE: the engine counts every event that is not a failure as sent,
      // so an event dropped here shows in both dropped and sent counts.
      context.metrics().dropped_events.fetch_add(1, std::memory_order_relaxed);
      const json::Value* id = event.find("ID");
      context.log().debug("Event not sent: no public address left in Source or Target. id={}",
                          id != nullptr && id->is_string() ? id->as_string() : "-");
      continue;
    }
    set_node_name(event, config_.connection.client_name);
    if (config_.add_test_category) {
      add_test_category(event);
    }
    prepared.push_back(Prepared{index, json::to_string(event)});
  }
  return prepared;
}

std::vector<EventFailure> WardenOutput::send_chunk(const std::vector<Prepared>& prepared, std::size_t begin,
                                                   std::size_t end, std::optional<std::chrono::milliseconds>& retry_after,
                                                   OutputContext& context) {
  std::string body = "[";
  for (std::size_t index = begin; index < end; ++index) {
    body += index == begin ? "" : ",";
    body += prepared[index].json;
  }
  body += ']';

  const http::Result result = client_->call("sendEvents", {}, body);
  if (result.response && result.response->status == 200) {
    return {};
  }
  const std::string call_failure = describe_failure(*client_, "sendEvents", result);
  std::vector<std::optional<EventFailure>> by_position(end - begin);
  const auto fail = [&](std::size_t position, bool retryable, const std::string& reason) {
    if (position < by_position.size() && !by_position[position]) {
      by_position[position] = EventFailure{prepared[begin + position].batch_index, retryable, reason};
    }
  };

  const auto errors = result.response ? parse_errors(result.response->body) : std::nullopt;
  if (!errors || errors->empty()) {
    // No list of events: the failure concerns the whole call.
    const bool retryable = result.response ? is_retryable_http_status(result.response->status) : result.retryable;
    if (result.response && result.response->status == 429) {
      if (const auto value = result.response->header("Retry-After")) {
        retry_after = parse_retry_after(*value, std::chrono::system_clock::now());
      }
    }
    for (std::size_t position = 0; position < by_position.size(); ++position) {
      fail(position, retryable, call_failure);
    }
  } else {
    for (const WardenError& error : *errors) {
      if (error.send_events_limit && *error.send_events_limit < send_events_limit_) {
        send_events_limit_ = *error.send_events_limit;
        context.log().info("Lowered send_events_limit to the server's. send_events_limit={}", send_events_limit_);
      }
      // An error without event indices concerns the whole call, e.g. a failed authentication.
      const std::string reason =
          error.events.empty()
              ? fmt::format("POST {} returned {}: {}", client_->endpoint("sendEvents"), error.code, error.message)
              : fmt::format("POST {} rejected the event: {} {}", client_->endpoint("sendEvents"), error.code,
                            error.message);
      if (error.events.empty()) {
        for (std::size_t position = 0; position < by_position.size(); ++position) {
          fail(position, is_retryable_code(error.code), reason);
        }
      }
      for (std::size_t position : error.events) {
        fail(position, is_retryable_code(error.code), reason);
      }
    }
  }

  std::vector<EventFailure> failures;
  for (auto& failure : by_position) {
    if (failure) {
      failures.push_back(std::move(*failure));
    }
  }
  return failures;
}

void WardenOutput::report_rejections(const std::vector<EventFailure>& failures, OutputContext& context) {
  const std::size_t rejected = static_cast<std::size_t>(
      std::count_if(failures.begin(), failures.end(), [](const EventFailure& failure) { return !failure.retryable; }));
  if (rejected == 0) {
    return;
  }
  context.metrics().errors.fetch_add(1, std::memory_order_relaxed);
  const auto now = std::chrono::steady_clock::now();
  if (now - last_rejection_log_ < kRejectionLogInterval) {
    ++suppressed_rejection_logs_;
    return;
  }
  const auto first = std::find_if(failures.begin(), failures.end(), [](const EventFailure& failure) { return !failure.retryable; });
  context.log().error("Warden rejected events; they go to the dead-letter file. events={} "
                      "similar_messages_suppressed={} error=\"{}\"",
                      rejected, suppressed_rejection_logs_, first->reason);
  last_rejection_log_ = now;
  suppressed_rejection_logs_ = 0;
}

SLIPWAY_REGISTER_OUTPUT("warden", "Shares IDEA events with a Warden 3 server, without private addresses, in batches "
                                  "within the server's limit",
                        WardenOutputConfig::kSchema, &WardenOutput::create);

}  // namespace slipway::outputs::warden
