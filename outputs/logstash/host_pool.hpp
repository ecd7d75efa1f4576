// The hosts of a beats or tcp output and the one open connection. A host
// that cannot be reached, or whose connection fails, is left for the next
// one in the list, so the output fails over and comes back round to the
// first host once the others fail too.
#pragma once

#include <chrono>
#include <cstddef>
#include <memory>
#include <string>
#include <vector>

#include "engine/component.hpp"
#include "outputs/logstash/stream_connection.hpp"

namespace slipway::outputs::logstash {

class HostPool {
 public:
  // Throws std::runtime_error when the TLS files cannot be loaded.
  HostPool(std::vector<Endpoint> endpoints, const StreamTlsSettings& tls, std::chrono::milliseconds connect_timeout);

  // The open connection, or a new one to the current host or, failing
  // that, to each next host in turn. Returns nullptr when every host
  // failed, with each host's error in `error`.
  StreamConnection* connection(OutputContext& context, std::string& error);
  // Closes the connection after a failure, so the next call connects to
  // the next host.
  void fail(OutputContext& context, const std::string& reason);
  void close() { connection_.reset(); }

  const Endpoint& current() const { return endpoints_[current_]; }

 private:
  std::vector<Endpoint> endpoints_;
  std::unique_ptr<TlsClientContext> tls_;
  std::chrono::milliseconds connect_timeout_;
  std::size_t current_ = 0;
  std::unique_ptr<StreamConnection> connection_;
  std::chrono::steady_clock::time_point last_failure_log_{};
  std::uint64_t suppressed_failure_logs_ = 0;
};

}  // namespace slipway::outputs::logstash
