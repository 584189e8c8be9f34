#pragma once
// The HTTP server of --metrics-listen: /metrics (Prometheus), /healthz, and the live page at /
// with its data at /api/live. cpp-httplib, on its own threads; off by default.

#include <functional>
#include <memory>
#include <string>
#include <thread>

namespace httplib {
class Server;
}

namespace stash53::app {

class StatusServer {
 public:
  struct Handlers {
    std::function<std::string()> metrics;                // Prometheus text
    std::function<std::pair<bool, std::string>()> health;  // healthy?, JSON body
    std::function<std::string()> live;                   // /api/live JSON
  };

  /// Binds `listen` ("host:port", "[v6]:port"): before privileges are dropped. Throws
  /// std::runtime_error naming the address when it cannot be bound.
  StatusServer(const std::string& listen, Handlers handlers);
  ~StatusServer();
  /// Starts serving on its own thread.
  void start();
  void stop() noexcept;

  /// Checks that `listen` parses and can be bound, then releases it (--check-config). Returns
  /// why not; empty when fine.
  [[nodiscard]] static std::string check(const std::string& listen);

 private:
  std::unique_ptr<httplib::Server> server_;
  Handlers handlers_;
  std::thread thread_;
};

}  // namespace stash53::app
