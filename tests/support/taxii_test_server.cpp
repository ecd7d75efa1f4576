#include "tests/support/taxii_test_server.hpp"

#include <algorithm>
#include <cctype>

#include <fmt/format.h>
#include <openssl/evp.h>

#include "engine/json.hpp"

namespace slipway::testing {

namespace {

constexpr std::string_view kTaxiiType = "application/taxii+json;version=2.1";
constexpr std::string_view kTaxii11Namespace = "http://taxii.mitre.org/messages/taxii_xml_binding-1.1";
constexpr std::string_view kTaxii11Binding = "urn:taxii.mitre.org:message:xml:1.1";

std::string without_spaces_lower(std::string_view text) {
  std::string out;
  for (const char character : text) {
    if (character != ' ' && character != '\t') {
      out += static_cast<char>(std::tolower(static_cast<unsigned char>(character)));
    }
  }
  return out;
}

std::string base64(std::string_view input) {
  std::string output(4 * ((input.size() + 2) / 3) + 1, '\0');
  const int written = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(output.data()),
                                      reinterpret_cast<const unsigned char*>(input.data()), static_cast<int>(input.size()));
  output.resize(static_cast<std::size_t>(std::max(written, 0)));
  return output;
}

std::string string_member(const json::Value& object, std::string_view key) {
  const json::Value* value = object.find(key);
  return value != nullptr && value->is_string() ? value->as_string() : std::string();
}

std::string quoted(std::string_view text) {
  std::string out;
  json::append_quoted(text, out);
  return out;
}

// `{"id": ..., "version": ...[, "message": ...]}` entries of a status resource.
std::string status_entries(const std::vector<std::pair<std::string, std::string>>& entries, bool with_message) {
  std::string out = "[";
  for (std::size_t index = 0; index < entries.size(); ++index) {
    out += index == 0 ? "" : ",";
    out += fmt::format(R"({{"id":{},"version":{})", quoted(entries[index].first), quoted(entries[index].second));
    out += with_message ? R"(,"message":"rejected by the test server"})" : "}";
  }
  return out + "]";
}

}  // namespace

Taxii21TestServer::Taxii21TestServer(Options options) : options_(std::move(options)) {
  http_.set_responder([this](const ReceivedRequest& request) {
    HttpReply reply = respond(request);
    std::lock_guard lock(mutex_);
    reply_statuses_.push_back(reply.status);
    return reply;
  });
}

HttpReply Taxii21TestServer::resource(int status, std::string body) const {
  HttpReply reply;
  reply.status = status;
  reply.headers = {{"Content-Type", std::string(kTaxiiType)}};
  reply.body = std::move(body);
  return reply;
}

HttpReply Taxii21TestServer::error(int status, std::string_view title) const {
  if (options_.html_errors) {
    HttpReply reply;
    reply.status = status;
    reply.headers = {{"Content-Type", "text/html"}};
    reply.body = fmt::format("<html><body><h1>{}</h1><p>{}</p></body></html>", status, title);
    return reply;
  }
  return resource(status, fmt::format(R"({{"title":{},"http_status":"{}"}})", quoted(title), status));
}

bool Taxii21TestServer::authorized(const ReceivedRequest& request) const {
  const std::string given = request.header("Authorization").value_or("");
  if (!options_.user.empty()) {
    return given == "Basic " + base64(options_.user + ":" + options_.password);
  }
  if (!options_.token.empty()) {
    return given == "Bearer " + options_.token;
  }
  return true;
}

HttpReply Taxii21TestServer::respond(const ReceivedRequest& request) {
  if (!authorized(request)) {
    // medallion rejects a missing or wrong password with a plain-text body.
    HttpReply reply;
    reply.status = 401;
    reply.headers = {{"Content-Type", "text/plain"}, {"WWW-Authenticate", "Basic realm=\"taxii\""}};
    reply.body = "Unauthorized Access";
    return reply;
  }
  const std::string accept = without_spaces_lower(request.header("Accept").value_or(""));
  if (accept.find("application/taxii+json;version=2.1") == std::string::npos) {
    return error(406, "The media type in the Accept header is not supported");
  }

  const std::string path = request.target.substr(0, request.target.find('?'));
  const std::string query = request.target.find('?') == std::string::npos
                                ? std::string()
                                : request.target.substr(request.target.find('?') + 1);
  if (request.method == "GET" && path == "/taxii2/") {
    const std::string root = options_.relative_api_roots ? "/api1/" : http_.url("/api1/");
    return resource(200, fmt::format(R"({{"title":"test server","default":{},"api_roots":[{}]}})", quoted(root),
                                     quoted(root)));
  }
  if (request.method == "GET" && path == "/api1/") {
    return resource(200, fmt::format(R"({{"title":"api1","versions":["{}"],"max_content_length":{}}})", kTaxiiType,
                                     options_.max_content_length));
  }
  if (request.method == "GET" && path == "/api1/collections/") {
    return resource(200, fmt::format(R"({{"collections":[)"
                                     R"({{"id":"{}","title":"alerts","can_read":true,"can_write":true,)"
                                     R"("media_types":["application/stix+json;version=2.1"]}},)"
                                     R"({{"id":"{}","title":"feeds","can_read":true,"can_write":false,)"
                                     R"("media_types":["application/stix+json;version=2.1"]}}]}})",
                                     kCollectionId, kReadOnlyCollectionId));
  }
  if (request.method == "GET" && path.starts_with("/api1/status/")) {
    const std::string id = path.substr(13, path.size() - 14);
    std::lock_guard lock(mutex_);
    const auto found = statuses_.find(id);
    if (found == statuses_.end()) {
      return error(404, "Status not found");
    }
    if (found->second.polls_left > 0) {
      --found->second.polls_left;
      return resource(200, fmt::format(R"({{"id":"{}","status":"pending","total_count":1,"success_count":0,)"
                                       R"("failure_count":0,"pending_count":1}})",
                                       id));
    }
    return resource(200, found->second.complete_body);
  }

  constexpr std::string_view kCollectionsPrefix = "/api1/collections/";
  if (path.starts_with(kCollectionsPrefix)) {
    const std::string rest = path.substr(kCollectionsPrefix.size());
    const std::size_t slash = rest.find('/');
    const std::string collection = rest.substr(0, slash);
    const std::string tail = slash == std::string::npos ? std::string() : rest.substr(slash);
    const bool known = collection == kCollectionId || collection == kReadOnlyCollectionId;
    if (known && request.method == "POST" && tail == "/objects/") {
      return add_objects(request, collection);
    }
    if (known && request.method == "GET" && tail.starts_with("/objects/") && tail.size() > 10) {
      return get_object(collection, tail.substr(9, tail.size() - 10), query);
    }
  }
  return error(404, "Not found");
}

HttpReply Taxii21TestServer::add_objects(const ReceivedRequest& request, std::string_view collection) {
  // Checks in medallion's order: framing, media types, size, permission, content.
  if (request.header("Transfer-Encoding") || !request.header("Content-Length")) {
    return error(400, "The server did not understand the request or headers");
  }
  if (without_spaces_lower(request.header("Content-Type").value_or("")) != kTaxiiType &&
      without_spaces_lower(request.header("Content-Type").value_or("")) != "application/taxii+json") {
    return error(415, "The media type in the Content-Type header is not supported");
  }
  const std::size_t limit =
      options_.enforced_content_length > 0 ? options_.enforced_content_length : options_.max_content_length;
  if (request.raw_body.size() > limit) {
    return error(413, "Payload Too Large");
  }
  if (collection != kCollectionId) {
    return error(403, "The collection is not writable");
  }
  json::ParseResult parsed = json::parse(request.body);
  const json::Value* objects = parsed.value ? parsed.value->find("objects") : nullptr;
  if (objects == nullptr || !objects->is_array()) {
    return error(422, "The body is not a TAXII envelope");
  }

  if (!options_.unprocessable_marker.empty()) {
    for (const json::Value& object : objects->items()) {
      if (string_member(object, "description").find(options_.unprocessable_marker) != std::string::npos) {
        return error(422, "The server cannot process an object of the envelope");
      }
    }
  }

  std::vector<std::pair<std::string, std::string>> successes;
  std::vector<std::pair<std::string, std::string>> failures;
  std::lock_guard lock(mutex_);
  for (const json::Value& object : objects->items()) {
    const std::string id = string_member(object, "id");
    std::string version = string_member(object, "modified");
    if (version.empty()) {
      version = string_member(object, "created");
    }
    ++posted_ids_[id];
    const std::string key = id + "|" + version;
    const bool invalid = id.empty() || string_member(object, "spec_version") != "2.1" ||
                         string_member(object, "description").find("reject-me") != std::string::npos;
    const bool repeat = store_.contains(key);
    if (invalid || (repeat && options_.report_repeats_as_failures)) {
      failures.emplace_back(id, version);
      continue;
    }
    store_.emplace(key, json::to_string(object));
    successes.emplace_back(id, version);
  }

  const std::string status_id = fmt::format("5747a7a5-0000-4000-8000-{:012}", ++next_status_);
  const std::string complete =
      fmt::format(R"({{"id":"{}","status":"complete","request_timestamp":"2026-12-04T19:47:55.757935Z",)"
                  R"("total_count":{},"success_count":{},"successes":{},"failure_count":{},"failures":{},)"
                  R"("pending_count":0}})",
                  status_id, successes.size() + failures.size(), successes.size(), status_entries(successes, false),
                  failures.size(), status_entries(failures, true));
  if (options_.pending_polls > 0) {
    statuses_[status_id] = PendingStatus{options_.pending_polls, complete};
    return resource(202, fmt::format(R"({{"id":"{}","status":"pending","total_count":{},"success_count":0,)"
                                     R"("failure_count":0,"pending_count":{}}})",
                                     status_id, objects->items().size(), objects->items().size()));
  }
  return resource(202, complete);
}

HttpReply Taxii21TestServer::get_object(std::string_view /*collection*/, std::string_view object_id,
                                        std::string_view query) {
  std::string version;
  constexpr std::string_view kVersionMatch = "match%5Bversion%5D=";
  if (const std::size_t at = query.find(kVersionMatch); at != std::string_view::npos) {
    version = std::string(query.substr(at + kVersionMatch.size()));
    std::string decoded;
    for (std::size_t index = 0; index < version.size(); ++index) {
      if (version[index] == '%' && index + 2 < version.size()) {
        decoded += static_cast<char>(std::stoi(version.substr(index + 1, 2), nullptr, 16));
        index += 2;
      } else {
        decoded += version[index];
      }
    }
    version = decoded;
  }
  std::lock_guard lock(mutex_);
  std::string objects;
  for (const auto& [key, text] : store_) {
    const std::size_t bar = key.find('|');
    if (key.substr(0, bar) == object_id && (version.empty() || key.substr(bar + 1) == version)) {
      objects += objects.empty() ? text : "," + text;
    }
  }
  if (objects.empty()) {
    return error(404, "No such object");
  }
  return resource(200, R"({"more":false,"objects":[)" + objects + "]}");
}

std::vector<std::string> Taxii21TestServer::stored(std::string_view type) const {
  std::lock_guard lock(mutex_);
  std::vector<std::string> keys;
  for (const auto& [key, text] : store_) {
    if (type.empty() || key.starts_with(std::string(type) + "--")) {
      keys.push_back(key);
    }
  }
  return keys;
}

std::map<std::string, int> Taxii21TestServer::posted_ids() const {
  std::lock_guard lock(mutex_);
  return posted_ids_;
}

std::vector<int> Taxii21TestServer::reply_statuses() const {
  std::lock_guard lock(mutex_);
  return reply_statuses_;
}

Taxii11TestServer::Taxii11TestServer(std::string collection, std::string failure_marker)
    : collection_(std::move(collection)), failure_marker_(std::move(failure_marker)) {
  http_.set_responder([this](const ReceivedRequest& request) { return respond(request); });
}

HttpReply Taxii11TestServer::respond(const ReceivedRequest& request) {
  // A TAXII 1.1 service responds to every message with HTTP 200 and a Status_Message.
  const std::string message_id = [&] {
    const std::string marker = "message_id=\"";
    const std::size_t at = request.body.find(marker);
    return at == std::string::npos ? std::string("0")
                                   : request.body.substr(at + marker.size(),
                                                         request.body.find('"', at + marker.size()) - at - marker.size());
  }();
  const auto status = [&](std::string_view type, std::string_view message) {
    {
      std::lock_guard lock(mutex_);
      status_types_.emplace_back(type);
    }
    HttpReply reply;
    reply.headers = {{"Content-Type", "application/xml"},
                     {"X-TAXII-Content-Type", std::string(kTaxii11Binding)},
                     {"X-TAXII-Protocol", "urn:taxii.mitre.org:protocol:http:1.0"},
                     {"X-TAXII-Services", "urn:taxii.mitre.org:services:1.1"}};
    reply.body = fmt::format(R"(<taxii_11:Status_Message xmlns:taxii_11="{}" message_id="reply-{}" )"
                             R"(in_response_to="{}" status_type="{}"><taxii_11:Message>{}</taxii_11:Message>)"
                             R"(</taxii_11:Status_Message>)",
                             kTaxii11Namespace, message_id, message_id, type, message);
    return reply;
  };

  if (request.method != "POST" || request.target != "/services/inbox") {
    return status("NOT_FOUND", "No such service");
  }
  for (const std::string_view header : {"X-TAXII-Content-Type", "X-TAXII-Accept"}) {
    if (request.header(header).value_or("") != kTaxii11Binding) {
      return status("FAILURE", fmt::format("Header {} was not specified", header));
    }
  }
  if (request.header("X-TAXII-Services").value_or("") != "urn:taxii.mitre.org:services:1.1" ||
      request.header("X-TAXII-Protocol").value_or("") != "urn:taxii.mitre.org:protocol:http:1.0" ||
      request.header("Content-Type").value_or("") != "application/xml") {
    return status("FAILURE", "Wrong TAXII protocol headers");
  }
  const std::string& body = request.body;
  if (!body.starts_with("<taxii_11:Inbox_Message ") || body.find(kTaxii11Namespace) == std::string::npos) {
    return status("BAD_MESSAGE", "Not an Inbox_Message");
  }
  const std::string destination = fmt::format("<taxii_11:Destination_Collection_Name>{}</", collection_);
  if (body.find(destination) == std::string::npos) {
    return status("NOT_FOUND", "Unknown collection");
  }

  std::vector<std::string> blocks;
  const std::string open = "<taxii_11:Content_Block><taxii_11:Content_Binding binding_id=\"urn:stix.mitre.org:xml:1.2\"/>"
                           "<taxii_11:Content>";
  const std::string close = "</taxii_11:Content></taxii_11:Content_Block>";
  for (std::size_t at = body.find(open); at != std::string::npos; at = body.find(open, at + 1)) {
    const std::size_t end = body.find(close, at);
    if (end == std::string::npos) {
      return status("BAD_MESSAGE", "Unterminated Content_Block");
    }
    blocks.push_back(body.substr(at + open.size(), end - at - open.size()));
  }
  if (blocks.empty()) {
    return status("BAD_MESSAGE", "No STIX 1.2 Content_Block");
  }
  for (const std::string& block : blocks) {
    if (block.find(failure_marker_) != std::string::npos) {
      return status("FAILURE", "A content block was rejected");
    }
    if (!block.starts_with("<stix:STIX_Package ") || block.find("version=\"1.2\"") == std::string::npos) {
      return status("BAD_MESSAGE", "A content block is not a STIX 1.2 package");
    }
  }
  {
    std::lock_guard lock(mutex_);
    accepted_blocks_.insert(accepted_blocks_.end(), blocks.begin(), blocks.end());
  }
  return status("SUCCESS", "");
}

std::vector<std::string> Taxii11TestServer::accepted_blocks() const {
  std::lock_guard lock(mutex_);
  return accepted_blocks_;
}

std::vector<std::string> Taxii11TestServer::status_types() const {
  std::lock_guard lock(mutex_);
  return status_types_;
}

}  // namespace slipway::testing
