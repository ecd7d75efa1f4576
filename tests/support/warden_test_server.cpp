#include "tests/support/warden_test_server.hpp"

#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <sstream>

#include <fmt/format.h>
#include <httplib.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>

#include "engine/json.hpp"
#include "tests/support/process.hpp"
#include "tests/support/temp_dir.hpp"

namespace slipway::testing {

namespace {

constexpr auto kCommandTimeout = std::chrono::seconds(20);
constexpr std::string_view kBasePath = "/warden3/";

const std::set<std::string>& known_categories() {
  static const std::set<std::string> categories = {
      "Abusive", "Abusive.Spam", "Abusive.Harassment", "Abusive.Child", "Abusive.Sexual", "Abusive.Violence",
      "Malware", "Malware.Virus", "Malware.Worm", "Malware.Trojan", "Malware.Spyware", "Malware.Dialer",
      "Malware.Rootkit", "Recon", "Recon.Scanning", "Recon.Sniffing", "Recon.SocialEngineering", "Recon.Searching",
      "Attempt", "Attempt.Exploit", "Attempt.Login", "Attempt.NewSignature", "Intrusion", "Intrusion.AdminCompromise",
      "Intrusion.UserCompromise", "Intrusion.AppCompromise", "Intrusion.Botnet", "Availability", "Availability.DoS",
      "Availability.DDoS", "Availability.Sabotage", "Availability.Outage", "Information",
      "Information.UnauthorizedAccess", "Information.UnauthorizedModification", "Fraud", "Fraud.UnauthorizedUsage",
      "Fraud.Copyright", "Fraud.Masquerade", "Fraud.Phishing", "Fraud.Scam", "Vulnerable", "Vulnerable.Open",
      "Vulnerable.Config", "Anomaly", "Anomaly.Traffic", "Anomaly.Connection", "Anomaly.Protocol", "Anomaly.System",
      "Anomaly.Application", "Anomaly.Behaviour", "Other", "Test"};
  return categories;
}

std::filesystem::path find_openssl() {
  const char* path = std::getenv("PATH");
  std::stringstream directories(path != nullptr ? path : "/usr/bin:/bin");
  std::string directory;
  while (std::getline(directories, directory, ':')) {
    const std::filesystem::path candidate = std::filesystem::path(directory) / "openssl";
    if (::access(candidate.c_str(), X_OK) == 0) {
      return candidate;
    }
  }
  return {};
}

bool run_openssl(const std::filesystem::path& dir, std::vector<std::string> arguments) {
  static const std::filesystem::path openssl = find_openssl();
  if (openssl.empty()) {
    return false;
  }
  arguments.insert(arguments.begin(), openssl.string());
  ChildProcess process(arguments, dir / "openssl.out", dir / "openssl.err");
  return process.wait(kCommandTimeout) == 0;
}

// A key and a certificate for `common_name` signed by the CA `ca`.
std::optional<TestCertificate> issue(const std::filesystem::path& dir, const TestCertificate& ca, std::string_view name,
                                     std::string_view common_name, std::string_view extensions) {
  const std::string base = (dir / name).string();
  write_file(base + ".ext", extensions);
  if (!run_openssl(dir, {"req", "-new", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes", "-subj",
                         fmt::format("/CN={}", common_name), "-keyout", base + ".key", "-out", base + ".csr"}) ||
      !run_openssl(dir, {"x509", "-req", "-in", base + ".csr", "-CA", ca.cert_file.string(), "-CAkey",
                         ca.key_file.string(), "-CAcreateserial", "-days", "2", "-extfile", base + ".ext", "-out",
                         base + ".crt"})) {
    return std::nullopt;
  }
  return TestCertificate{base + ".crt", base + ".key"};
}

std::optional<TestCertificate> make_ca(const std::filesystem::path& dir, std::string_view name) {
  const std::string base = (dir / name).string();
  if (!run_openssl(dir, {"req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes", "-days",
                         "2", "-subj", fmt::format("/CN={}", name), "-addext", "basicConstraints=critical,CA:TRUE",
                         "-addext", "keyUsage=critical,keyCertSign,cRLSign", "-keyout", base + ".key", "-out",
                         base + ".crt"})) {
    return std::nullopt;
  }
  return TestCertificate{base + ".crt", base + ".key"};
}

// The CN and DNS names of the client's certificate.
std::set<std::string> certificate_names(const SSL* ssl) {
  std::set<std::string> names;
  if (ssl == nullptr) {
    return names;
  }
  X509* certificate = SSL_get1_peer_certificate(ssl);
  if (certificate == nullptr) {
    return names;
  }
  char common_name[256] = {};
  if (X509_NAME_get_text_by_NID(X509_get_subject_name(certificate), NID_commonName, common_name,
                                sizeof(common_name)) > 0) {
    names.insert(common_name);
  }
  auto* alternatives =
      static_cast<GENERAL_NAMES*>(X509_get_ext_d2i(certificate, NID_subject_alt_name, nullptr, nullptr));
  for (int index = 0; alternatives != nullptr && index < sk_GENERAL_NAME_num(alternatives); ++index) {
    const GENERAL_NAME* alternative = sk_GENERAL_NAME_value(alternatives, index);
    if (alternative->type == GEN_DNS) {
      const ASN1_STRING* dns = alternative->d.dNSName;
      names.insert(std::string(reinterpret_cast<const char*>(ASN1_STRING_get0_data(dns)),
                               static_cast<std::size_t>(ASN1_STRING_length(dns))));
    }
  }
  GENERAL_NAMES_free(alternatives);
  X509_free(certificate);
  return names;
}

std::vector<std::string> params(const httplib::Request& request, const std::string& key) {
  std::vector<std::string> values;
  for (std::size_t index = 0; index < request.get_param_value_count(key); ++index) {
    values.push_back(request.get_param_value(key, index));
  }
  return values;
}

std::string error_body(std::string_view method, const std::vector<std::string>& entries) {
  std::string body = fmt::format(R"({{"method":"{}","req_id":{},"errors":[)", method, ::getpid());
  for (std::size_t index = 0; index < entries.size(); ++index) {
    body += (index == 0 ? "" : ",") + entries[index];
  }
  return body + "]}";
}

std::string error_entry(int code, std::string_view message) {
  std::string text;
  json::append_quoted(message, text);
  return fmt::format(R"({{"error":{},"message":{}}})", code, text);
}

bool matches_category(const json::Value& event, const std::string& requested) {
  const json::Value* categories = event.find("Category");
  if (categories == nullptr || !categories->is_array()) {
    return false;
  }
  return std::any_of(categories->items().begin(), categories->items().end(), [&](const json::Value& category) {
    if (!category.is_string()) {
      return false;
    }
    const std::string& name = category.as_string();
    return name == requested || name.substr(0, name.find('.')) == requested;
  });
}

bool matches_tag(const json::Value& event, const std::string& requested) {
  const json::Value* nodes = event.find("Node");
  if (nodes == nullptr || !nodes->is_array()) {
    return false;
  }
  for (const json::Value& node : nodes->items()) {
    const json::Value* types = node.find("Type");
    if (types != nullptr && types->is_array() &&
        std::any_of(types->items().begin(), types->items().end(),
                    [&](const json::Value& type) { return type.is_string() && type.as_string() == requested; })) {
      return true;
    }
  }
  return false;
}

bool matches_group(const std::string& group, const std::string& requested) {
  return group == requested || group.starts_with(requested + ".");
}

}  // namespace

std::optional<TestPki> make_test_pki(const std::filesystem::path& dir, std::string_view client_host) {
  const auto ca = make_ca(dir, "warden-ca");
  const auto other_ca = make_ca(dir, "other-ca");
  if (!ca || !other_ca) {
    return std::nullopt;
  }
  const auto server = issue(dir, *ca, "warden-server", "127.0.0.1",
                            "subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth\n");
  const std::string client_extensions =
      fmt::format("subjectAltName=DNS:{}\nextendedKeyUsage=clientAuth\n", client_host);
  const auto client = issue(dir, *ca, "warden-client", client_host, client_extensions);
  const auto stranger = issue(dir, *other_ca, "stranger", client_host, client_extensions);
  if (!server || !client || !stranger) {
    return std::nullopt;
  }
  return TestPki{ca->cert_file, *server, *client, *stranger};
}

struct WardenTestServer::State {
  Options options;
  mutable std::mutex mutex;
  std::vector<StoredEvent> events;
  std::vector<WardenCall> calls;
  std::map<std::string, std::int64_t> last_delivered;  // by client name
  std::set<std::string> failing_ids;
  int failing_code = 500;
  std::string failing_message;
};

WardenTestServer::WardenTestServer(const TestPki& pki, Options options) : state_(std::make_unique<State>()) {
  state_->options = std::move(options);
  server_ = std::make_unique<httplib::SSLServer>(pki.server.cert_file.c_str(), pki.server.key_file.c_str(),
                                                 pki.ca_file.c_str());
  if (!server_->is_valid()) {
    return;
  }
  // The server ignores the HTTP method; clients use POST.
  const auto handler = [this](const httplib::Request& request, httplib::Response& response) {
    handle(request, response);
  };
  server_->Post(".*", handler);
  server_->Get(".*", handler);
  port_ = server_->bind_to_any_port("127.0.0.1");
  if (port_ > 0) {
    thread_ = std::thread([this] { server_->listen_after_bind(); });
  }
}

WardenTestServer::~WardenTestServer() {
  if (!thread_.joinable()) {
    return;
  }
  wait_until([&] { return server_->is_running(); }, kCommandTimeout);
  server_->stop();
  thread_.join();
}

std::string WardenTestServer::url() const { return fmt::format("https://127.0.0.1:{}/warden3", port_); }

void WardenTestServer::fail_events_once(const std::set<std::string>& ids, int code, const std::string& message) {
  std::lock_guard lock(state_->mutex);
  state_->failing_ids = ids;
  state_->failing_code = code;
  state_->failing_message = message;
}

std::int64_t WardenTestServer::add_event(const std::string& json, const std::string& group) {
  std::lock_guard lock(state_->mutex);
  const std::int64_t id = static_cast<std::int64_t>(state_->events.size()) + 1;
  state_->events.push_back(StoredEvent{id, group, json});
  return id;
}

std::vector<StoredEvent> WardenTestServer::events() const {
  std::lock_guard lock(state_->mutex);
  return state_->events;
}

std::vector<WardenCall> WardenTestServer::calls() const {
  std::lock_guard lock(state_->mutex);
  return state_->calls;
}

void WardenTestServer::handle(const httplib::Request& request, httplib::Response& response) {
  std::lock_guard lock(state_->mutex);
  WardenCall call;
  call.method = request.path.starts_with(kBasePath) ? request.path.substr(kBasePath.size()) : request.path;
  for (const auto& [key, value] : request.params) {
    call.query[key].push_back(key == "secret" ? "[secret]" : value);
  }
  const auto reply = [&](int status, const std::string& body) {
    call.status = status;
    response.status = status;
    response.set_content(body, "application/json");
    state_->calls.push_back(call);
  };

  // Authentication: a registered client with this name, this secret and a
  // host name that the certificate names.
  const std::string client_name = request.get_param_value("client");
  const std::string secret = request.get_param_value("secret");
  const std::set<std::string> names = certificate_names(request.ssl);
  const auto client = std::find_if(state_->options.clients.begin(), state_->options.clients.end(),
                                   [&](const WardenClientRecord& record) {
                                     return record.name == client_name && record.secret == secret &&
                                            names.count(record.hostname) > 0;
                                   });
  if (client == state_->options.clients.end()) {
    reply(403, error_body(call.method, {error_entry(403, "I'm watching. Authenticate.")}));
    return;
  }

  if (call.method == "getInfo") {
    reply(200, fmt::format(R"({{"version":"3.0-beta2","send_events_limit":{},"get_events_limit":{},)"
                           R"("description":"slipway test server"}})",
                           state_->options.advertised_send_events_limit > 0
                               ? state_->options.advertised_send_events_limit
                               : state_->options.send_events_limit,
                           state_->options.get_events_limit));
    return;
  }

  if (call.method == "sendEvents") {
    const json::ParseResult parsed = json::parse(request.body);
    if (!parsed.value || !parsed.value->is_array()) {
      reply(400, error_body(call.method, {error_entry(400, "Deserialization error.")}));
      return;
    }
    const std::vector<json::Value>& posted = parsed.value->items();
    call.events = posted.size();
    // Errors grouped by code and message, with the indices they concern.
    std::map<std::pair<int, std::string>, std::vector<std::size_t>> errors;
    std::vector<std::string> saved;
    for (std::size_t index = 0; index < posted.size(); ++index) {
      const json::Value& event = posted[index];
      const json::Value* id = event.find("ID");
      const json::Value* format = event.find("Format");
      const json::Value* node_name = event.at_path("Node[0].Name");
      const std::string id_text = id != nullptr && id->is_string() ? id->as_string() : "";
      if (index >= state_->options.send_events_limit) {
        errors[{507, "Too much events in one batch"}].push_back(index);
      } else if (format == nullptr || !format->is_string() || format->as_string() != "IDEA0" || id_text.empty() ||
                 event.find("DetectTime") == nullptr || event.find("Category") == nullptr) {
        errors[{460, "Validation error: Format, ID, DetectTime and Category are required"}].push_back(index);
      } else if (node_name == nullptr || !node_name->is_string() || node_name->as_string() != client->name) {
        errors[{422, "Node does not correspond with saving client"}].push_back(index);
      } else if (client->test && !matches_category(event, "Test")) {
        errors[{422, "Event does not bear Test category"}].push_back(index);
      } else if (state_->failing_ids.erase(id_text) > 0) {
        errors[{state_->failing_code, state_->failing_message}].push_back(index);
      } else {
        saved.push_back(json::to_string(event));
      }
    }
    for (const std::string& event : saved) {
      state_->events.push_back(
          StoredEvent{static_cast<std::int64_t>(state_->events.size()) + 1, client->name, event});
    }
    if (errors.empty()) {
      reply(200, fmt::format(R"({{"saved":{}}})", saved.size()));
      return;
    }

    std::vector<std::string> entries;
    std::set<int> codes;
    for (const auto& [key, indices] : errors) {
      std::string entry = error_entry(key.first, key.second);
      entry.pop_back();
      entry += R"(,"events":[)";
      std::string ids;
      for (std::size_t position = 0; position < indices.size(); ++position) {
        if (position > 0) {
          entry += ',';
        }
        entry += std::to_string(indices[position]);
        const json::Value* id = posted[indices[position]].find("ID");
        ids += position == 0 ? "" : ",";
        json::append_quoted(id != nullptr && id->is_string() ? id->as_string() : "", ids);
      }
      entry += fmt::format(R"(],"events_id":[{}])", ids);
      if (key.first == 507) {
        entry += fmt::format(R"(,"send_events_limit":{})", state_->options.send_events_limit);
      }
      entries.push_back(entry + "}");
      codes.insert(key.first);
    }
    // One code when all errors share it, else the highest class as x00.
    const int status = codes.size() == 1 ? *codes.begin() : (*codes.rbegin() / 100) * 100;
    reply(status, error_body(call.method, entries));
    return;
  }

  if (call.method == "getEvents") {
    const std::vector<std::pair<std::string, std::string>> exclusive = {
        {"cat", "nocat"}, {"tag", "notag"}, {"group", "nogroup"}};
    for (const auto& [include, exclude] : exclusive) {
      if (request.has_param(include) && request.has_param(exclude)) {
        reply(422, error_body(call.method, {error_entry(422, "Unrealizable conditions. Choose cat or nocat option.")}));
        return;
      }
    }
    for (const std::string& key : {std::string("cat"), std::string("nocat")}) {
      for (const std::string& category : params(request, key)) {
        if (known_categories().count(category) == 0) {
          reply(422, error_body(call.method, {error_entry(422, "Wrong tag or category used in query.")}));
          return;
        }
      }
    }

    const std::int64_t max_id = static_cast<std::int64_t>(state_->events.size());
    std::optional<std::int64_t> id;
    if (request.has_param("id")) {
      id = std::stoll(request.get_param_value("id"));
    } else if (const auto last = state_->last_delivered.find(client->name); last != state_->last_delivered.end()) {
      id = last->second;
    }
    if (!id) {
      // A client's first call starts it at the newest event.
      state_->last_delivered[client->name] = max_id;
      reply(200, fmt::format(R"({{"lastid":{},"events":[]}})", max_id));
      return;
    }
    std::int64_t after = *id == 0 ? max_id : (*id < 0 ? std::max<std::int64_t>(0, max_id + *id) : *id);
    std::size_t count = request.has_param("count") ? std::stoul(request.get_param_value("count")) : 1;
    count = std::min(count, state_->options.get_events_limit);

    std::string body;
    std::int64_t last_id = after;
    std::size_t returned = 0;
    for (const StoredEvent& stored : state_->events) {
      if (stored.id <= after || returned >= count) {
        continue;
      }
      const json::Value event = *json::parse(stored.json).value;
      const auto any = [&](const std::string& key, const auto& test) {
        const std::vector<std::string> values = params(request, key);
        return std::any_of(values.begin(), values.end(), test);
      };
      const auto category = [&](const std::string& requested) { return matches_category(event, requested); };
      const auto tag = [&](const std::string& requested) { return matches_tag(event, requested); };
      const auto group = [&](const std::string& requested) { return matches_group(stored.group, requested); };
      if ((request.has_param("cat") && !any("cat", category)) || any("nocat", category) ||
          (request.has_param("tag") && !any("tag", tag)) || any("notag", tag) ||
          (request.has_param("group") && !any("group", group)) || any("nogroup", group)) {
        continue;
      }
      body += (returned == 0 ? "" : ",") + stored.json;
      last_id = stored.id;
      ++returned;
    }
    call.events = returned;
    state_->last_delivered[client->name] = last_id;
    reply(200, fmt::format(R"({{"lastid":{},"events":[{}]}})", last_id, body));
    return;
  }

  reply(404, error_body(call.method, {error_entry(404, "You've fallen of the cliff.")}));
}

}  // namespace slipway::testing
