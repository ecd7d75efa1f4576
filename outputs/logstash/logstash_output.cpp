#include "outputs/logstash/logstash_output.hpp"

#include <fmt/format.h>

#include "engine/registry.hpp"
#include "outputs/http/http_client.hpp"

namespace slipway::outputs::logstash {

namespace {

// Logstash's beats input listens on 5044 unless configured otherwise.
constexpr std::uint16_t kDefaultBeatsPort = 5044;
// go-lumber, the reference Lumberjack server, rejects larger windows by default.
constexpr std::int64_t kMaxWindowEvents = 10'000;
constexpr std::int64_t kMaxTimeoutMs = 3'600'000;

const config::Schema kTlsSchema{{
    config::Field{.name = "enabled",
                  .type = config::FieldType::Boolean,
                  .doc = "Wrap beats and tcp connections in TLS; http uses TLS for https:// hosts instead",
                  .default_text = "false"},
    config::Field{.name = "verify",
                  .type = config::FieldType::Boolean,
                  .doc = "Check the server certificate and that it names the host; turn off only for tests",
                  .default_text = "true"},
    config::Field{.name = "ca_file",
                  .type = config::FieldType::String,
                  .doc = "PEM file of CA certificates to trust instead of the system store"},
    config::Field{.name = "cert_file",
                  .type = config::FieldType::String,
                  .doc = "PEM client certificate, for receivers that require one (ssl_client_authentication)"},
    config::Field{.name = "key_file", .type = config::FieldType::String, .doc = "PEM private key of cert_file"},
}};

}  // namespace

const config::Schema LogstashOutputConfig::kSchema{{
    config::Field{.name = "protocol",
                  .type = config::FieldType::Enum,
                  .doc = "beats: Lumberjack v2 to a beats input, delivered on ACK; tcp: JSON lines to a tcp input "
                         "with the json_lines codec; http: JSON arrays to an http input",
                  .default_text = "beats",
                  .choices = {"beats", "tcp", "http"}},
    config::Field{.name = "hosts",
                  .type = config::FieldType::StringList,
                  .doc = "Receivers in failover order: HOST:PORT for beats (port 5044 when left out) and tcp, "
                         "http:// or https:// URLs for http",
                  .required = true},
    config::Field{.name = "batch_max_events",
                  .type = config::FieldType::Integer,
                  .doc = "Most events in one beats window or http request",
                  .default_text = "2048",
                  .min = 1,
                  .max = kMaxWindowEvents},
    config::Field{.name = "compression_level",
                  .type = config::FieldType::Integer,
                  .doc = "beats: zlib level of compressed frames, 0 sends plain JSON frames; http: gzip when above "
                         "0. Compression costs more CPU than it saves on a LAN",
                  .default_text = "0",
                  .min = 0,
                  .max = 9},
    config::Field{.name = "timeout_ms",
                  .type = config::FieldType::Integer,
                  .doc = "Longest wait for a write, for each ACK (beats), for the receiver's TCP to confirm the "
                         "bytes (tcp) or for a response (http), in milliseconds",
                  .default_text = "30000",
                  .min = 1,
                  .max = kMaxTimeoutMs},
    config::Field{.name = "connect_timeout_ms",
                  .type = config::FieldType::Integer,
                  .doc = "Longest wait for a connection, TLS handshake included, in milliseconds",
                  .default_text = "10000",
                  .min = 1,
                  .max = kMaxTimeoutMs},
    config::Field{.name = "tls",
                  .type = config::FieldType::Object,
                  .doc = "TLS: enabled, verify, ca_file, cert_file, key_file",
                  .nested = &kTlsSchema},
    config::Field{.name = "user",
                  .type = config::FieldType::String,
                  .doc = "http: user for basic authentication, as the http input's `user`"},
    config::Field{.name = "password_file",
                  .type = config::FieldType::String,
                  .doc = "http: file holding the basic authentication password, read at start"},
}};

std::optional<LogstashOutputConfig> LogstashOutputConfig::parse(const config::Section& settings,
                                                                config::Errors& errors) {
  LogstashOutputConfig config;
  bool valid = true;
  const auto problem = [&](std::string_view key, std::string_view what) {
    errors.add(settings.location(key), fmt::format("{}: key \"{}\": {}", settings.context(), key, what));
    valid = false;
  };

  const std::string protocol = settings.string("protocol");
  if (protocol == "tcp") {
    config.protocol = Protocol::Tcp;
  } else if (protocol == "http") {
    config.protocol = Protocol::Http;
  }
  config.batch_max_events = static_cast<std::size_t>(settings.integer("batch_max_events"));
  config.compression_level = static_cast<int>(settings.integer("compression_level"));
  config.timeout = std::chrono::milliseconds(settings.integer("timeout_ms"));
  config.connect_timeout = std::chrono::milliseconds(settings.integer("connect_timeout_ms"));

  const config::Section tls = settings.object("tls");
  config.tls.enabled = tls.boolean("enabled");
  config.tls.verify = tls.boolean("verify");
  config.tls.ca_file = tls.string("ca_file");
  config.tls.cert_file = tls.string("cert_file");
  config.tls.key_file = tls.string("key_file");
  if (!config.tls.key_file.empty() && config.tls.cert_file.empty()) {
    problem("tls", "tls.key_file needs the client certificate in tls.cert_file");
  }
  if (config.protocol == Protocol::Http && tls.has("enabled")) {
    problem("tls", "tls.enabled is for beats and tcp; with protocol http, write https:// hosts instead");
  }

  for (const std::string& host : settings.strings("hosts")) {
    if (config.protocol == Protocol::Http) {
      if (const auto url_problem = http::check_url(host)) {
        problem("hosts", fmt::format("\"{}\": {}", host, *url_problem));
      }
      config.urls.push_back(host);
      continue;
    }
    std::string host_problem;
    const std::uint16_t default_port = config.protocol == Protocol::Beats ? kDefaultBeatsPort : 0;
    std::optional<Endpoint> endpoint = parse_endpoint(host, default_port, host_problem);
    if (endpoint && endpoint->port == 0) {
      host_problem = "the tcp protocol has no default port; write HOST:PORT";
      endpoint.reset();
    }
    if (!endpoint) {
      problem("hosts", fmt::format("\"{}\": {}", host, host_problem));
      continue;
    }
    config.endpoints.push_back(std::move(*endpoint));
  }
  if (settings.has("hosts") && config.endpoints.empty() && config.urls.empty() && valid) {
    problem("hosts", "expected at least one host");
  }

  config.user = settings.string("user");
  config.password_file = settings.string("password_file");
  if (config.protocol != Protocol::Http) {
    for (std::string_view key : {"user", "password_file"}) {
      if (settings.has(key)) {
        problem(key, "only used with protocol http; remove it");
      }
    }
  } else if (settings.has("user") != settings.has("password_file")) {
    problem(settings.has("user") ? "password_file" : "user",
            "basic authentication needs both user and password_file");
  }
  if (config.protocol == Protocol::Tcp && settings.has("compression_level")) {
    problem("compression_level", "the tcp protocol sends plain JSON lines; remove it");
  }

  if (!valid) {
    return std::nullopt;
  }
  return config;
}

LogstashOutput::LogstashOutput(LogstashOutputConfig config) : config_(std::move(config)) {}

std::unique_ptr<Output> LogstashOutput::create(const config::Section& settings, config::Errors& errors) {
  std::optional<LogstashOutputConfig> config = LogstashOutputConfig::parse(settings, errors);
  if (!config) {
    return nullptr;
  }
  return std::make_unique<LogstashOutput>(std::move(*config));
}

void LogstashOutput::start(OutputContext& context) {
  switch (config_.protocol) {
    case Protocol::Beats:
      sender_ = make_beats_sender(config_);
      break;
    case Protocol::Tcp:
      sender_ = make_json_lines_sender(config_);
      break;
    case Protocol::Http:
      sender_ = make_http_sender(config_);
      break;
  }
  try {
    sender_->start(context);
  } catch (const std::runtime_error& error) {
    // The http output's own start() already names the component.
    const std::string prefix = fmt::format("{} \"{}\": ", component_kind_name(context.kind()), context.id());
    const std::string message = error.what();
    throw std::runtime_error(message.starts_with(prefix) ? message : prefix + message);
  }
}

DeliveryResult LogstashOutput::deliver(const BatchPtr& batch, OutputContext& context) {
  return sender_->deliver(batch, context);
}

void LogstashOutput::stop(OutputContext& context) {
  if (sender_) {
    sender_->stop(context);
  }
}

SLIPWAY_REGISTER_OUTPUT("logstash",
                        "Ships events to Logstash as Filebeat does (beats, delivered on ACK), as JSON lines over "
                        "TCP, or over HTTP",
                        LogstashOutputConfig::kSchema, &LogstashOutput::create);

}  // namespace slipway::outputs::logstash
