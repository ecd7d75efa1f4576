#include "inputs/redis/redis_input.hpp"

#include <fmt/format.h>

#include "engine/registry.hpp"

namespace slipway::inputs {

namespace {

constexpr std::int64_t kMaxBatchEvents = 64 * 1024;

// Keys that only one mode reads, so a key written for another mode is
// reported instead of being ignored.
struct ModeKey {
  const char* name;
  RedisInputMode mode;
};
constexpr ModeKey kModeKeys[] = {
    {"stream", RedisInputMode::Stream},         {"group", RedisInputMode::Stream},
    {"consumer", RedisInputMode::Stream},       {"start_id", RedisInputMode::Stream},
    {"claim_idle_ms", RedisInputMode::Stream},  {"payload_field", RedisInputMode::Stream},
    {"entry_id_field", RedisInputMode::Stream}, {"key", RedisInputMode::List},
    {"processing_list", RedisInputMode::List},  {"channels", RedisInputMode::Pubsub},
    {"patterns", RedisInputMode::Pubsub},       {"channel_field", RedisInputMode::Pubsub},
};

const char* mode_name(RedisInputMode mode) {
  switch (mode) {
    case RedisInputMode::Stream:
      return "stream";
    case RedisInputMode::List:
      return "list";
    case RedisInputMode::Pubsub:
      return "pubsub";
  }
  return "stream";
}

RedisInputMode parse_mode(const std::string& text) {
  if (text == "list") {
    return RedisInputMode::List;
  }
  return text == "pubsub" ? RedisInputMode::Pubsub : RedisInputMode::Stream;
}

config::Schema build_schema() {
  config::Schema schema;
  schema.fields.push_back(config::Field{
      .name = "mode",
      .type = config::FieldType::Enum,
      .doc = "stream: a consumer group on a stream; list: a reliable queue on a list; pubsub: channels and "
             "patterns, with no replay",
      .required = true,
      .choices = {"stream", "list", "pubsub"}});
  for (config::Field& field : redis::ConnectionSettings::fields()) {
    schema.fields.push_back(std::move(field));
  }
  const std::vector<config::Field> own_fields = {
      config::Field{.name = "batch_max_events",
                    .type = config::FieldType::Integer,
                    .doc = "Most entries, items or messages read into one batch",
                    .default_text = "512",
                    .min = 1,
                    .max = kMaxBatchEvents},
      config::Field{.name = "block_ms",
                    .type = config::FieldType::Integer,
                    .doc = "Longest wait of one blocking read for new data, in milliseconds; also bounds how long "
                           "a stop waits for the read",
                    .default_text = "1000",
                    .min = 1,
                    .max = 60'000},
      config::Field{.name = "stream", .type = config::FieldType::String, .doc = "stream: key of the stream to read"},
      config::Field{.name = "group",
                    .type = config::FieldType::String,
                    .doc = "stream: consumer group, created at start when missing",
                    .default_text = "slipway"},
      config::Field{.name = "consumer",
                    .type = config::FieldType::String,
                    .doc = "stream: this process's name in the group; default: host name and process id. A name "
                           "that stays the same across restarts re-reads its own pending entries at once, and the "
                           "group does not collect one consumer per start"},
      config::Field{.name = "start_id",
                    .type = config::FieldType::String,
                    .doc = "stream: where a newly created group starts: 0 for every entry, $ for new entries "
                           "only, or an entry ID",
                    .default_text = "0"},
      config::Field{.name = "claim_idle_ms",
                    .type = config::FieldType::Integer,
                    .doc = "stream: entries pending this long at another consumer are claimed and delivered "
                           "here, in milliseconds; keep it above the longest delivery time",
                    .default_text = "60000",
                    .min = 1},
      config::Field{.name = "payload_field",
                    .type = config::FieldType::String,
                    .doc = "stream: entry field that holds the event as JSON; an entry without it becomes an "
                           "object of all its fields",
                    .default_text = "event"},
      config::Field{.name = "entry_id_field",
                    .type = config::FieldType::String,
                    .doc = "stream: member added to each event with its entry ID; default: none"},
      config::Field{.name = "key",
                    .type = config::FieldType::String,
                    .doc = "list: key of the list to read; producers push with LPUSH"},
      config::Field{.name = "processing_list",
                    .type = config::FieldType::String,
                    .doc = "list: where items wait until delivered, one per consumer process; default: "
                           "KEY:processing"},
      config::Field{.name = "channels",
                    .type = config::FieldType::StringList,
                    .doc = "pubsub: channels to SUBSCRIBE to, e.g. Slips' export_evidence"},
      config::Field{.name = "patterns",
                    .type = config::FieldType::StringList,
                    .doc = "pubsub: glob patterns to PSUBSCRIBE to, e.g. evidence_*"},
      config::Field{.name = "channel_field",
                    .type = config::FieldType::String,
                    .doc = "pubsub: member added to each event with the channel it came from; default: none"},
  };
  schema.fields.insert(schema.fields.end(), own_fields.begin(), own_fields.end());
  return schema;
}

void check_mode_keys(const config::Section& settings, RedisInputMode mode, config::Errors& errors) {
  for (const ModeKey& key : kModeKeys) {
    if (key.mode != mode && settings.has(key.name)) {
      errors.add(settings.location(key.name),
                 fmt::format("{}: key \"{}\" applies to mode {} only; remove it or set mode: {}", settings.context(),
                             key.name, mode_name(key.mode), mode_name(key.mode)));
    }
  }
}

void require(const config::Section& settings, bool present, const char* key, const char* purpose,
             config::Errors& errors) {
  if (!present) {
    errors.add(settings.location(key), fmt::format("{}: mode {} needs key \"{}\", {}", settings.context(),
                                                   settings.string("mode"), key, purpose));
  }
}

}  // namespace

const config::Schema RedisInputConfig::kSchema = build_schema();

RedisInputConfig RedisInputConfig::parse(const config::Section& settings, config::Errors& errors) {
  RedisInputConfig config;
  config.mode = parse_mode(settings.string("mode"));
  config.connection = redis::ConnectionSettings::parse(settings, errors);
  config.batch_max_events = static_cast<std::size_t>(settings.integer("batch_max_events"));
  config.block = std::chrono::milliseconds(settings.integer("block_ms"));
  check_mode_keys(settings, config.mode, errors);

  config.stream = settings.string("stream");
  config.group = settings.string("group");
  config.consumer = settings.has("consumer") ? settings.string("consumer") : redis::default_consumer_name();
  config.start_id = settings.string("start_id");
  config.claim_idle = std::chrono::milliseconds(settings.integer("claim_idle_ms"));
  config.payload_field = settings.string("payload_field");
  config.entry_id_field = settings.string("entry_id_field");
  config.key = settings.string("key");
  config.processing_list =
      settings.has("processing_list") ? settings.string("processing_list") : config.key + ":processing";
  config.channels = settings.strings("channels");
  config.patterns = settings.strings("patterns");
  config.channel_field = settings.string("channel_field");

  switch (config.mode) {
    case RedisInputMode::Stream:
      require(settings, !config.stream.empty(), "stream", "the key of the stream to read", errors);
      require(settings, !config.group.empty(), "group", "the consumer group to read in", errors);
      require(settings, !config.consumer.empty(), "consumer", "this process's name in the group", errors);
      break;
    case RedisInputMode::List:
      require(settings, !config.key.empty(), "key", "the key of the list to read", errors);
      if (!config.key.empty() && config.processing_list == config.key) {
        errors.add(settings.location("processing_list"),
                   fmt::format("{}: key \"processing_list\" must differ from key \"{}\"; items would move onto "
                               "the list they came from",
                               settings.context(), config.key));
      }
      break;
    case RedisInputMode::Pubsub:
      require(settings, !config.channels.empty() || !config.patterns.empty(), "channels",
              "or \"patterns\", at least one channel or pattern to subscribe to", errors);
      break;
  }
  return config;
}

std::unique_ptr<Input> RedisInput::create(const config::Section& settings, config::Errors& errors) {
  return std::make_unique<RedisInput>(RedisInputConfig::parse(settings, errors));
}

void RedisInput::run(InputContext& context) {
  const std::string password = config_.connection.password_file.empty()
                                   ? std::string()
                                   : redis::read_password_file(config_.connection.password_file);
  switch (config_.mode) {
    case RedisInputMode::Stream:
      redis_modes::run_stream(config_, password, context);
      break;
    case RedisInputMode::List:
      redis_modes::run_list(config_, password, context);
      break;
    case RedisInputMode::Pubsub:
      redis_modes::run_pubsub(config_, password, context);
      break;
  }
}

SLIPWAY_REGISTER_INPUT("redis",
                       "Reads events from a Redis stream (consumer group), list (reliable queue) or "
                       "pub/sub channels",
                       RedisInputConfig::kSchema, &RedisInput::create);

}  // namespace slipway::inputs
