#include "outputs/logstash/host_pool.hpp"

#include <fmt/format.h>

namespace slipway::outputs::logstash {

namespace {

constexpr auto kFailureLogInterval = std::chrono::seconds(10);

}  // namespace

HostPool::HostPool(std::vector<Endpoint> endpoints, const StreamTlsSettings& tls,
                   std::chrono::milliseconds connect_timeout)
    : endpoints_(std::move(endpoints)), connect_timeout_(connect_timeout) {
  if (tls.enabled) {
    tls_ = std::make_unique<TlsClientContext>(tls);
  }
}

StreamConnection* HostPool::connection(OutputContext& context, std::string& error) {
  // A receiver that closed an idle connection is noticed here, before a
  // batch is written into a socket that can only return a reset.
  if (connection_ && connection_->peer_closed()) {
    context.log().info("The receiver closed the connection; reconnecting. host={}", current().text());
    connection_.reset();
  }
  if (connection_) {
    return connection_.get();
  }

  std::string errors;
  for (std::size_t tried = 0; tried < endpoints_.size(); ++tried) {
    std::string reason;
    connection_ = StreamConnection::open(current(), connect_timeout_, tls_.get(), reason);
    if (connection_) {
      context.log().info("Connected. host={} tls={}", current().text(), tls_ ? "on" : "off");
      return connection_.get();
    }
    if (!errors.empty()) {
      errors += "; ";
    }
    errors += fmt::format("{}: {}", current().text(), reason);
    current_ = (current_ + 1) % endpoints_.size();
  }
  error = endpoints_.size() == 1 ? "connecting to " + errors : "connecting to every host failed: " + errors;
  return nullptr;
}

void HostPool::fail(OutputContext& context, const std::string& reason) {
  connection_.reset();
  const Endpoint failed = current();
  current_ = (current_ + 1) % endpoints_.size();

  const auto now = std::chrono::steady_clock::now();
  if (now - last_failure_log_ < kFailureLogInterval) {
    ++suppressed_failure_logs_;
    return;
  }
  context.log().warn("Connection failed; the unconfirmed events are sent again. host={} next_host={} "
                     "similar_messages_suppressed={} error=\"{}\"",
                     failed.text(), current().text(), suppressed_failure_logs_, reason);
  last_failure_log_ = now;
  suppressed_failure_logs_ = 0;
}

}  // namespace slipway::outputs::logstash
