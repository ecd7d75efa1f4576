#include "engine/api_server.hpp"

#include <stdexcept>

#include <fmt/format.h>
#include <httplib.h>

namespace slipway {

namespace {

constexpr const char* kPrometheusContentType = "text/plain; version=0.0.4; charset=utf-8";

}  // namespace

ApiServer::ApiServer(MetricsFunction metrics, HealthFunction health) : server_(std::make_unique<httplib::Server>()) {
  server_->Get("/metrics", [metrics = std::move(metrics)](const httplib::Request&, httplib::Response& response) {
    response.set_content(metrics(), kPrometheusContentType);
  });
  server_->Get("/health", [health = std::move(health)](const httplib::Request&, httplib::Response& response) {
    const HealthReport report = health();
    // Load balancers and service checks read the status; people read the text.
    response.status = report.healthy ? 200 : 503;
    response.set_content(report.text, "text/plain; charset=utf-8");
  });
}

ApiServer::~ApiServer() { stop(); }

void ApiServer::start(const std::string& address) {
  const std::size_t colon = address.rfind(':');
  if (colon == std::string::npos) {
    throw std::runtime_error(fmt::format("api address \"{}\" has no port; write host:port, e.g. 127.0.0.1:9580", address));
  }
  std::string host = address.substr(0, colon);
  if (host.size() > 2 && host.front() == '[' && host.back() == ']') {
    host = host.substr(1, host.size() - 2);
  }
  const int requested_port = std::stoi(address.substr(colon + 1));
  if (requested_port == 0) {
    port_ = server_->bind_to_any_port(host);
  } else if (server_->bind_to_port(host, requested_port)) {
    port_ = requested_port;
  } else {
    port_ = -1;
  }
  if (port_ <= 0) {
    throw std::runtime_error(
        fmt::format("cannot listen on api address {}; is another process using it?", address));
  }
  thread_ = std::thread([this] { server_->listen_after_bind(); });
}

void ApiServer::stop() {
  if (thread_.joinable()) {
    server_->stop();
    thread_.join();
  }
}

}  // namespace slipway
