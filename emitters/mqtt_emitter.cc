// mqtt: events PUBLISHed to an MQTT broker (Eclipse Paho C++ async_client), the topic rendered per
// event ("dns/{nsid}/{qtype}"). A batch is done once every message of it is acknowledged (QoS 1/2)
// or written out (QoS 0); a lost connection resends only the unacknowledged rest, so delivery is
// at least once. The base class reconnects (with backoff, counted); Paho's own reconnect is off.
#include <mqtt/async_client.h>
#include <unistd.h>

#include <chrono>
#include <deque>
#include <memory>

#include "common/host_name.h"
#include "common/log.h"
#include "emitters/queued_emitter.h"
#include "emitters/url.h"

namespace stash53::emitters {
namespace {

using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

std::string default_client_id() {
  const std::string host = host_name();
  return "stash53-" + (host.empty() ? "host" : host) + "-" + std::to_string(::getpid());
}

class MqttEmitter final : public QueuedEmitter {
 public:
  explicit MqttEmitter(const EmitterSpec& spec)
      : QueuedEmitter(apply_url(spec), "topic", "dns/{nsid}/{qtype}") {
    auto& o = *spec.options;
    o.read("broker", broker_, "a broker URI: tcp://host:1883, ssl://host:8883 or ws://host:port/path");
    o.read("client_id", client_id_, "an MQTT client identifier");
    o.read("username", username_, "a user name");
    o.read_secret("password", password_, "a password");
    o.read_range("qos", qos_, 0, 2);
    o.read("retain", retain_, "true or false");
    o.read_range("keepalive_s", keepalive_s_, 0, 65535);
    o.read("clean_session", clean_session_, "true or false");
    std::string version = "3.1.1";
    o.read("mqtt_version", version, "3.1.1 or 5");
    if (version == "5")
      version_ = MQTTVERSION_5;
    else if (version != "3.1.1")
      o.fail("mqtt_version", "expected 3.1.1 or 5, got '" + version + "'");
    o.read_range("connect_timeout_ms", connect_timeout_ms_, 100, 600'000);
    o.read_range("ack_timeout_ms", ack_timeout_ms_, 100, 600'000);
    o.read_range("max_inflight", max_inflight_, 1, 65535);
    o.read_range("max_buffered", max_buffered_, 1, 10'000'000);
    if (max_buffered_ < max_inflight_ + 2)
      o.fail("max_buffered", "must exceed max_inflight by at least 2 (the status messages)");
    o.read_range("events_per_message", events_per_message_, 1, 1'000'000);
    status_topic_ = "stash53/status/" + client_id_;
    o.read("status_topic", status_topic_, "a topic, or \"\" for no online/offline status");

    tls_ = broker_.starts_with("ssl://") || broker_.starts_with("wss://") ||
           broker_.starts_with("mqtts://");
    if (o.has("tls") && !tls_) o.fail("tls", "needs an ssl:// or wss:// broker");
    auto tls = o.section("tls");
    std::string ca_file, cert_file, key_file;
    bool verify = true;
    tls.read("ca_file", ca_file, "a PEM file of trusted CA certificates");
    tls.read("cert_file", cert_file, "a PEM client certificate");
    tls.read("key_file", key_file, "the client certificate's PEM private key");
    tls.read("verify", verify, "true or false");
    tls.finish();
    if (cert_file.empty() != key_file.empty())
      o.fail("tls", "cert_file and key_file go together");

    opts_.set_keep_alive_interval(keepalive_s_);
    opts_.set_connect_timeout(std::chrono::milliseconds(connect_timeout_ms_));
    opts_.set_mqtt_version(version_);
    if (version_ == MQTTVERSION_5) {
      opts_.set_clean_session(false);  // Paho refuses the v3 flag on a v5 connection
      opts_.set_clean_start(clean_session_);
    } else {
      opts_.set_clean_session(clean_session_);
    }
    opts_.set_max_inflight(max_inflight_);
    opts_.set_automatic_reconnect(false);
    if (!username_.empty()) opts_.set_user_name(username_);
    if (!password_.empty()) opts_.set_password(password_);
    if (!status_topic_.empty())
      opts_.set_will(mqtt::will_options(status_topic_, std::string("offline"), 1, true));
    if (tls_) {
      mqtt::ssl_options ssl;
      if (!ca_file.empty()) ssl.set_trust_store(ca_file);
      if (!cert_file.empty()) {
        ssl.set_key_store(cert_file);
        ssl.set_private_key(key_file);
      }
      ssl.set_enable_server_cert_auth(verify);
      ssl.set_verify(verify);  // the host name too, not just the chain
      // No ssl.set_error_handler(): Paho C++ 1.2 hands the C library a pointer to the copy of
      // the options that async_client::connect() takes by value, and the handshake calls it
      // after that copy is gone (AddressSanitizer: stack-use-after-scope).
      opts_.set_ssl(std::move(ssl));
    }
    try {  // a malformed broker URI is a config error, found before anything runs
      make_client();
      client_.reset();
    } catch (const mqtt::exception& e) {
      o.fail("broker", "Paho refuses '" + broker_ + "': " + e.get_error_str());
    }
  }

  ~MqttEmitter() override { stop(0ms); }  // the thread must end before client_ goes

 private:
  /// Gives the `url` option's parts to the options, before the base class reads `topic`: the
  /// broker (scheme, host, port, path), the user and password, and each query parameter as the
  /// option it names (the tls keys into the tls section).
  static const EmitterSpec& apply_url(const EmitterSpec& spec) {
    auto& o = *spec.options;
    // Each batch ends by waiting until its whole window (max_inflight) is acknowledged, with
    // nothing new in flight meanwhile: with batches of only twice the window that idled a
    // third of the time (QoS 1 at 68% of a bare Paho loop; 87% with 10 windows per batch).
    if (!o.has("batch_size")) o.set("batch_size", 10000);
    std::string text;
    o.read("url", text, "tcp://[user:password@]host:1883?topic=dns/{nsid}/{qtype}&qos=1");
    if (text.empty()) return spec;
    o.show("url", config::redact_url(text));
    const Url u = parse_url(text, o, "url");
    const bool tls = u.scheme == "ssl" || u.scheme == "mqtts" || u.scheme == "wss";
    if (!tls && u.scheme != "tcp" && u.scheme != "mqtt" && u.scheme != "ws")
      o.fail("url", "expected a tcp://, ssl://, ws:// or wss:// URL, got '" + config::redact_url(text) + "'");
    const std::string host = u.host.find(':') != std::string::npos ? "[" + u.host + "]" : u.host;
    const int port = u.port != 0 ? u.port : (tls ? 8883 : 1883);
    std::string broker = u.scheme + "://" + host + ":" + std::to_string(port);
    if (!u.path.empty()) broker += "/" + u.path;
    o.set("broker", broker);
    if (!u.user.empty()) o.set("username", u.user);
    if (u.has_password) o.set("password", u.password);
    for (const auto& [k, v] : u.query) {
      // ssl://host?ca_file=... : the flag has no other way to reach the tls section.
      if (k == "ca_file" || k == "cert_file" || k == "key_file" || k == "verify")
        o.section("tls").set(k, v);
      else
        o.set(k, v);
    }
    return spec;
  }

  std::string destination() const override {
    return broker_ + " topic " + topic_text() + " qos " + std::to_string(qos_);
  }

  void make_client() {
    mqtt::create_options create(version_, max_buffered_);
    client_ = std::make_unique<mqtt::async_client>(broker_, client_id_, create, nullptr);
  }

  bool connect() override {
    // A fresh client per connection: nothing queued for the old one is sent twice by Paho.
    make_client();
    try {
      auto tok = client_->connect(opts_);
      // Paho gives up by itself after connect_timeout; the margin only covers its scheduling.
      if (!tok->wait_for(std::chrono::milliseconds(connect_timeout_ms_) + 2s))
        throw mqtt::exception(MQTTASYNC_FAILURE, "no answer within connect_timeout_ms");
      if (!status_topic_.empty())
        client_->publish(status_topic_, "online", 6, 1, true);
      return true;
    } catch (const mqtt::exception& e) {
      report_connect_failure(e);
      client_.reset();
      return false;
    }
  }

  void report_connect_failure(const mqtt::exception& e) {
    if (!errors_.allow()) return;
    std::string why = e.what();
    if (tls_) why += " (with TLS: check the broker's certificate against ca_file, and its name)";
    // CONNACK 4/5 (v3) or 0x86/0x87 (v5): the broker will keep refusing these credentials.
    const int rc = e.get_reason_code();
    if (rc == 4 || rc == 5 || rc == 0x86 || rc == 0x87)
      log::error(component(),
                 "Broker {} refused the login of user '{}': {}; check username and password. "
                 "Retrying ({} more failures).",
                 broker_, username_, why, errors_.suppressed());
    else
      log::warn(component(), "Cannot connect to {}: {}; retrying ({} more failures).", broker_,
                why, errors_.suppressed());
  }

  SendResult send(std::span<const QueuedEvent> batch) override {
    std::size_t done = 0;  // leading events of `batch` already delivered before a Retry
    if (batch.data() == resume_data_ && batch.size() == resume_size_) done = resume_done_;
    resume_data_ = nullptr;
    inflight_.clear();
    confirmed_ = done;
    // Packed messages follow the topic order, so what is confirmed is a prefix of it.
    order_by_topic(batch, events_per_message_ > 1, order_);
    for (std::size_t i = done; i < order_.size();) {
      const QueuedEvent& first = batch[order_[i]];
      const std::size_t n = topic_run(batch, order_, i, events_per_message_);
      const void* payload = first.json.data();
      std::size_t size = first.json.size();
      if (events_per_message_ > 1) {
        pack_.clear();
        append_ndjson(batch, std::span<const std::uint32_t>(order_).subspan(i, n), pack_);
        payload = pack_.data();
        size = pack_.size();
      }
      if (!publish(first.topic, payload, size, n)) return retry_from(batch);
      i += n;
    }
    while (!inflight_.empty())
      if (!settle_oldest()) return retry_from(batch);
    return SendResult::Ok;
  }

  /// Publishes one message, first waiting for room in the window of max_inflight messages.
  bool publish(std::string_view topic_view, const void* payload, std::size_t size, std::size_t events) {
    const mqtt::string_ref topic{std::string(topic_view)};  // Paho keeps its own copy anyway
    while (inflight_.size() >= static_cast<std::size_t>(max_inflight_))
      if (!settle_oldest()) return false;
    for (;;) {
      try {
        inflight_.push_back({client_->publish(topic, payload, size, qos_, retain_), events});
        return true;
      } catch (const mqtt::exception& e) {
        // Paho's buffer is full (the status message took a slot): make room and try again.
        if (e.get_return_code() != MQTTASYNC_MAX_BUFFERED_MESSAGES || inflight_.empty()) {
          warn_lost(e.what());
          return false;
        }
        if (!settle_oldest()) return false;
      }
    }
  }

  /// Waits for the oldest message in flight. False when the connection is gone or silent, or
  /// shutdown is overdue: the batch is then retried from the first unconfirmed event.
  bool settle_oldest() {
    const Inflight& m = inflight_.front();
    const auto give_up = Clock::now() + std::chrono::milliseconds(ack_timeout_ms_);
    try {
      while (!m.token->wait_for(20ms)) {
        if (shutdown_overdue()) return false;
        if (!client_->is_connected()) {
          warn_lost("connection lost");
          return false;
        }
        if (Clock::now() >= give_up) {
          warn_lost("no acknowledgement within ack_timeout_ms");
          return false;
        }
      }
    } catch (const mqtt::exception& e) {
      if (!client_->is_connected()) {
        warn_lost(e.what());
        return false;
      }
      // Connected, yet refused (a v5 PUBACK reason code such as "not authorized"): for good.
      count_dropped(m.events);
      if (refusals_.allow())
        log::error(component(), "Broker {} refused {} events on {}: {} ({} more refusals).",
                   broker_, m.events, m.token->get_message()->get_topic(), e.what(),
                   refusals_.suppressed());
    }
    confirmed_ += m.events;
    inflight_.pop_front();
    return true;
  }

  SendResult retry_from(std::span<const QueuedEvent> batch) {
    // Messages are confirmed in order, so the confirmed events are a prefix of the batch.
    resume_data_ = batch.data();
    resume_size_ = batch.size();
    resume_done_ = confirmed_;
    inflight_.clear();
    return SendResult::Retry;
  }

  void warn_lost(const std::string& why) {
    if (errors_.allow())
      log::warn(component(), "Lost the broker {}: {}; reconnecting ({} more failures).", broker_,
                why, errors_.suppressed());
  }

  void disconnect() noexcept override {
    if (!client_) return;
    inflight_.clear();
    try {
      // The will covers a crash; a clean stop says so itself.
      if (client_->is_connected()) {
        if (!status_topic_.empty())
          client_->publish(status_topic_, "offline", 7, 1, true)->wait_for(1s);
        client_->disconnect(1000)->wait_for(2s);
      }
    } catch (const mqtt::exception&) {
      // Going away anyway; the broker publishes the will if it did not hear the goodbye.
    }
    client_.reset();
  }

  struct Inflight {
    mqtt::delivery_token_ptr token;
    std::size_t events;
  };

  std::string broker_ = "tcp://127.0.0.1:1883";
  std::string client_id_ = default_client_id();
  std::string username_, password_, status_topic_;
  int qos_ = 1;  // acknowledged: `sent` means the broker has it, a broker restart loses nothing
  bool retain_ = false, clean_session_ = true, tls_ = false;
  int keepalive_s_ = 30;
  int version_ = MQTTVERSION_3_1_1;
  int connect_timeout_ms_ = 5000, ack_timeout_ms_ = 10'000;
  int max_inflight_ = 1000, max_buffered_ = 10'000;
  std::size_t events_per_message_ = 1;
  mqtt::connect_options opts_;
  std::unique_ptr<mqtt::async_client> client_;
  std::deque<Inflight> inflight_;
  std::size_t confirmed_ = 0;
  std::string pack_;
  std::vector<std::uint32_t> order_;  // of the batch being sent
  const QueuedEvent* resume_data_ = nullptr;
  std::size_t resume_size_ = 0, resume_done_ = 0;
  log::RateLimit errors_, refusals_;
};

}  // namespace
STASH53_REGISTER_EMITTER("mqtt", MqttEmitter);
}  // namespace stash53::emitters
