#include "tests/support/bulk_test_server.hpp"

#include <fmt/format.h>

#include "engine/json.hpp"

namespace slipway::testing {

std::vector<BulkItem> parse_bulk_body(const std::string& body) {
  std::vector<BulkItem> items;
  if (body.empty() || body.back() != '\n') {
    return {};
  }
  std::size_t at = 0;
  const auto next_line = [&](std::string& line) {
    const std::size_t end = body.find('\n', at);
    if (end == std::string::npos) {
      return false;
    }
    line = body.substr(at, end - at);
    at = end + 1;
    return true;
  };
  std::string line;
  while (at < body.size() && next_line(line)) {
    const json::ParseResult action = json::parse(line);
    if (!action.value || !action.value->is_object() || action.value->members().size() != 1) {
      return {};
    }
    const auto& [name, metadata] = action.value->members()[0];
    BulkItem item;
    item.action = name;
    if (const json::Value* index = metadata.find("_index"); index != nullptr && index->is_string()) {
      item.index = index->as_string();
    }
    if (const json::Value* id = metadata.find("_id"); id != nullptr && id->is_string()) {
      item.id = id->as_string();
    }
    if (name != "delete") {
      if (!next_line(item.source) || !json::parse(item.source).value) {
        return {};
      }
    }
    items.push_back(std::move(item));
  }
  return items;
}

BulkTestServer::BulkTestServer() {
  server_.set_responder([this](const ReceivedRequest& request) { return reply_to(request); });
}

void BulkTestServer::script(const std::string& id, std::vector<BulkItemReply> replies) {
  std::lock_guard lock(mutex_);
  script_[id] = std::move(replies);
}

HttpReply BulkTestServer::reply_to(const ReceivedRequest& request) {
  if (request.method != "POST" || !request.target.ends_with("/_bulk")) {
    return HttpReply{.status = 404, .body = R"({"error":"no handler found"})"};
  }
  const std::vector<BulkItem> items = parse_bulk_body(request.body);
  if (items.empty()) {
    return HttpReply{.status = 400,
                     .body = R"({"error":{"type":"illegal_argument_exception","reason":"The bulk request must be )"
                             R"(terminated by a newline [\n]"},"status":400})"};
  }

  std::lock_guard lock(mutex_);
  requests_.push_back(items);
  bool errors = false;
  std::string results;
  for (const BulkItem& item : items) {
    BulkItemReply reply;
    const std::size_t attempt = attempts_[item.id]++;
    if (const auto scripted = script_.find(item.id); scripted != script_.end() && attempt < scripted->second.size()) {
      reply = scripted->second[attempt];
    } else if (stored_.count(item.id) != 0) {
      reply.status = item.action == "create" ? 409 : 200;
      if (reply.status == 409) {
        reply.error_type = "version_conflict_engine_exception";
        reply.error_reason = fmt::format("[{}]: version conflict, document already exists", item.id);
      }
    }
    const bool ok = reply.status >= 200 && reply.status <= 299;
    if (ok) {
      stored_.insert(item.id);
    }
    errors = errors || !ok;

    std::string result = fmt::format(R"({{"{}":{{"_index":)", item.action);
    json::append_quoted(item.index, result);
    result += R"(,"_id":)";
    json::append_quoted(item.id, result);
    if (ok) {
      result += fmt::format(R"(,"_version":1,"result":"{}","status":{}}}}})", reply.status == 201 ? "created" : "updated",
                            reply.status);
    } else {
      result += fmt::format(R"(,"status":{},"error":{{"type":)", reply.status);
      json::append_quoted(reply.error_type, result);
      result += R"(,"reason":)";
      json::append_quoted(reply.error_reason, result);
      result += "}}}";
    }
    results += (results.empty() ? "" : ",") + result;
  }
  return HttpReply{.status = 200,
                   .headers = {{"Content-Type", "application/json"}},
                   .body = fmt::format(R"({{"took":3,"errors":{},"items":[{}]}})", errors ? "true" : "false", results)};
}

std::vector<std::vector<BulkItem>> BulkTestServer::requests() const {
  std::lock_guard lock(mutex_);
  return requests_;
}

std::set<std::string> BulkTestServer::stored_ids() const {
  std::lock_guard lock(mutex_);
  return stored_;
}

}  // namespace slipway::testing
