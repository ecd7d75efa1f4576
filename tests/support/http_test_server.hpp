// A loopback HTTP server for output tests: it replies to each request as
// the test scripts it and records what it received. It is written on plain
// sockets rather than an HTTP library, because a test must also be able
// to make it misbehave: reply late, close a connection without a
// reply, or stop listening so that connections are refused.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace slipway::testing {

// What the server sends for one request.
struct HttpReply {
  int status = 200;
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body = "{}";
  std::chrono::milliseconds delay{0};  // wait before replying
  bool close_without_reply = false;    // read the request, then close the connection
};

struct ReceivedRequest {
  std::string method;
  std::string target;
  std::vector<std::pair<std::string, std::string>> headers;
  std::string raw_body;  // as received
  std::string body;      // gunzipped when Content-Encoding is gzip; empty when recording is off
  std::size_t connection = 0;  // 1-based number of the TCP connection it came on
  std::chrono::steady_clock::time_point received_at;
  int reply_status = 0;  // 0 when the connection was closed without a reply

  // The first header named `name`, compared case-insensitively.
  std::optional<std::string> header(std::string_view name) const;
  // `body` split at LF, without empty lines.
  std::vector<std::string> body_lines() const;
};

class HttpTestServer {
 public:
  // Chooses the reply to a request; called on the connection's thread.
  using Responder = std::function<HttpReply(const ReceivedRequest&)>;

  // Listens on 127.0.0.1, on a port the kernel picks, and replies 200
  // with `{}` unless enqueue() or set_responder() sets other replies.
  HttpTestServer();
  ~HttpTestServer();
  HttpTestServer(const HttpTestServer&) = delete;
  HttpTestServer& operator=(const HttpTestServer&) = delete;

  std::uint16_t port() const { return port_; }
  std::string url(std::string_view path = "/") const;

  void set_responder(Responder responder);
  // Queues replies for the next requests, in order. The responder replies
  // once the queue is empty.
  void enqueue(HttpReply reply);
  // With false, bodies are counted but not kept, for long benchmark runs.
  void set_recording(bool record);

  // Closes the listening socket and every connection: later connections
  // are refused until restart().
  void stop();
  // Listens again on the same port; throws std::runtime_error when the
  // port has been taken in the meantime.
  void restart();

  std::vector<ReceivedRequest> requests() const;
  std::size_t request_count() const;
  std::size_t connection_count() const;
  // Lines received across all decoded bodies, counted even without recording.
  std::uint64_t received_lines() const;
  // Waits until at least `count` requests have arrived or `timeout` passes.
  bool wait_for_requests(std::size_t count, std::chrono::milliseconds timeout) const;

 private:
  struct State;
  void listen_on(std::uint16_t port);
  void accept_loop();
  void serve_connection(int fd, std::size_t connection);
  HttpReply choose_reply(const ReceivedRequest& request);

  std::unique_ptr<State> state_;
  std::uint16_t port_ = 0;
};

}  // namespace slipway::testing
