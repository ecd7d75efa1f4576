// The optional HTTP endpoint of a running pipeline: Prometheus metrics at
// /metrics and the pipeline's health at /health.
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <thread>

namespace httplib {
class Server;
}

namespace slipway {

struct HealthReport {
  bool healthy = true;
  std::string text;  // "ok", or "degraded" and one line per failing component
};

class ApiServer {
 public:
  using MetricsFunction = std::function<std::string()>;
  using HealthFunction = std::function<HealthReport()>;

  ApiServer(MetricsFunction metrics, HealthFunction health);
  ~ApiServer();
  ApiServer(const ApiServer&) = delete;
  ApiServer& operator=(const ApiServer&) = delete;

  // Listens on `address` (host:port; port 0 picks a free one) in a thread
  // of its own. Throws std::runtime_error naming the address when it cannot.
  void start(const std::string& address);
  // The port listened on, useful after binding port 0.
  int port() const { return port_; }
  void stop();

 private:
  std::unique_ptr<httplib::Server> server_;
  std::thread thread_;
  int port_ = 0;
};

}  // namespace slipway
