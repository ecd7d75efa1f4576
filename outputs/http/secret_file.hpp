// Secrets read from files named by `*_file` keys, so that no secret sits
// in a pipeline file.
#pragma once

#include <filesystem>
#include <string>
#include <string_view>

#include "engine/component.hpp"

namespace slipway::outputs::http {

// Reads the secret in `path`, without a trailing line break, for the key
// `auth.KEY`. Throws std::runtime_error naming the key and the file when
// it cannot be read or is empty; warns when every user may read it.
std::string read_secret_file(const std::filesystem::path& path, std::string_view key, OutputContext& context);

// Standard base64 (RFC 4648), as the Authorization header needs.
std::string base64(std::string_view input);

}  // namespace slipway::outputs::http
