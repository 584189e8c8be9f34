// nats: events published to NATS subjects (libnats), the subject rendered per event
// ("dns.{qtype}"). Without `stream`, core NATS: fire and forget, a batch is done once the server
// answered a flush. With `stream`, JetStream: each message is published asynchronously with a
// Nats-Msg-Id, and a batch is done once the stream acknowledged every message of it; what is
// refused for the moment (no leader during an election) or not acknowledged within
// ack_timeout_ms is published again with the same id, so the stream's duplicate window drops
// what it already had: at least once from here, exactly once in the stream.
//
// libnats reconnects by itself, across every server in `servers` and those the cluster
// announces, and buffers what is published meanwhile; the base class only makes the first
// connection. Its reconnects and the connection's state reach the usual counters.
#include <nats/nats.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <mutex>
#include <thread>
#include <vector>

#include "common/clock.h"
#include "common/host_name.h"
#include "common/log.h"
#include "emitters/queued_emitter.h"
#include "emitters/url.h"

namespace stash53::emitters {
namespace {

using namespace std::chrono_literals;

struct ConnectionFree {
  void operator()(natsConnection* c) const noexcept { natsConnection_Destroy(c); }
};
struct OptionsFree {
  void operator()(natsOptions* o) const noexcept { natsOptions_Destroy(o); }
};
struct JsFree {
  void operator()(jsCtx* j) const noexcept { jsCtx_Destroy(j); }
};

class NatsEmitter final : public QueuedEmitter {
 public:
  explicit NatsEmitter(const EmitterSpec& spec)
      : QueuedEmitter(apply_url(spec), "subject", "dns.{qtype}") {
    auto& o = *spec.options;
    std::vector<std::string> servers{"nats://127.0.0.1:4222"};
    o.read_list("servers", servers, "nats://host:port entries, comma-separated or a list");
    for (const auto& item : servers)
      for (auto& s : split_list(item)) servers_.push_back(std::move(s));
    if (servers_.empty()) o.fail("servers", "expected at least one nats://host:port");
    for (const auto& s : servers_) {
      const Url u = parse_url(s, o, "servers");
      if (u.scheme != "nats" && u.scheme != "tls")
        o.fail("servers", "expected nats:// or tls:// URLs, got '" + config::redact_url(s) + "'");
      tls_ = tls_ || u.scheme == "tls";
    }
    o.read("user", user_, "a user name");
    o.read_secret("password", password_, "a password");
    if (!user_.empty() && password_.empty()) o.fail("user", "a user needs a password");
    o.read_secret("token", token_, "an authentication token");
    o.read("creds", creds_, "a .creds file (user JWT and NKey seed)");
    o.read("nkey", nkey_, "a user NKey's public key (U...)");
    o.read("nkey_seed", nkey_seed_, "the file holding that NKey's seed");
    if (nkey_.empty() != nkey_seed_.empty()) o.fail("nkey", "nkey and nkey_seed go together");
    if (!creds_.empty() && !nkey_.empty()) o.fail("nkey", "use either creds or nkey, not both");
    tls_ = tls_ || o.has("tls");
    auto tls = o.section("tls");
    bool verify = true;
    tls.read("ca_file", tls_ca_, "a PEM file of trusted CA certificates");
    tls.read("cert_file", tls_cert_, "a PEM client certificate");
    tls.read("key_file", tls_key_, "the client certificate's PEM private key");
    tls.read("verify", verify, "true or false");
    tls.finish();
    tls_verify_ = verify;
    if (tls_cert_.empty() != tls_key_.empty()) o.fail("tls", "cert_file and key_file go together");

    o.read("stream", stream_, "a JetStream stream name, or none for core NATS");
    o.read_range("events_per_message", events_per_message_, 1, 1'000'000);
    o.read_range("connect_timeout_ms", connect_timeout_ms_, 100, 600'000);
    o.read_range("ack_timeout_ms", ack_timeout_ms_, 100, 600'000);
    o.read_range("max_pending_acks", max_pending_acks_, 1, 1'000'000);
    o.read_range("reconnect_buffer_mb", reconnect_buffer_mb_, 0, 4096);
    o.read("msg_id_prefix", msg_id_prefix_, "the start of each Nats-Msg-Id");
    // The stream, when stash53 creates it (off by default: streams are usually the
    // operator's, with their own limits and placement).
    o.read("create_stream", create_stream_, "true or false");
    std::vector<std::string> subjects;
    o.read_list("stream_subjects", subjects, "the stream's subjects, comma-separated or a list");
    for (const auto& item : subjects)
      for (auto& s : split_list(item)) stream_subjects_.push_back(std::move(s));
    o.read_range("stream_replicas", stream_replicas_, 1, 5);
    o.read_range("stream_max_age_s", stream_max_age_s_, 0, 100LL * 365 * 86400);
    o.read_range("stream_max_bytes", stream_max_bytes_, -1, 1LL << 50);
    o.read_range("stream_duplicate_window_s", stream_duplicate_window_s_, 0, 7 * 86400);
    if (stream_.empty())
      for (const char* key : {"create_stream", "stream_subjects", "stream_replicas", "stream_max_age_s",
                              "stream_max_bytes", "stream_duplicate_window_s", "max_pending_acks"})
        if (o.has(key)) o.fail(key, "applies to JetStream only: set `stream` too");
    if (stream_subjects_.empty()) stream_subjects_.push_back(subject_wildcard(topic_text()));
    // Within one process the same message keeps its id across resends; a restart starts a
    // new run, so its first events are never taken for the last run's.
    if (const std::string host = host_name(); msg_id_prefix_.empty())
      msg_id_prefix_ = (host.empty() ? "host" : host) + "-" + std::to_string(wall_ns() / 1'000'000);
  }

  ~NatsEmitter() override { stop(0ms); }  // the thread must end before the connection goes

  void register_metrics(MetricRegistry& r) const override {
    QueuedEmitter::register_metrics(r);
    if (stream_.empty()) return;
    r.add({"emitter", name(), "acks-pending", {}, "JetStream messages published, not yet acknowledged",
           MetricType::Gauge, true},
          [this] { return pending_.load(); });
    r.add({"emitter", name(), "resends", {},
           "JetStream messages published again (refused for the moment, or no acknowledgement in time)"},
          resends_);
  }

 private:
  /// Gives the `url` option's parts to the options, before the base class reads `subject`:
  /// nats://[user:password@]host:port[,host:port...][?subject=...&stream=...].
  static const EmitterSpec& apply_url(const EmitterSpec& spec) {
    auto& o = *spec.options;
    // Acknowledged batches: one round trip to the stream's leader and its replicas per
    // batch, so a batch holds as many as may be pending.
    if (!o.has("batch_size")) o.set("batch_size", 4096);
    std::string text;
    o.read("url", text, "nats://[user:password@]host:4222[,host:port...]?subject=dns.{qtype}&stream=DNS");
    if (text.empty()) return spec;
    o.show("url", config::redact_url(text));
    const Url u = parse_url(text, o, "url", true);
    if (u.scheme != "nats" && u.scheme != "tls")
      o.fail("url", "expected a nats:// or tls:// URL, got '" + config::redact_url(text) + "'");
    std::string servers;
    for (HostPort h : u.more_hosts) {
      if (h.port == 0) h.port = 4222;
      servers += "," + u.scheme + "://" + h.text();
    }
    o.set("servers", u.scheme + "://" + HostPort{u.host, u.port != 0 ? u.port : 4222}.text() + servers);
    if (u.has_user && !u.has_password)
      o.fail("url", "a user needs a password: nats://user:password@host (or ?token=...)");
    if (!u.user.empty()) o.set("user", u.user);
    if (u.has_password) o.set("password", u.password);
    for (const auto& [k, v] : u.query) {
      if (k == "ca_file" || k == "cert_file" || k == "key_file" || k == "verify")
        o.section("tls").set(k, v);
      else if (k == "create_stream")  // create_stream=1, as the flag's users write it
        o.set(k, v == "1" || v == "true");
      else
        o.set(k, v);
    }
    return spec;
  }

  /// The subjects a created stream takes by default: the template's fixed first tokens, then
  /// everything ("dns.{nsid}.{qtype}" → "dns.>"), since a rendered value may hold dots.
  static std::string subject_wildcard(const std::string& subject) {
    const auto fixed = subject.substr(0, subject.find('{'));
    const auto dot = fixed.rfind('.');
    return (dot == std::string::npos ? "" : fixed.substr(0, dot + 1)) + ">";
  }

  std::string destination() const override {
    std::string where;
    for (const auto& s : servers_) where += (where.empty() ? "" : ",") + s;
    return where + " subject " + topic_text() +
           (stream_.empty() ? " (core NATS)" : " stream " + stream_ + " (JetStream, acknowledged)");
  }

  /// Fails with the library's own words, rate-limited.
  bool failed(natsStatus s, const std::string& what) {
    if (errors_.allow())
      log::warn(component(), "{}: {} ({}); retrying ({} more failures).", what, natsStatus_GetText(s),
                nats_GetLastError(nullptr), errors_.suppressed());
    disconnect();
    return false;
  }

  bool connect() override {
    natsOptions* raw = nullptr;
    if (natsOptions_Create(&raw) != NATS_OK) throw std::bad_alloc();
    const std::unique_ptr<natsOptions, OptionsFree> options(raw);  // the connection keeps a copy
    natsOptions* o = raw;
    std::vector<const char*> urls;
    for (const auto& s : servers_) urls.push_back(s.c_str());
    natsStatus s = natsOptions_SetServers(o, urls.data(), static_cast<int>(urls.size()));
    if (s == NATS_OK) s = natsOptions_SetName(o, ("stash53 " + name()).c_str());
    if (s == NATS_OK) s = natsOptions_SetTimeout(o, connect_timeout_ms_);
    if (s == NATS_OK) s = natsOptions_SetMaxReconnect(o, -1);  // for ever: the cluster comes back
    if (s == NATS_OK) s = natsOptions_SetReconnectWait(o, 250);
    if (s == NATS_OK) s = natsOptions_SetReconnectBufSize(o, reconnect_buffer_mb_ << 20);
    if (s == NATS_OK) s = natsOptions_SetDisconnectedCB(o, &NatsEmitter::on_disconnected, this);
    if (s == NATS_OK) s = natsOptions_SetReconnectedCB(o, &NatsEmitter::on_reconnected, this);
    if (s == NATS_OK && !user_.empty()) s = natsOptions_SetUserInfo(o, user_.c_str(), password_.c_str());
    if (s == NATS_OK && !token_.empty()) s = natsOptions_SetToken(o, token_.c_str());
    if (s == NATS_OK && !creds_.empty())
      s = natsOptions_SetUserCredentialsFromFiles(o, creds_.c_str(), nullptr);
    if (s == NATS_OK && !nkey_.empty())
      s = natsOptions_SetNKeyFromSeed(o, nkey_.c_str(), nkey_seed_.c_str());
    if (s == NATS_OK && tls_) s = natsOptions_SetSecure(o, true);
    if (s == NATS_OK && !tls_ca_.empty()) s = natsOptions_LoadCATrustedCertificates(o, tls_ca_.c_str());
    if (s == NATS_OK && !tls_cert_.empty())
      s = natsOptions_LoadCertificatesChain(o, tls_cert_.c_str(), tls_key_.c_str());
    if (s == NATS_OK && tls_ && !tls_verify_) s = natsOptions_SkipServerVerification(o, true);
    if (s != NATS_OK) return failed(s, "Cannot set up the NATS connection");

    natsConnection* nc = nullptr;
    closing_.store(false);
    s = natsConnection_Connect(&nc, o);
    conn_.reset(nc);
    if (s != NATS_OK) return failed(s, "Cannot connect to NATS at " + destination());
    if (stream_.empty()) return true;

    jsOptions jo;
    jsOptions_Init(&jo);
    jo.Wait = ack_timeout_ms_;
    jo.PublishAsync.MaxPending = max_pending_acks_;
    jo.PublishAsync.AckHandler = &NatsEmitter::on_ack;
    jo.PublishAsync.AckHandlerClosure = this;
    jsCtx* js = nullptr;
    s = natsConnection_JetStream(&js, nc, &jo);
    js_.reset(js);
    if (s != NATS_OK) return failed(s, "Cannot use JetStream");
    return find_stream();
  }

  /// The stream must exist before the first event (or be created, with create_stream): a
  /// publish to a subject no stream takes would wait for its acknowledgement for nothing.
  bool find_stream() {
    jsStreamInfo* info = nullptr;
    jsErrCode code{};
    natsStatus s = js_GetStreamInfo(&info, js_.get(), stream_.c_str(), nullptr, &code);
    if (s == NATS_OK) {
      jsStreamInfo_Destroy(info);
      return true;
    }
    if (s != NATS_NOT_FOUND || !create_stream_)
      return failed(s, s == NATS_NOT_FOUND ? "No JetStream stream '" + stream_ +
                                                 "' (create it, or set create_stream)"
                                           : "Cannot look up the stream '" + stream_ + "'");
    jsStreamConfig cfg;
    jsStreamConfig_Init(&cfg);
    cfg.Name = stream_.c_str();
    std::vector<const char*> subjects;
    for (const auto& sub : stream_subjects_) subjects.push_back(sub.c_str());
    cfg.Subjects = subjects.data();
    cfg.SubjectsLen = static_cast<int>(subjects.size());
    cfg.Replicas = stream_replicas_;
    cfg.Storage = js_FileStorage;
    cfg.MaxAge = stream_max_age_s_ * 1'000'000'000;
    cfg.MaxBytes = stream_max_bytes_;
    if (stream_duplicate_window_s_ > 0) cfg.Duplicates = stream_duplicate_window_s_ * 1'000'000'000;
    s = js_AddStream(&info, js_.get(), &cfg, nullptr, &code);
    if (s != NATS_OK) return failed(s, "Cannot create the stream '" + stream_ + "'");
    jsStreamInfo_Destroy(info);
    log::info(component(), "Created the JetStream stream {} (subjects {}, {} replicas).", stream_,
              stream_subjects_[0], stream_replicas_);
    return true;
  }

  SendResult send(std::span<const QueuedEvent> batch) override {
    // A batch sent again after a Retry is the same batch in the same order: its messages get
    // the same ids, and the stream drops those it already has.
    if (!resending_) {
      batch_first_ = events_taken_;
      events_taken_ += batch.size();
    }
    resending_ = true;  // until this batch is done
    order_by_topic(batch, events_per_message_ > 1, order_);
    for (std::size_t i = 0; i < order_.size();) {
      const QueuedEvent& first = batch[order_[i]];
      const std::size_t n = topic_run(batch, order_, i, events_per_message_);
      std::string_view payload = first.json;
      if (events_per_message_ > 1) {
        pack_.clear();
        append_ndjson(batch, std::span<const std::uint32_t>(order_).subspan(i, n), pack_);
        payload = pack_;
      }
      subject_.assign(first.topic);
      if (!publish(payload, batch_first_ + i)) return SendResult::Retry;
      i += n;
    }
    const SendResult r = stream_.empty() ? flush(batch.size()) : settle();
    resending_ = r == SendResult::Retry;
    return r;
  }

  /// Publishes one message; `event` numbers its first event among all this emitter took.
  bool publish(std::string_view payload, std::uint64_t event) {
    if (stream_.empty()) {
      const natsStatus s = natsConnection_Publish(conn_.get(), subject_.c_str(), payload.data(),
                                                  static_cast<int>(payload.size()));
      if (s == NATS_OK) return true;
      return lost(s, "publish");
    }
    natsMsg* msg = nullptr;
    if (natsMsg_Create(&msg, subject_.c_str(), nullptr, payload.data(), static_cast<int>(payload.size())) != NATS_OK)
      throw std::bad_alloc();
    msg_id_ = msg_id_prefix_ + "-" + std::to_string(event + 1);
    jsPubOptions po;
    jsPubOptions_Init(&po);
    po.MsgId = msg_id_.c_str();  // set as the message's header: a resend carries it
    po.ExpectStream = stream_.c_str();
    return publish_async(msg, &po);
  }

  /// Publishes `msg` (taking it), waiting while max_pending_acks are in flight.
  bool publish_async(natsMsg* msg, jsPubOptions* po) {
    for (;;) {
      pending_.fetch_add(1);
      published_on_js_ = true;
      const natsStatus s = js_PublishMsgAsync(js_.get(), &msg, po);
      if (s == NATS_OK) return true;
      pending_.fetch_sub(1);
      // Stalled at max_pending_acks (the library waited its StallWait), or the reconnect
      // buffer is full: the acknowledgements make room.
      if ((s == NATS_TIMEOUT || s == NATS_INSUFFICIENT_BUFFER) && !shutdown_overdue()) {
        std::this_thread::sleep_for(10ms);
        continue;
      }
      natsMsg_Destroy(msg);  // the batch goes again after reconnecting, this one with it
      return lost(s, "JetStream publish");
    }
  }

  /// Core NATS: the batch is out once the server answered a PING after it.
  SendResult flush(std::size_t events) {
    for (;;) {
      const natsStatus s = natsConnection_FlushTimeout(conn_.get(), ack_timeout_ms_);
      if (s == NATS_OK) return SendResult::Ok;
      // Reconnecting: the library holds the batch in its buffer and sends it once back.
      if (shutdown_overdue()) {
        count_dropped(events);
        return SendResult::Ok;
      }
      if (natsConnection_Status(conn_.get()) == NATS_CONN_STATUS_CLOSED) {
        lost(s, "flush");
        return SendResult::Retry;
      }
      std::this_thread::sleep_for(50ms);
    }
  }

  /// JetStream: waits until every message of the batch is acknowledged, publishing again what
  /// the stream refused, and what stayed unanswered for ack_timeout_ms while no other
  /// acknowledgement came either (its server went away). At shutdown, what is still
  /// unacknowledged when the drain time is over is counted as lost.
  SendResult settle() {
    auto pause = 100ms;
    auto quiet_since = std::chrono::steady_clock::now();
    std::int64_t last_pending = pending_.load();
    for (;;) {
      jsPubOptions po;
      jsPubOptions_Init(&po);
      po.MaxWait = 100;
      const natsStatus complete = js_PublishAsyncComplete(js_.get(), &po);
      std::vector<natsMsg*> again;
      {
        std::lock_guard lock(failed_mutex_);
        again.swap(failed_);
      }
      count_dropped(refused_events_.exchange(0));
      if (complete == NATS_OK && again.empty()) break;
      const auto now = std::chrono::steady_clock::now();
      if (const std::int64_t p = pending_.load(); p < last_pending) {
        last_pending = p;
        quiet_since = now;
      }
      const bool overdue = shutdown_overdue();
      if (complete != NATS_OK && (overdue || now - quiet_since >= std::chrono::milliseconds(ack_timeout_ms_))) {
        take_pending(again);
        quiet_since = now;
      }
      if (overdue) {
        std::size_t lost_events = 0;
        for (natsMsg* m : again) lost_events += events_in(m), natsMsg_Destroy(m);
        count_dropped(lost_events);
        break;
      }
      if (again.empty()) continue;
      // Refused for the moment (no stream leader while the cluster elects one, a server
      // gone): give the cluster a moment, longer each round, then the same messages with the
      // same ids (their header).
      std::this_thread::sleep_for(pause);
      pause = std::min<std::chrono::milliseconds>(pause * 2, 1s);
      for (natsMsg* m : again) {
        resends_.add();
        if (!publish_async(m, nullptr)) return SendResult::Retry;
      }
      last_pending = pending_.load();
    }
    return SendResult::Ok;
  }

  /// Takes back the messages still awaiting their acknowledgement (libnats then ignores any
  /// that arrives for them).
  void take_pending(std::vector<natsMsg*>& into) {
    natsMsgList left{};
    if (!published_on_js_ || js_PublishAsyncGetPendingList(&left, js_.get()) != NATS_OK) return;
    for (int i = 0; i < left.Count; ++i) {
      into.push_back(left.Msgs[i]);
      left.Msgs[i] = nullptr;
      pending_.fetch_sub(1);
    }
    natsMsgList_Destroy(&left);
  }

  /// libnats's thread, per acknowledgement or failure.
  static void on_ack(jsCtx*, natsMsg* msg, jsPubAck* ack, jsPubAckErr* err, void* closure) {
    auto* self = static_cast<NatsEmitter*>(closure);
    self->pending_.fetch_sub(1);
    if (ack != nullptr || err == nullptr) {
      natsMsg_Destroy(msg);
      return;
    }
    // A JetStream error reply (ErrCode: the stream is full, or not the one expected) stays so:
    // counted as refused. No responders (no leader yet) or a timeout passes: published again.
    if (err->ErrCode != 0) {
      if (self->refusals_.allow())
        log::error(self->component(), "JetStream refused a message: {} (error {}); counted as "
                   "dropped ({} more refusals).", err->ErrText != nullptr ? err->ErrText : "",
                   static_cast<int>(err->ErrCode), self->refusals_.suppressed());
      self->refused_events_.fetch_add(self->events_in(msg));
      natsMsg_Destroy(msg);
      return;
    }
    if (self->refusals_.allow())
      log::warn(self->component(), "JetStream did not take a message ({}: {}); publishing it again "
                "({} more).", natsStatus_GetText(err->Err), err->ErrText != nullptr ? err->ErrText : "",
                self->refusals_.suppressed());
    std::lock_guard lock(self->failed_mutex_);
    self->failed_.push_back(msg);  // ours now: resent, or destroyed, by the emitter's thread
  }

  static void on_disconnected(natsConnection*, void* closure) {
    auto* self = static_cast<NatsEmitter*>(closure);
    self->link_changed(false, false);
    if (!self->closing_.load())
      log::warn(self->component(), "Lost the NATS server; reconnecting (events are buffered meanwhile).");
  }
  static void on_reconnected(natsConnection* nc, void* closure) {
    auto* self = static_cast<NatsEmitter*>(closure);
    char url[256] = {};
    natsConnection_GetConnectedUrl(nc, url, sizeof url);
    self->link_changed(true, true);
    log::info(self->component(), "Reconnected to NATS at {}.", url);
  }

  /// The events one message holds (NDJSON lines when packed).
  std::size_t events_in(natsMsg* m) const {
    if (events_per_message_ == 1) return 1;
    const std::string_view d(natsMsg_GetData(m), static_cast<std::size_t>(natsMsg_GetDataLength(m)));
    return static_cast<std::size_t>(std::count(d.begin(), d.end(), '\n'));
  }

  bool lost(natsStatus s, const char* what) {
    if (errors_.allow())
      log::warn(component(), "NATS {} failed: {} ({}); retrying ({} more failures).", what,
                natsStatus_GetText(s), nats_GetLastError(nullptr), errors_.suppressed());
    return false;
  }

  void disconnect() noexcept override {
    // Unacknowledged messages die with the context; the base class sends their batch again.
    if (js_) {
      std::vector<natsMsg*> left;
      take_pending(left);
      for (natsMsg* m : left) natsMsg_Destroy(m);
    }
    {
      std::lock_guard lock(failed_mutex_);
      for (natsMsg* m : failed_) natsMsg_Destroy(m);
      failed_.clear();
    }
    pending_.store(0);
    js_.reset();
    published_on_js_ = false;
    closing_.store(true);  // our own close: no warning (the callback comes after it, if at all)
    if (conn_) natsConnection_Close(conn_.get());
    conn_.reset();
  }

  std::vector<std::string> servers_, stream_subjects_;
  std::string user_, password_, token_, creds_, nkey_, nkey_seed_;
  std::string tls_ca_, tls_cert_, tls_key_;
  bool tls_ = false, tls_verify_ = true, create_stream_ = false;
  std::string stream_, msg_id_prefix_;
  std::size_t events_per_message_ = 1;
  int connect_timeout_ms_ = 5000, ack_timeout_ms_ = 5000, reconnect_buffer_mb_ = 32;
  long long max_pending_acks_ = 4096;
  int stream_replicas_ = 1;
  long long stream_max_age_s_ = 0, stream_max_bytes_ = -1, stream_duplicate_window_s_ = 0;

  std::unique_ptr<natsConnection, ConnectionFree> conn_;
  std::unique_ptr<jsCtx, JsFree> js_;
  std::vector<std::uint32_t> order_;
  std::string pack_, subject_, msg_id_;
  std::uint64_t events_taken_ = 0, batch_first_ = 0;  // events taken in batches; the batch's first
  bool resending_ = false;           // the batch being sent was begun before
  std::atomic<std::size_t> refused_events_{0};  // from on_ack, counted by the emitter's thread
  std::atomic<std::int64_t> pending_{0};  // messages awaiting their acknowledgement
  std::atomic<bool> closing_{false};
  // js_ has had an asynchronous publish: libnats 3.4 crashes asking a context that never
  // published for its pending list.
  bool published_on_js_ = false;
  Counter resends_;
  std::mutex failed_mutex_;
  std::vector<natsMsg*> failed_;  // refused or timed out, from on_ack: to publish again
  log::RateLimit errors_, refusals_;
};

}  // namespace
STASH53_REGISTER_EMITTER("nats", NatsEmitter);
}  // namespace stash53::emitters
