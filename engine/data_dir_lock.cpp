#include "engine/data_dir_lock.hpp"

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <stdexcept>

#include <fmt/format.h>

namespace slipway {

int lock_data_dir(const std::filesystem::path& data_dir) {
  std::error_code error;
  std::filesystem::create_directories(data_dir, error);
  if (error) {
    throw std::runtime_error(
        fmt::format("cannot create data_dir {}: {}; create it or choose another path", data_dir.string(),
                    error.message()));
  }
  const std::filesystem::path lock_path = data_dir / "lock";
  const int fd = ::open(lock_path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0640);
  if (fd < 0) {
    throw std::runtime_error(fmt::format("cannot open {}: {}", lock_path.string(), std::strerror(errno)));
  }
  // Two processes sharing one data_dir would overwrite each other's
  // checkpoints; the lock is released by the kernel when the process ends.
  if (::flock(fd, LOCK_EX | LOCK_NB) != 0) {
    ::close(fd);
    throw std::runtime_error(fmt::format(
        "data_dir {} is in use by another slipway process; stop it or give this pipeline its own data_dir",
        data_dir.string()));
  }
  return fd;
}

}  // namespace slipway
