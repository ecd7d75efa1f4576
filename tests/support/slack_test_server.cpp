#include "tests/support/slack_test_server.hpp"

#include <fmt/format.h>

#include "engine/json.hpp"
#include "tests/support/process.hpp"

namespace slipway::testing {

namespace {

constexpr std::size_t kMaxBlocks = 50;
constexpr std::size_t kMaxSectionChars = 3000;

std::size_t code_points(std::string_view text) {
  std::size_t count = 0;
  for (char c : text) {
    count += (static_cast<unsigned char>(c) & 0xC0) != 0x80 ? 1 : 0;
  }
  return count;
}

HttpReply web_api_reply(int status, const std::string& body, std::vector<std::pair<std::string, std::string>> headers = {}) {
  headers.emplace_back("Content-Type", "application/json; charset=utf-8");
  return HttpReply{.status = status, .headers = std::move(headers), .body = body};
}

HttpReply ok_false(const std::string& error) {
  return web_api_reply(200, fmt::format(R"({{"ok":false,"error":"{}"}})", error));
}

HttpReply webhook_reply(int status, const std::string& text) {
  return HttpReply{.status = status, .headers = {{"Content-Type", "text/html"}}, .body = text};
}

// The error Slack gives for a blocks array it cannot show, or empty.
std::string check_blocks(const json::Value& blocks) {
  if (!blocks.is_array() || blocks.items().size() > kMaxBlocks) {
    return "invalid_blocks";
  }
  for (const json::Value& block : blocks.items()) {
    const json::Value* type = block.find("type");
    if (type == nullptr || !type->is_string()) {
      return "invalid_blocks";
    }
    const json::Value* text = block.at_path("text.text");
    if (type->as_string() == "section" && text != nullptr && code_points(text->as_string()) > kMaxSectionChars) {
      return "invalid_blocks";
    }
  }
  return "";
}

}  // namespace

SlackTestServer::SlackTestServer(Options options) : options_(std::move(options)) {
  http_.set_responder([this](const ReceivedRequest& request) { return respond(request); });
}

void SlackTestServer::inject_errors(std::vector<std::string> errors) {
  std::lock_guard lock(mutex_);
  injected_errors_.insert(injected_errors_.end(), errors.begin(), errors.end());
}

std::vector<SlackPost> SlackTestServer::posts() const {
  std::lock_guard lock(mutex_);
  return posts_;
}

std::vector<SlackPost> SlackTestServer::accepted_posts() const {
  std::vector<SlackPost> accepted;
  for (const SlackPost& post : posts()) {
    if (post.accepted()) {
      accepted.push_back(post);
    }
  }
  return accepted;
}

bool SlackTestServer::wait_for_accepted(std::size_t count, std::chrono::milliseconds timeout) const {
  return wait_until([&] { return accepted_posts().size() >= count; }, timeout);
}

bool SlackTestServer::take_turn(const std::string& channel, std::chrono::steady_clock::time_point now) {
  const auto last = last_accepted_.find(channel);
  if (last != last_accepted_.end() && now - last->second < options_.min_interval) {
    return false;
  }
  last_accepted_[channel] = now;
  return true;
}

HttpReply SlackTestServer::respond(const ReceivedRequest& request) {
  std::lock_guard lock(mutex_);
  SlackPost post;
  post.decided_at = std::chrono::steady_clock::now();
  post.authorization = request.header("Authorization").value_or("");
  const bool webhook = request.target.starts_with("/services/");
  post.webhook = webhook;
  HttpReply reply = webhook ? respond_webhook(request, post) : respond_web_api(request, post);
  post.status = reply.status;
  posts_.push_back(std::move(post));
  return reply;
}

HttpReply SlackTestServer::respond_web_api(const ReceivedRequest& request, SlackPost& post) {
  if (request.target != "/api/chat.postMessage") {
    post.error = "unknown_method";
    return ok_false(post.error);
  }
  const json::ParseResult parsed = json::parse(request.body);
  if (!parsed.value || !parsed.value->is_object()) {
    post.error = "invalid_json";
    return ok_false(post.error);
  }
  const json::Value& message = *parsed.value;
  if (const json::Value* channel = message.find("channel"); channel != nullptr && channel->is_string()) {
    post.channel = channel->as_string();
  }
  if (const json::Value* text = message.find("text"); text != nullptr && text->is_string()) {
    post.text = text->as_string();
  }
  const json::Value* blocks = message.find("blocks");
  if (blocks != nullptr) {
    post.blocks_json = json::to_string(*blocks);
  }

  if (post.authorization.empty()) {
    post.error = "not_authed";
  } else if (post.authorization != "Bearer " + options_.token) {
    post.error = "invalid_auth";
  } else if (!injected_errors_.empty()) {
    post.error = injected_errors_.front();
    injected_errors_.pop_front();
  } else if (options_.channels.count(post.channel) == 0) {
    post.error = "channel_not_found";
  } else if (post.text.empty() && blocks == nullptr) {
    post.error = "no_text";
  } else if (code_points(post.text) > options_.max_text_chars) {
    post.error = "msg_too_long";
  } else if (blocks != nullptr) {
    post.error = check_blocks(*blocks);
  }
  if (!post.error.empty()) {
    return ok_false(post.error);
  }

  if (!take_turn(post.channel, post.decided_at)) {
    post.error = "ratelimited";
    return web_api_reply(429, R"({"ok":false,"error":"ratelimited"})",
                         {{"Retry-After", std::to_string(options_.retry_after_secs)}});
  }
  return web_api_reply(200, fmt::format(R"({{"ok":true,"channel":"C0123ABC","ts":"{}.000100","message":{{}}}})",
                                        posts_.size() + 1));
}

HttpReply SlackTestServer::respond_webhook(const ReceivedRequest& request, SlackPost& post) {
  if (request.target != kWebhookPath) {
    post.error = "no_service";
    return webhook_reply(404, post.error);
  }
  const json::ParseResult parsed = json::parse(request.body);
  if (!parsed.value || !parsed.value->is_object()) {
    post.error = "invalid_payload";
    return webhook_reply(400, post.error);
  }
  if (const json::Value* text = parsed.value->find("text"); text != nullptr && text->is_string()) {
    post.text = text->as_string();
  }
  const json::Value* blocks = parsed.value->find("blocks");
  if (blocks != nullptr) {
    post.blocks_json = json::to_string(*blocks);
  }
  if (post.text.empty() && blocks == nullptr) {
    post.error = "no_text";
    return webhook_reply(400, post.error);
  }
  if (blocks != nullptr && !check_blocks(*blocks).empty()) {
    post.error = "invalid_blocks";
    return webhook_reply(400, post.error);
  }
  if (!take_turn(kWebhookPath, post.decided_at)) {
    post.error = "rate_limited";
    return HttpReply{.status = 429,
                     .headers = {{"Retry-After", std::to_string(options_.retry_after_secs)}},
                     .body = "rate_limited"};
  }
  return webhook_reply(200, "ok");
}

}  // namespace slipway::testing
