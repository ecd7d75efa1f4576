// Secrets that outputs read from files at start (tokens, webhook URLs,
// passwords), so they stay out of pipeline files, the environment and logs.
#pragma once

#include <filesystem>
#include <string>
#include <string_view>

#include <spdlog/logger.h>

namespace slipway::outputs::http {

// Reads the secret in `path`, without trailing line breaks. Throws
// std::runtime_error naming `key` and the path, never the content, when the
// file cannot be read, is empty, or holds a line break inside the secret.
// Warns on `log` when every user of the host can read the file.
std::string read_secret_file(const std::filesystem::path& path, std::string_view key, spdlog::logger& log);

// Standard base64 (RFC 4648), as the Authorization header needs.
std::string base64(std::string_view input);

}  // namespace slipway::outputs::http
