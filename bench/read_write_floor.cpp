// The floor the pipeline benchmarks compare against: copies a file with
// plain read() and write() calls in large chunks, the least work any
// file-to-file pipeline must do.
#include <fcntl.h>
#include <unistd.h>

#include <cstdio>
#include <vector>

int main(int argc, char** argv) {
  if (argc != 3) {
    std::fprintf(stderr, "usage: %s INPUT OUTPUT\n", argv[0]);
    return 64;
  }
  const int input = ::open(argv[1], O_RDONLY | O_CLOEXEC);
  const int output = ::open(argv[2], O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0640);
  if (input < 0 || output < 0) {
    std::perror("open");
    return 1;
  }

  constexpr std::size_t kChunkBytes = 256 * 1024;
  std::vector<char> buffer(kChunkBytes);
  while (true) {
    const ssize_t count = ::read(input, buffer.data(), buffer.size());
    if (count < 0) {
      std::perror("read");
      return 1;
    }
    if (count == 0) {
      break;
    }
    ssize_t done = 0;
    while (done < count) {
      const ssize_t written = ::write(output, buffer.data() + done, static_cast<std::size_t>(count - done));
      if (written < 0) {
        std::perror("write");
        return 1;
      }
      done += written;
    }
  }
  ::close(input);
  ::close(output);
  return 0;
}
