#include "tests/support/http_test_server.hpp"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <condition_variable>
#include <cstdlib>
#include <cstring>
#include <deque>
#include <mutex>
#include <sstream>
#include <stdexcept>
#include <thread>

#include <zlib.h>


namespace slipway::testing {

namespace {

constexpr std::size_t kReadChunkBytes = 64 * 1024;
constexpr int kListenBacklog = 128;
// gzip framing for zlib's inflateInit2: window bits 15, plus 16.
constexpr int kGzipWindowBits = 15 + 16;
constexpr std::string_view kHeaderEnd = "\r\n\r\n";

char ascii_lower(char c) { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c; }

bool same_name(std::string_view left, std::string_view right) {
  return left.size() == right.size() && std::equal(left.begin(), left.end(), right.begin(), [](char a, char b) {
           return ascii_lower(a) == ascii_lower(b);
         });
}

std::string_view trim(std::string_view text) {
  while (!text.empty() && (text.front() == ' ' || text.front() == '\t')) {
    text.remove_prefix(1);
  }
  while (!text.empty() && (text.back() == ' ' || text.back() == '\t')) {
    text.remove_suffix(1);
  }
  return text;
}

// Waits until `fd` is readable; false when `wake_fd` fired first (the server is stopping).
bool wait_readable(int fd, int wake_fd) {
  pollfd fds[2] = {{fd, POLLIN, 0}, {wake_fd, POLLIN, 0}};
  while (::poll(fds, 2, -1) < 0) {
    if (errno != EINTR) {
      return false;
    }
  }
  return fds[1].revents == 0;
}

// Sleeps for `delay` unless the server stops first; true when it stopped.
bool wait_for_stop(int wake_fd, std::chrono::milliseconds delay) {
  pollfd fds[1] = {{wake_fd, POLLIN, 0}};
  const auto until = std::chrono::steady_clock::now() + delay;
  while (true) {
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(until - std::chrono::steady_clock::now());
    if (left.count() <= 0) {
      return false;
    }
    const int ready = ::poll(fds, 1, static_cast<int>(left.count()));
    if (ready > 0) {
      return true;
    }
  }
}

bool read_more(int fd, int wake_fd, std::string& buffer) {
  if (!wait_readable(fd, wake_fd)) {
    return false;
  }
  char chunk[kReadChunkBytes];
  const ssize_t got = ::recv(fd, chunk, sizeof chunk, 0);
  if (got <= 0) {
    return false;
  }
  buffer.append(chunk, static_cast<std::size_t>(got));
  return true;
}

bool write_all(int fd, std::string_view data) {
  while (!data.empty()) {
    const ssize_t written = ::send(fd, data.data(), data.size(), MSG_NOSIGNAL);
    if (written < 0) {
      if (errno == EINTR) {
        continue;
      }
      return false;
    }
    data.remove_prefix(static_cast<std::size_t>(written));
  }
  return true;
}

std::string gunzip(std::string_view data) {
  z_stream stream{};
  if (inflateInit2(&stream, kGzipWindowBits) != Z_OK) {
    return {};
  }
  stream.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(data.data()));
  stream.avail_in = static_cast<uInt>(data.size());
  std::string out;
  char chunk[kReadChunkBytes];
  int code = Z_OK;
  while (code == Z_OK) {
    stream.next_out = reinterpret_cast<Bytef*>(chunk);
    stream.avail_out = sizeof chunk;
    code = inflate(&stream, Z_NO_FLUSH);
    out.append(chunk, sizeof chunk - stream.avail_out);
  }
  inflateEnd(&stream);
  return code == Z_STREAM_END ? out : std::string();
}

const char* reason_phrase(int status) {
  switch (status) {
    case 200:
      return "OK";
    case 400:
      return "Bad Request";
    case 401:
      return "Unauthorized";
    case 403:
      return "Forbidden";
    case 408:
      return "Request Timeout";
    case 413:
      return "Content Too Large";
    case 429:
      return "Too Many Requests";
    case 500:
      return "Internal Server Error";
    case 503:
      return "Service Unavailable";
    default:
      return "Status";
  }
}


// Reads one request from `buffer`, receiving more as needed; consumes its
// bytes and leaves any pipelined ones. Nothing when the peer closed or the
// server is stopping.
std::optional<ReceivedRequest> read_request(int fd, int wake_fd, std::string& buffer) {
  std::size_t header_end = 0;
  while ((header_end = buffer.find(kHeaderEnd)) == std::string::npos) {
    if (!read_more(fd, wake_fd, buffer)) {
      return std::nullopt;
    }
  }

  ReceivedRequest request;
  std::istringstream head(buffer.substr(0, header_end));
  std::string line;
  std::getline(head, line);
  std::istringstream request_line(line);
  request_line >> request.method >> request.target;
  while (std::getline(head, line)) {
    if (!line.empty() && line.back() == '\r') {
      line.pop_back();
    }
    const std::size_t colon = line.find(':');
    if (colon != std::string::npos) {
      request.headers.emplace_back(line.substr(0, colon), std::string(trim(std::string_view(line).substr(colon + 1))));
    }
  }

  if (same_name(request.header("Expect").value_or(""), "100-continue") &&
      !write_all(fd, "HTTP/1.1 100 Continue\r\n\r\n")) {
    return std::nullopt;
  }

  std::size_t position = header_end + kHeaderEnd.size();
  const auto ensure = [&](std::size_t size) {
    while (buffer.size() < size) {
      if (!read_more(fd, wake_fd, buffer)) {
        return false;
      }
    }
    return true;
  };
  if (same_name(request.header("Transfer-Encoding").value_or(""), "chunked")) {
    while (true) {
      std::size_t line_end = 0;
      while ((line_end = buffer.find("\r\n", position)) == std::string::npos) {
        if (!read_more(fd, wake_fd, buffer)) {
          return std::nullopt;
        }
      }
      const std::size_t chunk_size = std::strtoul(buffer.c_str() + position, nullptr, 16);
      position = line_end + 2;
      if (chunk_size == 0) {
        // Trailers are not expected from the clients under test: only the final CRLF.
        if (!ensure(position + 2)) {
          return std::nullopt;
        }
        position += 2;
        break;
      }
      if (!ensure(position + chunk_size + 2)) {
        return std::nullopt;
      }
      request.raw_body.append(buffer, position, chunk_size);
      position += chunk_size + 2;
    }
  } else {
    const std::size_t length = std::strtoul(request.header("Content-Length").value_or("0").c_str(), nullptr, 10);
    if (!ensure(position + length)) {
      return std::nullopt;
    }
    request.raw_body = buffer.substr(position, length);
    position += length;
  }
  buffer.erase(0, position);
  request.received_at = std::chrono::steady_clock::now();
  return request;
}

std::string format_reply(const HttpReply& reply, bool close) {
  std::string text = "HTTP/1.1 " + std::to_string(reply.status) + " " + reason_phrase(reply.status) + "\r\n";
  for (const auto& [name, value] : reply.headers) {
    text += name + ": " + value + "\r\n";
  }
  text += "Content-Length: " + std::to_string(reply.body.size()) + "\r\n";
  if (close) {
    text += "Connection: close\r\n";
  }
  text += "\r\n";
  text += reply.body;
  return text;
}

}  // namespace

std::optional<std::string> ReceivedRequest::header(std::string_view name) const {
  for (const auto& [key, value] : headers) {
    if (same_name(key, name)) {
      return value;
    }
  }
  return std::nullopt;
}

std::vector<std::string> ReceivedRequest::body_lines() const {
  std::vector<std::string> lines;
  std::stringstream stream(body);
  std::string line;
  while (std::getline(stream, line)) {
    if (!line.empty()) {
      lines.push_back(line);
    }
  }
  return lines;
}

struct HttpTestServer::State {
  mutable std::mutex mutex;
  mutable std::condition_variable changed;
  Responder responder;
  std::deque<HttpReply> queued;
  bool record = true;
  std::vector<ReceivedRequest> requests;
  std::size_t connections = 0;
  std::uint64_t lines = 0;

  // The listening side, rebuilt by restart().
  bool running = false;
  int listen_fd = -1;
  int wake_read = -1;  // readable once stop() writes to wake_write: wakes every poll
  int wake_write = -1;
  std::thread acceptor;
  std::vector<std::thread> connection_threads;
  std::vector<int> open_fds;
};

HttpTestServer::HttpTestServer() : state_(std::make_unique<State>()) { listen_on(0); }

HttpTestServer::~HttpTestServer() { stop(); }

std::string HttpTestServer::url(std::string_view path) const {
  return "http://127.0.0.1:" + std::to_string(port_) + std::string(path);
}

void HttpTestServer::listen_on(std::uint16_t port) {
  const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  const int enable = 1;
  ::setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &enable, sizeof enable);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  address.sin_port = htons(port);
  if (::bind(fd, reinterpret_cast<sockaddr*>(&address), sizeof address) != 0 || ::listen(fd, kListenBacklog) != 0) {
    const std::string error = std::strerror(errno);
    ::close(fd);
    throw std::runtime_error("listening on 127.0.0.1:" + std::to_string(port) + " failed: " + error);
  }
  socklen_t length = sizeof address;
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&address), &length);
  port_ = ntohs(address.sin_port);

  int wake[2];
  if (::pipe2(wake, O_CLOEXEC) != 0) {
    ::close(fd);
    throw std::runtime_error("pipe2 failed");
  }
  std::lock_guard lock(state_->mutex);
  state_->listen_fd = fd;
  state_->wake_read = wake[0];
  state_->wake_write = wake[1];
  state_->running = true;
  state_->acceptor = std::thread([this] { accept_loop(); });
}

void HttpTestServer::accept_loop() {
  const int listen_fd = state_->listen_fd;
  const int wake_fd = state_->wake_read;
  while (wait_readable(listen_fd, wake_fd)) {
    const int fd = ::accept4(listen_fd, nullptr, nullptr, SOCK_CLOEXEC);
    if (fd < 0) {
      continue;
    }
    std::lock_guard lock(state_->mutex);
    const std::size_t connection = ++state_->connections;
    state_->open_fds.push_back(fd);
    state_->connection_threads.emplace_back([this, fd, connection] { serve_connection(fd, connection); });
  }
}

void HttpTestServer::serve_connection(int fd, std::size_t connection) {
  const int wake_fd = state_->wake_read;
  std::string buffer;
  while (true) {
    std::optional<ReceivedRequest> request = read_request(fd, wake_fd, buffer);
    if (!request) {
      break;
    }
    request->connection = connection;
    const bool gzip = same_name(request->header("Content-Encoding").value_or(""), "gzip");
    request->body = gzip ? gunzip(request->raw_body) : request->raw_body;
    const bool close = same_name(request->header("Connection").value_or(""), "close");

    const HttpReply reply = choose_reply(*request);
    request->reply_status = reply.close_without_reply ? 0 : reply.status;
    {
      std::lock_guard lock(state_->mutex);
      state_->lines += static_cast<std::uint64_t>(std::count(request->body.begin(), request->body.end(), '\n'));
      if (!state_->record) {
        // Swapping frees the memory; clear() and assigning an empty string
        // keep the capacity, and a long run would then hold every body.
        std::string().swap(request->raw_body);
        std::string().swap(request->body);
      }
      state_->requests.push_back(std::move(*request));
    }
    state_->changed.notify_all();

    if (reply.delay.count() > 0 && wait_for_stop(wake_fd, reply.delay)) {
      break;
    }
    if (reply.close_without_reply || !write_all(fd, format_reply(reply, close)) || close) {
      break;
    }
  }

  {
    std::lock_guard lock(state_->mutex);
    std::erase(state_->open_fds, fd);
  }
  ::shutdown(fd, SHUT_RDWR);
  ::close(fd);
}

HttpReply HttpTestServer::choose_reply(const ReceivedRequest& request) {
  std::lock_guard lock(state_->mutex);
  if (!state_->queued.empty()) {
    HttpReply reply = std::move(state_->queued.front());
    state_->queued.pop_front();
    return reply;
  }
  return state_->responder ? state_->responder(request) : HttpReply{};
}

void HttpTestServer::set_responder(Responder responder) {
  std::lock_guard lock(state_->mutex);
  state_->responder = std::move(responder);
}

void HttpTestServer::enqueue(HttpReply reply) {
  std::lock_guard lock(state_->mutex);
  state_->queued.push_back(std::move(reply));
}

void HttpTestServer::set_recording(bool record) {
  std::lock_guard lock(state_->mutex);
  state_->record = record;
}

void HttpTestServer::stop() {
  std::vector<std::thread> threads;
  {
    std::lock_guard lock(state_->mutex);
    if (!state_->running) {
      return;
    }
    state_->running = false;
    const char byte = 1;
    [[maybe_unused]] const ssize_t written = ::write(state_->wake_write, &byte, 1);
  }
  state_->acceptor.join();
  {
    std::lock_guard lock(state_->mutex);
    ::close(state_->listen_fd);
    for (int fd : state_->open_fds) {
      ::shutdown(fd, SHUT_RDWR);
    }
    threads.swap(state_->connection_threads);
  }
  for (std::thread& thread : threads) {
    thread.join();
  }
  ::close(state_->wake_read);
  ::close(state_->wake_write);
}

void HttpTestServer::restart() {
  stop();
  listen_on(port_);
}

std::vector<ReceivedRequest> HttpTestServer::requests() const {
  std::lock_guard lock(state_->mutex);
  return state_->requests;
}

std::size_t HttpTestServer::request_count() const {
  std::lock_guard lock(state_->mutex);
  return state_->requests.size();
}

std::size_t HttpTestServer::connection_count() const {
  std::lock_guard lock(state_->mutex);
  return state_->connections;
}

std::uint64_t HttpTestServer::received_lines() const {
  std::lock_guard lock(state_->mutex);
  return state_->lines;
}

bool HttpTestServer::wait_for_requests(std::size_t count, std::chrono::milliseconds timeout) const {
  std::unique_lock lock(state_->mutex);
  return state_->changed.wait_for(lock, timeout, [&] { return state_->requests.size() >= count; });
}

}  // namespace slipway::testing
