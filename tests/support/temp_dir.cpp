#include "tests/support/temp_dir.hpp"

#include <cstdlib>
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <vector>

namespace slipway::testing {

TempDir::TempDir() {
  std::string pattern = (std::filesystem::temp_directory_path() / "slipway-test-XXXXXX").string();
  std::vector<char> buffer(pattern.begin(), pattern.end());
  buffer.push_back('\0');
  if (mkdtemp(buffer.data()) == nullptr) {
    throw std::runtime_error("mkdtemp failed for " + pattern);
  }
  path_ = buffer.data();
}

TempDir::~TempDir() {
  std::error_code ignored;
  std::filesystem::remove_all(path_, ignored);
}

std::string read_file(const std::filesystem::path& path) {
  std::ifstream stream(path, std::ios::binary);
  std::ostringstream content;
  content << stream.rdbuf();
  return content.str();
}

void write_file(const std::filesystem::path& path, std::string_view content) {
  std::ofstream stream(path, std::ios::binary | std::ios::trunc);
  stream.write(content.data(), static_cast<std::streamsize>(content.size()));
}

void append_file(const std::filesystem::path& path, std::string_view content) {
  std::ofstream stream(path, std::ios::binary | std::ios::app);
  stream.write(content.data(), static_cast<std::streamsize>(content.size()));
}

std::filesystem::path shared_path(std::string_view relative) {
  std::filesystem::path path = std::filesystem::path(SLIPWAY_SHARED_DIR) / relative;
  std::error_code error;
  if (!std::filesystem::exists(path, error)) {
    return {};
  }
  return path;
}

}  // namespace slipway::testing
