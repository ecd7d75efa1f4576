// A directory under the system temp directory, removed with its contents
// when the test ends.
#pragma once

#include <filesystem>
#include <string>
#include <string_view>

namespace slipway::testing {

class TempDir {
 public:
  TempDir();
  ~TempDir();
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;

  const std::filesystem::path& path() const { return path_; }
  std::filesystem::path operator/(std::string_view name) const { return path_ / name; }

 private:
  std::filesystem::path path_;
};

std::string read_file(const std::filesystem::path& path);
void write_file(const std::filesystem::path& path, std::string_view content);
void append_file(const std::filesystem::path& path, std::string_view content);

// Path of a file under the shared reference tree beside the repository, or
// an empty path when that tree is absent (tests then skip).
std::filesystem::path shared_path(std::string_view relative);

}  // namespace slipway::testing
