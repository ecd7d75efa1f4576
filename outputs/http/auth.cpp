#include "outputs/http/auth.hpp"

#include <algorithm>
#include <cstring>
#include <stdexcept>

#include <fmt/format.h>

#include "engine/json.hpp"
#include "outputs/http/secret_file.hpp"

namespace slipway::outputs::http {

namespace {

constexpr std::size_t kExcerptBytes = 200;
constexpr std::string_view kRedacted = "[redacted]";

void replace_all(std::string& text, std::string_view from, std::string_view to) {
  std::size_t position = 0;
  while ((position = text.find(from, position)) != std::string::npos) {
    text.replace(position, from.size(), to);
    position += to.size();
  }
}

}  // namespace

const config::Schema AuthConfig::kSchema{{
    config::Field{.name = "strategy",
                  .type = config::FieldType::Enum,
                  .doc = "basic: user and password (RFC 7617); bearer: a token in the Authorization header",
                  .required = true,
                  .choices = {"basic", "bearer"}},
    config::Field{.name = "user", .type = config::FieldType::String, .doc = "User name for basic"},
    config::Field{.name = "password_file",
                  .type = config::FieldType::String,
                  .doc = "File holding the password for basic, read at start; a trailing line break is removed"},
    config::Field{.name = "token_file",
                  .type = config::FieldType::String,
                  .doc = "File holding the token for bearer, read at start; a trailing line break is removed"},
}};

bool AuthConfig::parse(const config::Section& settings, config::Errors& errors, AuthConfig& auth) {
  if (!settings.has("auth")) {
    return true;
  }
  const config::Section section = settings.object("auth");
  if (!section.has("strategy")) {
    return false;  // the schema check reports the missing key
  }
  const bool basic = section.string("strategy") == "basic";
  auth.strategy = basic ? AuthStrategy::Basic : AuthStrategy::Bearer;
  auth.user = section.string("user");
  auth.password_file = section.string("password_file");
  auth.token_file = section.string("token_file");

  bool valid = true;
  const auto problem = [&](std::string_view key, std::string_view what) {
    errors.add(section.location(key), fmt::format("{}: key \"auth.{}\": {}", settings.context(), key, what));
    valid = false;
  };
  if (basic) {
    if (!section.has("user")) {
      problem("user", "basic authentication needs a user name");
    } else if (auth.user.find(':') != std::string::npos) {
      problem("user", "a user name for basic authentication cannot contain \":\" (RFC 7617)");
    }
    if (!section.has("password_file")) {
      problem("password_file", "basic authentication needs a file holding the password");
    }
    if (section.has("token_file")) {
      problem("token_file", "only used with strategy bearer; remove it or set strategy: bearer");
    }
  } else {
    if (!section.has("token_file")) {
      problem("token_file", "bearer authentication needs a file holding the token");
    }
    for (std::string_view key : {"user", "password_file"}) {
      if (section.has(key)) {
        problem(key, "only used with strategy basic; remove it or set strategy: basic");
      }
    }
  }
  return valid;
}

const char* auth_strategy_name(AuthStrategy strategy) {
  switch (strategy) {
    case AuthStrategy::Basic:
      return "basic";
    case AuthStrategy::Bearer:
      return "bearer";
    case AuthStrategy::None:
      break;
  }
  return "none";
}

void SecretRedactor::add(const std::string& secret) {
  secrets_.push_back(secret);
  std::string escaped;
  json::append_quoted(secret, escaped);
  escaped = escaped.substr(1, escaped.size() - 2);
  if (escaped != secret) {
    secrets_.push_back(std::move(escaped));
  }
  std::sort(secrets_.begin(), secrets_.end(),
            [](const std::string& left, const std::string& right) { return left.size() > right.size(); });
}

std::string SecretRedactor::excerpt(std::string_view body) const {
  std::string text(body);
  // Secrets go before the cut, so one that straddles it is removed too.
  for (const std::string& secret : secrets_) {
    replace_all(text, secret, kRedacted);
  }
  const bool cut = text.size() > kExcerptBytes;
  if (cut) {
    text.resize(kExcerptBytes);
  }
  for (char& c : text) {
    if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) {
      c = ' ';
    }
  }
  // The cut may split a UTF-8 sequence; messages stay valid UTF-8.
  std::string clean;
  json::append_sanitized_utf8(text, clean);
  while (!clean.empty() && clean.back() == ' ') {
    clean.pop_back();
  }
  if (cut) {
    clean += "...";
  }
  return clean;
}

std::optional<Header> load_authorization(const AuthConfig& auth, OutputContext& context, SecretRedactor& redactor) {
  if (auth.strategy == AuthStrategy::Basic) {
    const std::string password = read_secret_file(auth.password_file, "auth.password_file", context.log());
    const std::string credentials = base64(auth.user + ":" + password);
    redactor.add(password);
    redactor.add(credentials);
    return Header{"Authorization", "Basic " + credentials};
  }
  if (auth.strategy == AuthStrategy::Bearer) {
    const std::string token = read_secret_file(auth.token_file, "auth.token_file", context.log());
    if (!is_valid_header_value(token)) {
      throw std::runtime_error(fmt::format(
          "auth.token_file {} contains a line break inside the token; a token must be one line", auth.token_file.string()));
    }
    redactor.add(token);
    return Header{"Authorization", "Bearer " + token};
  }
  return std::nullopt;
}

}  // namespace slipway::outputs::http
