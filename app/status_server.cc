#include "app/status_server.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <httplib.h>

#include <charconv>
#include <chrono>
#include <cstring>
#include <stdexcept>

#include "app/live_stats.h"
#include "common/log.h"
#include "common/thread_name.h"

namespace stash53::app {
namespace {

struct Address {
  std::string host;
  int port = 0;
};

Address parse_listen(const std::string& listen) {
  const auto colon = listen.rfind(':');
  if (colon == std::string::npos || colon == 0)
    throw std::runtime_error("metrics listen address '" + listen + "': expected host:port");
  Address a;
  a.host = listen.substr(0, colon);
  if (a.host.size() > 2 && a.host.front() == '[' && a.host.back() == ']')
    a.host = a.host.substr(1, a.host.size() - 2);
  const std::string port = listen.substr(colon + 1);
  const auto r = std::from_chars(port.data(), port.data() + port.size(), a.port);
  if (r.ptr != port.data() + port.size() || a.port < 1 || a.port > 65535)
    throw std::runtime_error("metrics listen address '" + listen + "': bad port '" + port + "'");
  return a;
}

}  // namespace

StatusServer::StatusServer(const std::string& listen, Handlers handlers)
    : server_(std::make_unique<httplib::Server>()), handlers_(std::move(handlers)) {
  const Address a = parse_listen(listen);
  auto& s = *server_;
  s.set_tcp_nodelay(true);
  s.new_task_queue = [] { return new httplib::ThreadPool(2); };  // a scraper and a browser
  s.Get("/metrics", [this](const httplib::Request&, httplib::Response& res) {
    res.set_content(handlers_.metrics(), "text/plain; version=0.0.4; charset=utf-8");
  });
  s.Get("/healthz", [this](const httplib::Request&, httplib::Response& res) {
    const auto [healthy, body] = handlers_.health();
    res.status = healthy ? 200 : 503;
    res.set_content(body, "application/json");
  });
  s.Get("/api/live", [this](const httplib::Request&, httplib::Response& res) {
    res.set_header("Cache-Control", "no-store");
    res.set_content(handlers_.live(), "application/json");
  });
  s.Get("/", [](const httplib::Request&, httplib::Response& res) {
    // The page's own script only: nothing else may load or run.
    res.set_header("Content-Security-Policy",
                   "default-src 'none'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; "
                   "connect-src 'self'; img-src data:");
    res.set_header("X-Content-Type-Options", "nosniff");
    const auto page = live_page_html();
    res.set_content(page.data(), page.size(), "text/html; charset=utf-8");
  });
  if (!s.bind_to_port(a.host, a.port))
    throw std::runtime_error("metrics: cannot listen on " + listen + ": " + std::strerror(errno));
}

StatusServer::~StatusServer() { stop(); }

void StatusServer::start() {
  thread_ = std::thread([this] {
    set_thread_name("s53/http");
    server_->listen_after_bind();
  });
}

void StatusServer::stop() noexcept {
  // stop() does nothing until the thread is listening: wait for it to get there (briefly).
  for (int i = 0; i < 2000 && thread_.joinable() && !server_->is_running(); ++i)
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  if (server_) server_->stop();
  if (thread_.joinable()) thread_.join();
}

std::string StatusServer::check(const std::string& listen) {
  try {
    const Address a = parse_listen(listen);
    httplib::Server probe;
    if (!probe.bind_to_port(a.host, a.port))
      return "metrics: cannot listen on " + listen + ": " + std::strerror(errno);
    probe.stop();
  } catch (const std::exception& e) {
    return e.what();
  }
  return {};
}

}  // namespace stash53::app
