// Authentication settings that every HTTP output spells alike (`auth:
// {strategy, user, password_file, token_file}`), reading the secrets from
// their files, and keeping those secrets out of messages.
#pragma once

#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "config/errors.hpp"
#include "config/schema.hpp"
#include "engine/component.hpp"
#include "outputs/http/http_client.hpp"

namespace slipway::outputs::http {

enum class AuthStrategy { None, Basic, Bearer };

struct AuthConfig {
  AuthStrategy strategy = AuthStrategy::None;
  std::string user;                     // basic
  std::filesystem::path password_file;  // basic; read at start
  std::filesystem::path token_file;     // bearer; read at start

  static const config::Schema kSchema;
  // Reads the `auth` key of `settings` into `auth`; adds a problem to
  // `errors` for keys that do not fit the strategy and returns false then.
  static bool parse(const config::Section& settings, config::Errors& errors, AuthConfig& auth);
};

const char* auth_strategy_name(AuthStrategy strategy);  // "none", "basic", "bearer"

// Secrets an output must keep out of its logs and errors, and the excerpt
// of a response body that a message may show.
class SecretRedactor {
 public:
  // Adds a secret, and its JSON-escaped form for servers that echo the
  // request back as JSON.
  void add(const std::string& secret);
  // At most 200 bytes of `body`, with every secret replaced by
  // "[redacted]", control characters as spaces and valid UTF-8.
  std::string excerpt(std::string_view body) const;

 private:
  std::vector<std::string> secrets_;  // longer ones first, so one inside another is removed whole
};

// Reads the auth files and returns the Authorization header, or nothing
// for AuthStrategy::None; registers the secrets with `redactor`. Throws
// std::runtime_error naming the key and file when a file cannot be read,
// is empty, or contains a token with a line break inside.
std::optional<Header> load_authorization(const AuthConfig& auth, OutputContext& context, SecretRedactor& redactor);

}  // namespace slipway::outputs::http
