// A loopback Lumberjack v2 server, standing in for Logstash's beats input,
// which cannot be installed here. It follows the protocol as go-lumber's
// server implements it. A window frame comes first, then that many events
// numbered from 1, as JSON frames or compressed frames holding JSON frames.
// The server ACKs the window's count once the window is processed and
// sends ACKs with sequence 0 as keep-alives. It closes the connection
// without an ACK on a bad frame or a JSON frame that does not decode. A test can make it send partial
// ACKs, delay its ACK behind keep-alives, drop a connection in the middle
// of a window, refuse connections, or require TLS with client certificates.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace slipway::testing {

struct BeatsServerTls {
  std::filesystem::path cert_file;
  std::filesystem::path key_file;
  std::optional<std::filesystem::path> client_ca;  // when set, clients must present a certificate it trusts
};

// How the server replies. A test may change it while the server runs.
struct BeatsBehaviour {
  std::size_t partial_ack_every = 0;  // also ACK after every N events of a window; 0: only the final ACK
  int keepalives_before_ack = 0;      // keep-alive ACKs sent before each final ACK
  std::chrono::milliseconds keepalive_interval{0};
  // Close the connection without an ACK once this many events of a window
  // arrived, once, as a crashing receiver would; 0: never.
  std::size_t close_after_events = 0;
  std::size_t max_window = 10'000;  // larger windows are a protocol error, as in go-lumber
  bool validate_json = true;
  bool record = true;  // keep the text of acknowledged events
};

class BeatsTestServer {
 public:
  explicit BeatsTestServer(const std::optional<BeatsServerTls>& tls = std::nullopt);
  ~BeatsTestServer();
  BeatsTestServer(const BeatsTestServer&) = delete;
  BeatsTestServer& operator=(const BeatsTestServer&) = delete;

  std::uint16_t port() const { return port_; }
  std::string host() const;  // "127.0.0.1:PORT"

  void set_behaviour(const BeatsBehaviour& behaviour);

  // Closes the listening socket and every connection; later connections
  // are refused until restart().
  void stop();
  // Listens again on the same port.
  void restart();

  // Events whose window position the server acknowledged, in order, as JSON text.
  std::vector<std::string> acknowledged_events() const;
  std::uint64_t acknowledged_count() const;
  std::size_t connection_count() const;
  std::size_t compressed_frames() const;
  // Connections closed because of a protocol error or undecodable JSON.
  std::size_t protocol_errors() const;

 private:
  struct State;
  struct Connection;
  void listen_on(std::uint16_t port);
  void accept_loop();
  void serve(std::shared_ptr<Connection> connection);
  bool serve_window(Connection& connection, std::uint32_t count);

  std::unique_ptr<State> state_;
  std::uint16_t port_ = 0;
};

}  // namespace slipway::testing
