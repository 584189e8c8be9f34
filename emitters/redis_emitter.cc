// redis: events RPUSHed (or LPUSHed) to lists, as Logstash's redis input reads them, or
// PUBLISHed to channels. hiredis, synchronous, on the emitter's own thread; each batch is one
// pipeline and every reply is checked. With `sentinels`, the master is the one Redis Sentinel
// names, asked again on every reconnect.
#include <hiredis/hiredis.h>
#include <sys/time.h>

#include <algorithm>
#include <charconv>
#include <memory>
#include <optional>
#include <string_view>
#include <vector>

#include "common/log.h"
#include "common/metrics.h"
#include "emitters/queued_emitter.h"
#include "emitters/url.h"

namespace stash53::emitters {
namespace {

timeval to_timeval(int ms) { return timeval{ms / 1000, (ms % 1000) * 1000}; }

struct ReplyFree {
  void operator()(redisReply* r) const noexcept { freeReplyObject(r); }
};
using Reply = std::unique_ptr<redisReply, ReplyFree>;

struct ContextFree {
  void operator()(redisContext* c) const noexcept { redisFree(c); }
};
using Context = std::unique_ptr<redisContext, ContextFree>;

using Address = HostPort;

/// Why connecting failed, for one log line; `config` when Redis refused a password, a database
/// or a command: a configuration problem, logged as an error, not a passing outage.
struct Problem {
  std::string why;
  bool config = false;
};

/// The `sentinels` option: host:port entries, each string possibly a comma-separated list.
std::vector<Address> parse_sentinels(const std::vector<std::string>& items,
                                     const config::OptionReader& o) {
  std::vector<Address> out;
  for (const std::string& item : items)
    for (const std::string& entry : split_list(item))
      out.push_back(parse_host_port(entry, o, "sentinels", true));
  return out;
}

class RedisEmitter final : public QueuedEmitter {
 public:
  explicit RedisEmitter(const EmitterSpec& spec)
      : QueuedEmitter(apply_url(spec), "key", "dns:{nsid}") {
    auto& o = *spec.options;
    o.read("host", host_, "a host name or address");
    o.read_range("port", port_, 1, 65535);
    o.read("unix_socket", unix_socket_, "the path of Redis's unix socket");
    o.read("username", username_, "an ACL user name");
    o.read_secret("password", password_, "a password");
    o.read_range("db", db_, 0, 1'000'000);
    // Named as Logstash's redis input names it (`data_type => "list"`).
    o.read("data_type", data_type_, "list or channel");
    if (data_type_ != "list" && data_type_ != "channel")
      o.fail("data_type", "expected list or channel, got '" + data_type_ + "'");
    o.read("push", push_, "rpush or lpush");
    if (push_ != "rpush" && push_ != "lpush")
      o.fail("push", "expected rpush or lpush, got '" + push_ + "'");
    o.read_range("max_length", max_length_, 0, 1'000'000'000'000);
    o.read_range("connect_timeout_ms", connect_timeout_ms_, 1, 600'000);
    o.read_range("io_timeout_ms", io_timeout_ms_, 1, 600'000);
    if (!username_.empty() && password_.empty())
      o.fail("username", "an ACL user needs a password");
    read_sentinel_options(o);
    trim_stop_ = std::to_string(-max_length_);  // LTRIM key -max_length -1: the newest
    where_ = !sentinels_.empty()    ? "sentinel master " + master_name_
             : unix_socket_.empty() ? Address{host_, port_}.text()
                                    : unix_socket_;
  }

  void register_metrics(MetricRegistry& r) const override {
    QueuedEmitter::register_metrics(r);
    if (wait_replicas_ > 0)
      r.add({"emitter", name(), "unreplicated", {},
             "events stored on the master that WAIT did not see reach wait_replicas replicas"},
            unreplicated_);
  }

 private:
  /// Gives the `url` option's parts to the options, before the base class reads `key`: the
  /// URL's host, port, user, password and /db, and each query parameter as the option it names.
  static const EmitterSpec& apply_url(const EmitterSpec& spec) {
    auto& o = *spec.options;
    // Many values per RPUSH is where Redis is fast; 256 leaves half the throughput unused.
    if (!o.has("batch_size")) o.set("batch_size", 1024);
    std::string text;
    o.read("url", text, "redis://[[user]:password@]host[:port][/db][?key=...&data_type=list]");
    if (text.empty()) return spec;
    const std::string shown = config::redact_url(text);
    o.show("url", shown);
    const Url u = parse_url(text, o, "url");
    if (u.scheme != "redis") o.fail("url", "expected a redis:// URL, got '" + shown + "'");
    o.set("host", u.host);
    if (u.port != 0) o.set("port", u.port);
    if (u.has_user && !u.has_password)
      o.fail("url", "a user needs a password: redis://user:password@host");
    if (!u.user.empty()) o.set("username", u.user);
    if (u.has_password) o.set("password", u.password);
    if (!u.path.empty()) {
      int db = 0;
      const auto r = std::from_chars(u.path.data(), u.path.data() + u.path.size(), db);
      if (r.ptr != u.path.data() + u.path.size() || db < 0)
        o.fail("url", "the path must be a database number, got '/" + u.path + "'");
      o.set("db", db);
    }
    for (const auto& [k, v] : u.query) o.set(k, v);
    return spec;
  }

  void read_sentinel_options(config::OptionReader& o) {
    std::vector<std::string> sentinels;
    o.read_list("sentinels", sentinels, "host:port entries, comma-separated or a list");
    sentinels_ = parse_sentinels(sentinels, o);
    o.read("master_name", master_name_, "the name the sentinels monitor the master under");
    o.read_secret("sentinel_password", sentinel_password_, "the sentinels' password");
    if (sentinels_.empty()) {
      if (!master_name_.empty()) o.fail("master_name", "needs `sentinels` (host:port,...)");
      if (!sentinel_password_.empty())
        o.fail("sentinel_password", "needs `sentinels` (host:port,...)");
    } else {
      // The URL's host and port are not used then: the sentinels name the master.
      if (master_name_.empty())
        o.fail("master_name", "missing; `sentinels` need the name of the master they monitor "
                              "(`sentinel monitor <name> ...`)");
      if (!unix_socket_.empty())
        o.fail("unix_socket", "cannot be used with `sentinels`: they give the master's address");
    }
    // A published message is not stored, so there is nothing for a replica to keep.
    wait_replicas_ = !sentinels_.empty() && data_type_ == "list" ? 1 : 0;
    o.read_range("wait_replicas", wait_replicas_, 0, 1000);
    o.read_range("wait_timeout_ms", wait_timeout_ms_, 1, 600'000);
    if (wait_replicas_ > 0 && data_type_ == "channel")
      o.fail("wait_replicas", "only applies to data_type list: a published message is not stored");
    if (wait_replicas_ > 0 && wait_timeout_ms_ >= io_timeout_ms_)
      o.fail("wait_timeout_ms", "must be shorter than io_timeout_ms (" +
                                    std::to_string(io_timeout_ms_) +
                                    "), or a WAIT that times out looks like a lost connection");
    wait_replicas_text_ = std::to_string(wait_replicas_);
    wait_timeout_text_ = std::to_string(wait_timeout_ms_);
  }

  std::string destination() const override {
    // where_ follows the master on the emitter's thread; this is read by others.
    return (sentinels_.empty() ? where_ : "sentinel master " + master_name_) +
           (db_ != 0 ? " db " + std::to_string(db_) : "") + ", " + data_type_ + " " + topic_text();
  }

  bool connect() override {
    replicas_short_ = false;  // a new master, or a restarted one: find out with the next WAIT
    if (!sentinels_.empty()) return connect_via_sentinels();
    const auto p = open(host_, port_);
    if (p && errors_.allow()) {
      if (p->config)
        log::error(component(), "{}; retrying ({} more failures).", p->why, errors_.suppressed());
      else
        log::warn(component(), "{}; retrying ({} more failures).", p->why, errors_.suppressed());
    }
    return !p;
  }

  /// Asks each sentinel in turn, from the one that answered last, for the master's address and
  /// connects there. No +switch-master subscription: a failover shows as a lost connection (a
  /// dead master) or a READONLY reply (a demoted one), and both come back here.
  bool connect_via_sentinels() {
    std::string why;
    bool config = false;
    for (std::size_t k = 0; k < sentinels_.size(); ++k) {
      const std::size_t i = (first_sentinel_ + k) % sentinels_.size();
      const Address& sentinel = sentinels_[i];
      Problem p;
      if (const auto master = ask_sentinel(sentinel, p)) {
        where_ = master->text();
        if (const auto q = open(master->host, master->port))
          p = *q;
        else {
          first_sentinel_ = i;
          log::info(component(), "Connected to Redis master {} via sentinel {} (master name {}).",
                    where_, sentinel.text(), master_name_);
          return true;
        }
      }
      why += (why.empty() ? "" : "; ") + sentinel.text() + ": " + p.why;
      config = config || p.config;
    }
    if (errors_.allow()) {
      if (config)
        log::error(component(),
                   "No sentinel led to Redis master {}: {}; retrying ({} more failures).",
                   master_name_, why, errors_.suppressed());
      else
        log::warn(component(),
                  "No sentinel led to Redis master {}: {}; retrying ({} more failures).",
                  master_name_, why, errors_.suppressed());
    }
    return false;
  }

  /// The master's address by `sentinel`, or nothing with `p` saying why.
  std::optional<Address> ask_sentinel(const Address& sentinel, Problem& p) {
    // Short: a dead sentinel must not hold up asking the next one.
    const timeval tv = to_timeval(std::min(connect_timeout_ms_, kSentinelTimeoutMs));
    const Context c(redisConnectWithTimeout(sentinel.host.c_str(), sentinel.port, tv));
    if (!c || c->err) {
      p.why = "cannot connect: " + std::string(c ? c->errstr : "out of memory");
      return {};
    }
    redisSetTimeout(c.get(), tv);
    auto run = [&](std::vector<const char*> argv) {
      return Reply(static_cast<redisReply*>(
          redisCommandArgv(c.get(), static_cast<int>(argv.size()), argv.data(), nullptr)));
    };
    if (!sentinel_password_.empty()) {
      const Reply r = run({"AUTH", sentinel_password_.c_str()});
      if (!r || r->type == REDIS_REPLY_ERROR) {
        p = {r ? "refused AUTH: " + std::string(r->str)
               : "lost during AUTH: " + std::string(c->errstr),
             r != nullptr};
        return {};
      }
    }
    const Reply r = run({"SENTINEL", "get-master-addr-by-name", master_name_.c_str()});
    if (!r) {
      p.why = "lost during SENTINEL get-master-addr-by-name: " + std::string(c->errstr);
      return {};
    }
    if (r->type == REDIS_REPLY_ERROR) {
      p = {"refused SENTINEL get-master-addr-by-name: " + std::string(r->str), true};
      return {};
    }
    if (r->type != REDIS_REPLY_ARRAY || r->elements != 2 ||
        r->element[0]->type != REDIS_REPLY_STRING || r->element[1]->type != REDIS_REPLY_STRING) {
      p = {"does not monitor a master named '" + master_name_ + "'", true};
      return {};
    }
    Address a{r->element[0]->str, 0};
    const std::string_view port(r->element[1]->str, r->element[1]->len);
    const auto res = std::from_chars(port.data(), port.data() + port.size(), a.port);
    if (res.ptr != port.data() + port.size() || a.port < 1 || a.port > 65535) {
      p.why = "gave a bad port '" + std::string(port) + "'";
      return {};
    }
    return a;
  }

  /// Connects to host:port (or unix_socket_) as where_, with AUTH, SELECT and, after a
  /// sentinel's answer, a ROLE check; nothing when ready, else why (the connection closed).
  std::optional<Problem> open(const std::string& host, int port) {
    ctx_.reset(unix_socket_.empty()
                   ? redisConnectWithTimeout(host.c_str(), port, to_timeval(connect_timeout_ms_))
                   : redisConnectUnixWithTimeout(unix_socket_.c_str(),
                                                 to_timeval(connect_timeout_ms_)));
    if (!ctx_ || ctx_->err) {
      Problem p{"Cannot connect to Redis at " + where_ + ": " +
                (ctx_ ? ctx_->errstr : "out of memory")};
      ctx_.reset();
      return p;
    }
    redisSetTimeout(ctx_.get(), to_timeval(io_timeout_ms_));
    if (unix_socket_.empty()) redisEnableKeepAlive(ctx_.get());
    if (!password_.empty()) {
      std::vector<const char*> argv{"AUTH"};
      if (!username_.empty()) argv.push_back(username_.c_str());
      argv.push_back(password_.c_str());
      if (auto p = command(argv, "AUTH")) return p;
    }
    if (db_ != 0) {
      const std::string db = std::to_string(db_);
      if (auto p = command({"SELECT", db.c_str()}, "SELECT " + db)) return p;
    }
    // A sentinel's view can be stale: the address may be a demoted master, now a replica.
    if (!sentinels_.empty()) {
      Reply r;
      if (auto p = command({"ROLE"}, "ROLE", &r)) return p;
      const bool master = r->type == REDIS_REPLY_ARRAY && r->elements > 0 &&
                          r->element[0]->type == REDIS_REPLY_STRING &&
                          std::string_view(r->element[0]->str) == "master";
      if (!master) {
        ctx_.reset();
        return Problem{"Redis at " + where_ + " is not a master (a sentinel's stale view)"};
      }
    }
    // A restarted Redis accepts connections while it loads its data, then refuses commands.
    return command({"PING"}, "PING");
  }

  /// Runs one set-up command; nothing when Redis did not refuse it (its reply in `*out` if
  /// given), else why (the connection closed).
  std::optional<Problem> command(std::vector<const char*> argv, const std::string& what,
                                 Reply* out = nullptr) {
    Reply r(static_cast<redisReply*>(
        redisCommandArgv(ctx_.get(), static_cast<int>(argv.size()), argv.data(), nullptr)));
    if (r && r->type != REDIS_REPLY_ERROR) {
      if (out) *out = std::move(r);
      return {};
    }
    Problem p;
    if (r && std::string_view(r->str).starts_with("LOADING"))
      p.why = "Redis at " + where_ + " is loading its data";
    else if (r)  // a refused password or database: a configuration problem
      p = {"Redis at " + where_ + " refused " + what + ": " + r->str, true};
    else
      p.why = "Lost Redis at " + where_ + " during " + what + ": " + ctx_->errstr;
    ctx_.reset();
    return p;
  }

  SendResult send(std::span<const QueuedEvent> batch) override {
    // After a Retry the base class hands over the same batch: skip what Redis already answered.
    std::size_t done = 0, refused = 0;
    if (batch.data() == resume_data_ && batch.size() == resume_size_) {
      done = resume_done_;
      refused = resume_refused_;
    }
    resume_data_ = nullptr;
    cmd_events_.clear();
    if (data_type_ == "channel") {
      for (std::size_t i = done; i < batch.size(); ++i) {
        append({"PUBLISH", batch[i].topic.data(), batch[i].json.data()},
               {7, batch[i].topic.size(), batch[i].json.size()}, 1);
      }
    } else {
      // One push per run of events with the same key, many values each.
      for (std::size_t i = done; i < batch.size();) {
        const std::string_view key = batch[i].topic;
        argv_.assign({push_.data(), key.data()});
        argvlen_.assign({push_.size(), key.size()});
        std::size_t j = i;
        for (; j < batch.size() && batch[j].topic == key; ++j) {
          argv_.push_back(batch[j].json.data());
          argvlen_.push_back(batch[j].json.size());
        }
        append_argv(j - i);
        // Keeps the newest max_length events, so a stopped consumer cannot fill Redis.
        if (max_length_ > 0)
          append({"LTRIM", key.data(), trim_stop_.data(), "-1"},
                 {5, key.size(), trim_stop_.size(), 2}, 0);
        i = j;
      }
    }
    // Replication is asynchronous: what a master stored dies with it unless a replica has it.
    // With too few replicas, WAIT would hold every batch for its timeout; ROLE, which lists the
    // replicas online, tells when to wait again instead.
    if (wait_replicas_ > 0 && replicas_short_)
      append({"ROLE"}, {4}, 0);
    else if (wait_replicas_ > 0)
      append({"WAIT", wait_replicas_text_.data(), wait_timeout_text_.data()},
             {4, wait_replicas_text_.size(), wait_timeout_text_.size()}, 0);
    for (std::size_t c = 0; c < cmd_events_.size(); ++c) {
      const std::size_t events = cmd_events_[c];
      void* raw = nullptr;
      if (redisGetReply(ctx_.get(), &raw) != REDIS_OK) {
        if (errors_.allow())
          log::warn(component(), "Lost Redis at {}: {}; reconnecting ({} more failures).", where_,
                    ctx_->errstr, errors_.suppressed());
        return retry(batch, done, refused);
      }
      const Reply reply(static_cast<redisReply*>(raw));
      if (wait_replicas_ > 0 && c + 1 == cmd_events_.size()) {
        check_replicas(*reply, batch.size() - refused);
        break;
      }
      if (reply->type == REDIS_REPLY_ERROR) {
        if (std::string_view(reply->str).starts_with("READONLY")) {
          // A demoted master (a failover, or the old master back as a replica): find the new one.
          if (errors_.allow())
            log::warn(component(), "Redis at {} is no longer the master ({}); reconnecting "
                      "({} more failures).", where_, reply->str, errors_.suppressed());
          return retry(batch, done, refused);
        }
        refused += events;
        if (errors_.allow())
          log::error(component(), "Redis at {} refused {} events: {} ({} more refusals).",
                     where_, events, reply->str, errors_.suppressed());
      }
      done += events;
    }
    if (refused > 0) count_dropped(refused);
    return SendResult::Ok;
  }

  /// Remembers where to resume the batch after reconnecting.
  SendResult retry(std::span<const QueuedEvent> batch, std::size_t done, std::size_t refused) {
    resume_data_ = batch.data();
    resume_size_ = batch.size();
    // Without a WAIT reply, what the lost master answered may be on no replica: resend it all.
    resume_done_ = wait_replicas_ > 0 ? 0 : done;
    resume_refused_ = wait_replicas_ > 0 ? 0 : refused;
    return SendResult::Retry;
  }

  /// The WAIT (or ROLE) reply for `stored` events: fewer replicas than asked leaves them on the
  /// master only, delivered but counted as unreplicated.
  void check_replicas(const redisReply& reply, std::size_t stored) {
    if (replicas_short_) {
      unreplicated_.add(stored);
      const bool role = reply.type == REDIS_REPLY_ARRAY && reply.elements == 3 &&
                        reply.element[2]->type == REDIS_REPLY_ARRAY;
      if (role && reply.element[2]->elements >= static_cast<std::size_t>(wait_replicas_)) {
        replicas_short_ = false;
        log::info(component(), "Redis at {} has {} replicas online again; waiting for {}.",
                  where_, reply.element[2]->elements, wait_replicas_);
      }
      return;
    }
    if (reply.type == REDIS_REPLY_INTEGER && reply.integer >= wait_replicas_) return;
    unreplicated_.add(stored);
    replicas_short_ = true;
    if (unreplicated_log_.allow())
      log::warn(component(), "Redis at {}: {} events reached {} of {} replicas within {} ms; "
                "they and the next ones are on the master only until enough replicas are online "
                "({} more warnings).", where_, stored,
                reply.type == REDIS_REPLY_INTEGER ? std::to_string(reply.integer)
                : reply.type == REDIS_REPLY_ERROR ? "none (" + std::string(reply.str) + ")"
                                                  : std::string("none (a reply not a number)"),
                wait_replicas_, wait_timeout_ms_, unreplicated_log_.suppressed());
  }

  void append(std::initializer_list<const char*> argv, std::initializer_list<std::size_t> len,
              std::size_t events) {
    argv_.assign(argv);
    argvlen_.assign(len);
    append_argv(events);
  }
  void append_argv(std::size_t events) {
    // Only fails out of memory; the connection is then as good as lost.
    if (redisAppendCommandArgv(ctx_.get(), static_cast<int>(argv_.size()), argv_.data(),
                               argvlen_.data()) != REDIS_OK)
      throw std::bad_alloc();
    cmd_events_.push_back(events);
  }

  void disconnect() noexcept override { ctx_.reset(); }

  static constexpr int kSentinelTimeoutMs = 500;

  std::string host_ = "127.0.0.1", unix_socket_, username_, password_, data_type_ = "list",
              push_ = "rpush", where_, trim_stop_;
  int port_ = 6379, db_ = 0, connect_timeout_ms_ = 2000, io_timeout_ms_ = 5000;
  long long max_length_ = 0;
  std::vector<Address> sentinels_;
  std::string master_name_, sentinel_password_, wait_replicas_text_, wait_timeout_text_;
  int wait_replicas_ = 0, wait_timeout_ms_ = 1000;
  std::size_t first_sentinel_ = 0;  // the one that answered last
  bool replicas_short_ = false;     // the last WAIT saw too few replicas: ROLE until enough
  Counter unreplicated_;
  log::RateLimit unreplicated_log_;
  Context ctx_;
  std::vector<const char*> argv_;
  std::vector<std::size_t> argvlen_;
  std::vector<std::size_t> cmd_events_;  // per pipelined command, the events it carries
  const QueuedEvent* resume_data_ = nullptr;
  std::size_t resume_size_ = 0, resume_done_ = 0, resume_refused_ = 0;
  log::RateLimit errors_;
};

}  // namespace
STASH53_REGISTER_EMITTER("redis", RedisEmitter);
}  // namespace stash53::emitters
