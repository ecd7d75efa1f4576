#include "outputs/http/secret_file.hpp"

#include <sys/stat.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>
#include <stdexcept>

#include <fmt/format.h>
#include <openssl/evp.h>

namespace slipway::outputs::http {

std::string read_secret_file(const std::filesystem::path& path, std::string_view key, spdlog::logger& log) {
  std::ifstream stream(path, std::ios::binary);
  if (!stream) {
    throw std::runtime_error(fmt::format("{} {} cannot be read: {}; check the path and its permissions", key,
                                         path.string(), std::strerror(errno)));
  }
  std::ostringstream content;
  content << stream.rdbuf();
  std::string secret = content.str();
  while (!secret.empty() && (secret.back() == '\n' || secret.back() == '\r')) {
    secret.pop_back();
  }
  if (secret.empty()) {
    throw std::runtime_error(fmt::format("{} {} is empty; write the secret into it", key, path.string()));
  }
  // A line break would end a header early and start another.
  if (secret.find_first_of(std::string_view("\r\n\0", 3)) != std::string::npos) {
    throw std::runtime_error(
        fmt::format("{} {} contains a line break inside the secret; a secret must be one line", key, path.string()));
  }

  struct stat status {};
  if (::stat(path.c_str(), &status) == 0 && (status.st_mode & S_IROTH) != 0) {
    log.warn("A secret file can be read by every user of this host; restrict it, e.g. with chmod 600. key={} path={}",
             key, path.string());
  }
  return secret;
}

std::string base64(std::string_view input) {
  std::string output(4 * ((input.size() + 2) / 3) + 1, '\0');
  const int written = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(output.data()),
                                      reinterpret_cast<const unsigned char*>(input.data()), static_cast<int>(input.size()));
  output.resize(static_cast<std::size_t>(std::max(written, 0)));
  return output;
}

}  // namespace slipway::outputs::http
