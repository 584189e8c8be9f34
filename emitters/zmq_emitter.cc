// zmq: a ZeroMQ publisher sending two-frame messages [topic, JSON], optionally CURVE-encrypted
// with the allowed client keys checked by a ZAP handler. An XPUB socket with XPUB_NODROP, so a
// subscriber at the high-water mark shows as EAGAIN (back-pressure, then counted drops) rather
// than the silent loss of a plain PUB.
#include <zmq.hpp>
#include <zmq_addon.hpp>

#include <array>
#include <atomic>
#include <climits>
#include <set>
#include <thread>

#include "common/log.h"
#include "common/thread_name.h"
#include "emitters/queued_emitter.h"
#include "emitters/url.h"

namespace stash53::emitters {
namespace {

using Clock = std::chrono::steady_clock;
using std::chrono::milliseconds;

constexpr const char* kEndpoints = "a list of endpoints such as [\"tcp://*:5556\"]";
// The longest a send waits inside libzmq before checking the deadlines again.
constexpr milliseconds kSendSlice{50};

std::string z85(const std::string& binary) {
  std::array<char, 41> text{};
  zmq_z85_encode(text.data(), reinterpret_cast<const std::uint8_t*>(binary.data()), binary.size());
  return text.data();
}

// A Z85 CURVE key (40 characters) as its 32 bytes; a config error otherwise.
std::string decode_key(const config::OptionReader& o, const std::string& key, const std::string& text) {
  std::string binary(32, '\0');
  if (text.size() != 40 ||
      zmq_z85_decode(reinterpret_cast<std::uint8_t*>(binary.data()), text.c_str()) == nullptr)
    o.fail(key, "expected a Z85 CURVE key (40 characters), got '" + text + "'");
  return binary;
}

class ZmqEmitter final : public QueuedEmitter {
 public:
  explicit ZmqEmitter(const EmitterSpec& spec)
      : QueuedEmitter(apply_url(spec), "topic", "dns.{qtype}") {
    auto& o = *spec.options;
    o.read("bind", binds_, kEndpoints);
    o.read("connect", connects_, kEndpoints);
    if (binds_.empty() && connects_.empty())
      o.fail("url", "missing: give url, bind or connect (at least one endpoint)");
    o.read_range("sndhwm", sndhwm_, 0, INT_MAX);
    o.read_range("linger_ms", linger_ms_, 0, 3'600'000);
    o.read_range("events_per_message", per_message_, 1, 1'000'000);
    long long wait_ms = wait_subscriber_.count(), timeout_ms = send_timeout_.count();
    o.read_range("wait_subscriber_ms", wait_ms, 0, 3'600'000);
    o.read_range("send_timeout_ms", timeout_ms, 0, 3'600'000);
    wait_subscriber_ = milliseconds(wait_ms);
    send_timeout_ = milliseconds(timeout_ms);
    if (o.has("curve")) read_curve(o.section("curve"));
  }
  // The socket and ZAP thread must be gone before the context is terminated.
  ~ZmqEmitter() override { stop(milliseconds(0)); }

 private:
  // The --zmq URL: its endpoint joins `bind` (host `*` or bind=1) or `connect`, and its query
  // parameters are options, set before the base class reads `topic`.
  static const EmitterSpec& apply_url(const EmitterSpec& spec) {
    auto& o = *spec.options;
    std::string text;
    o.read("url", text, "a URL such as tcp://127.0.0.1:5556?topic=dns.{qtype}");
    if (text.empty()) return spec;
    const Url url = parse_url(text, o, "url");
    if (url.scheme != "tcp" || url.port == 0 || !url.path.empty())
      o.fail("url", "expected tcp://host:port[?key=value&...], got '" + text + "'");
    bool bind = url.host == "*";
    for (const auto& [k, v] : url.query) {
      if (k != "bind") {
        o.set(k, v);
      } else if (v == "0" || v == "1") {
        bind = v == "1";
      } else {
        o.fail("url", "bind= must be 0 or 1, got '" + v + "'");
      }
    }
    if (url.host == "*" && !bind) o.fail("url", "cannot connect to host '*'");
    const std::string key = bind ? "bind" : "connect";
    std::vector<std::string> endpoints;
    o.read(key, endpoints, kEndpoints);
    endpoints.push_back(text.substr(0, text.find('?')));
    o.set(key, endpoints);
    return spec;
  }

  void read_curve(config::OptionReader c) {
    std::string secret, pub;
    c.read_secret("secret_key", secret, "the server's Z85 secret key");
    if (secret.empty()) c.fail("secret_key", "missing: give secret_key, secret_key_file or secret_key_env");
    c.require("public_key", pub, "the server's Z85 public key");
    const std::string secret_bin = decode_key(c, "secret_key", secret);
    std::array<char, 41> derived{};
    if (zmq_curve_public(derived.data(), secret.c_str()) != 0 || pub != derived.data())
      c.fail("public_key", "is not the public key of secret_key");
    std::vector<std::string> clients;
    c.require("allowed_clients", clients, "a list of Z85 client public keys");
    if (clients.empty()) c.fail("allowed_clients", "must name at least one client key");
    for (const auto& k : clients) allowed_.insert(decode_key(c, "allowed_clients", k));
    c.finish();
    curve_secret_ = secret_bin;
  }

  std::string destination() const override {
    std::string d;
    for (const auto& e : binds_) d += (d.empty() ? "bind " : ", bind ") + e;
    for (const auto& e : connects_) d += (d.empty() ? "connect " : ", connect ") + e;
    return d + " topic " + topic_text() + (curve_secret_.empty() ? "" : " (CURVE)");
  }

  /// A bound address taken by another process would only show as retries: try each one now.
  std::string open_local(bool) override {
    for (const auto& e : binds_) {
      zmq::context_t ctx(1);
      zmq::socket_t probe(ctx, zmq::socket_type::pub);
      try {
        probe.set(zmq::sockopt::linger, 0);
        probe.bind(e);
      } catch (const zmq::error_t& err) {
        return "cannot bind " + e + ": " + err.what();
      }
    }
    return {};
  }

  bool connect() override {
    try {
      if (!curve_secret_.empty()) start_zap();
      socket_ = zmq::socket_t(ctx_, zmq::socket_type::xpub);
      socket_.set(zmq::sockopt::sndhwm, sndhwm_);
      socket_.set(zmq::sockopt::linger, linger_ms_);
      socket_.set(zmq::sockopt::sndtimeo, static_cast<int>(kSendSlice.count()));
      socket_.set(zmq::sockopt::xpub_nodrop, 1);
      if (!curve_secret_.empty()) {
        socket_.set(zmq::sockopt::curve_server, 1);
        socket_.set(zmq::sockopt::curve_secretkey, curve_secret_);
        socket_.set(zmq::sockopt::zap_domain, "stash53");
      }
      for (const auto& e : binds_) socket_.bind(e);
      for (const auto& e : connects_) socket_.connect(e);
    } catch (const zmq::error_t& e) {
      if (errors_.allow())
        log::warn(component(), "Cannot set up the ZeroMQ socket: {}; retrying ({} more failures).",
                  e.what(), errors_.suppressed());
      disconnect();
      return false;
    }
    // A subscriber's subscription arrives only after its TCP (and CURVE) handshake: wait for
    // the first one, bounded, so events sent right away (reading a file) are not lost.
    subscribed_ = false;
    const auto until = Clock::now() + wait_subscriber_;
    while (!subscribed_ && Clock::now() < until && !shutdown_overdue()) {
      zmq::pollitem_t item{socket_.handle(), 0, ZMQ_POLLIN, 0};
      zmq::poll(&item, 1, kSendSlice);
      read_subscriptions();
    }
    return true;
  }

  SendResult send(std::span<const QueuedEvent> batch) override {
    read_subscriptions();
    order_by_topic(batch, per_message_ > 1, order_);
    for (std::size_t i = 0; i < order_.size();) {
      const std::size_t n = topic_run(batch, order_, i, per_message_);
      if (!publish(batch, std::span<const std::uint32_t>(order_).subspan(i, n))) {
        count_dropped(batch.size() - i);
        if (drops_.allow())
          log::warn(component(),
                    "Subscribers at the high-water mark for {} ms; dropped {} events ({} more "
                    "such batches).",
                    send_timeout_.count(), batch.size() - i, drops_.suppressed());
        break;
      }
      i += n;
    }
    return SendResult::Ok;
  }

  void disconnect() noexcept override {
    socket_.close();
    if (zap_thread_.joinable()) {
      zap_stop_.store(true);
      zap_thread_.join();
    }
  }

  // One message: the topic, then the event, or with events_per_message > 1 the events (indices
  // into batch) as NDJSON.
  bool publish(std::span<const QueuedEvent> batch, std::span<const std::uint32_t> events) {
    const QueuedEvent& first = batch[events.front()];
    std::string_view body = first.json;
    if (per_message_ > 1) {
      body_.clear();
      append_ndjson(batch, events, body_);
      body = body_;
    }
    if (!send_frame(zmq::buffer(first.topic), zmq::send_flags::sndmore, true)) return false;
    // Once the first frame is in, the rest cannot be refused by the high-water mark.
    return send_frame(zmq::buffer(body), zmq::send_flags::none, false);
  }

  // Sends with back-pressure: a full subscriber makes the send time out (EAGAIN) every
  // kSendSlice; gives up after send_timeout_ms (when `may_give_up`) or the drain deadline.
  bool send_frame(zmq::const_buffer frame, zmq::send_flags flags, bool may_give_up) {
    const auto until = Clock::now() + send_timeout_;
    for (;;) {
      if (socket_.send(frame, flags)) return true;
      if (shutdown_overdue() || (may_give_up && Clock::now() >= until)) return false;
      read_subscriptions();
    }
  }

  // XPUB hands the (un)subscriptions up; read them so they do not pile up, noting that someone
  // is listening.
  void read_subscriptions() {
    zmq::message_t msg;
    while (socket_.recv(msg, zmq::recv_flags::dontwait))
      if (msg.size() > 0 && *msg.data<std::uint8_t>() == 1) subscribed_ = true;
  }

  // ZAP (RFC 27) on its own thread, so handshakes proceed while the emitter thread waits for
  // events. Bound here, before the CURVE socket exists, so no handshake finds it missing.
  void start_zap() {
    zmq::socket_t zap(ctx_, zmq::socket_type::rep);
    zap.bind("inproc://zeromq.zap.01");
    zap_stop_.store(false);
    zap_thread_ = std::thread([this, s = std::move(zap)]() mutable { serve_zap(s); });
  }

  void serve_zap(zmq::socket_t& s) noexcept {
    set_thread_name("s53/zap:" + name());
    log::RateLimit refused;
    std::vector<zmq::message_t> req;
    while (!zap_stop_.load()) {
      try {
        zmq::pollitem_t item{s.handle(), 0, ZMQ_POLLIN, 0};
        if (zmq::poll(&item, 1, milliseconds(100)) == 0) continue;
        req.clear();
        if (!zmq::recv_multipart(s, std::back_inserter(req))) continue;
        // version, request id, domain, address, routing id, mechanism, credentials...
        const bool ok = req.size() >= 7 && req[5].to_string_view() == "CURVE" &&
                        allowed_.contains(req[6].to_string());
        const std::string_view id = req.size() > 1 ? req[1].to_string_view() : "";
        const std::array<zmq::const_buffer, 6> reply{
            zmq::str_buffer("1.0"), zmq::buffer(id),
            ok ? zmq::str_buffer("200") : zmq::str_buffer("400"),
            ok ? zmq::str_buffer("OK") : zmq::str_buffer("client key not allowed"),
            zmq::const_buffer(), zmq::const_buffer()};
        zmq::send_multipart(s, reply);
        if (!ok && refused.allow())
          log::warn(component(), "Refused CURVE client {} from {} ({} more refusals).",
                    req.size() >= 7 ? z85(req[6].to_string()) : "-",
                    req.size() > 3 ? req[3].to_string() : "-", refused.suppressed());
      } catch (const zmq::error_t& e) {
        log::error(component(), "ZAP handler failed: {}.", e.what());
        return;
      }
    }
  }

  std::vector<std::string> binds_, connects_;
  // Messages still in libzmq at shutdown get linger_ms to reach the subscribers.
  int sndhwm_ = 100'000, linger_ms_ = 5'000;
  std::size_t per_message_ = 1;
  // libzmq lets a blocked sender go on only once the subscriber has read half of sndhwm, so
  // send_timeout_ms must cover that for a slow but live subscriber (5k events/s at the defaults).
  milliseconds wait_subscriber_{1'000}, send_timeout_{10'000};
  std::string curve_secret_;      // binary; empty: no CURVE
  std::set<std::string> allowed_;  // binary client public keys
  bool subscribed_ = false;
  std::string body_;
  std::vector<std::uint32_t> order_;  // of the batch being sent
  log::RateLimit errors_, drops_;
  zmq::context_t ctx_;
  zmq::socket_t socket_;  // emitter thread only
  std::thread zap_thread_;
  std::atomic<bool> zap_stop_{false};
};

}  // namespace
STASH53_REGISTER_EMITTER("zmq", ZmqEmitter);
}  // namespace stash53::emitters
