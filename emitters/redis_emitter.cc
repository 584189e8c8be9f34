// redis: events RPUSHed (or LPUSHed) to lists, as Logstash's redis input reads them, or
// PUBLISHed to channels. hiredis, synchronous, on the emitter's own thread; each batch is one
// pipeline and every reply is checked.
#include <hiredis/hiredis.h>
#include <sys/time.h>

#include <charconv>
#include <memory>
#include <string_view>
#include <vector>

#include "common/log.h"
#include "emitters/queued_emitter.h"
#include "emitters/url.h"

namespace stash53::emitters {
namespace {

timeval to_timeval(int ms) { return timeval{ms / 1000, (ms % 1000) * 1000}; }

struct ReplyFree {
  void operator()(redisReply* r) const noexcept { freeReplyObject(r); }
};
using Reply = std::unique_ptr<redisReply, ReplyFree>;

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
    trim_stop_ = std::to_string(-max_length_);  // LTRIM key -max_length -1: the newest
    where_ = unix_socket_.empty() ? host_ + ":" + std::to_string(port_) : unix_socket_;
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
    o.show("url", config::redact_url(text));
    const Url u = parse_url(text, o, "url");
    if (u.scheme != "redis") o.fail("url", "expected a redis:// URL, got '" + config::redact_url(text) + "'");
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

  std::string destination() const override {
    return where_ + (db_ != 0 ? " db " + std::to_string(db_) : "") + ", " + data_type_ + " " +
           topic_text();
  }

  bool connect() override {
    ctx_.reset(unix_socket_.empty()
                   ? redisConnectWithTimeout(host_.c_str(), port_, to_timeval(connect_timeout_ms_))
                   : redisConnectUnixWithTimeout(unix_socket_.c_str(),
                                                 to_timeval(connect_timeout_ms_)));
    if (!ctx_ || ctx_->err) {
      if (errors_.allow())
        log::warn(component(), "Cannot connect to Redis at {}: {}; retrying ({} more failures).",
                  where_, ctx_ ? ctx_->errstr : "out of memory", errors_.suppressed());
      ctx_.reset();
      return false;
    }
    redisSetTimeout(ctx_.get(), to_timeval(io_timeout_ms_));
    if (unix_socket_.empty()) redisEnableKeepAlive(ctx_.get());
    if (!password_.empty()) {
      std::vector<const char*> argv{"AUTH"};
      if (!username_.empty()) argv.push_back(username_.c_str());
      argv.push_back(password_.c_str());
      if (!command(argv, "AUTH")) return false;
    }
    if (db_ != 0) {
      const std::string db = std::to_string(db_);
      if (!command({"SELECT", db.c_str()}, "SELECT " + db)) return false;
    }
    // A restarted Redis accepts connections while it loads its data, then refuses commands.
    return command({"PING"}, "PING");
  }

  /// Runs one set-up command; false (logged, connection closed) unless Redis said OK.
  bool command(std::vector<const char*> argv, const std::string& what) {
    Reply r(static_cast<redisReply*>(
        redisCommandArgv(ctx_.get(), static_cast<int>(argv.size()), argv.data(), nullptr)));
    if (r && r->type != REDIS_REPLY_ERROR) return true;
    if (errors_.allow()) {
      if (r && std::string_view(r->str).starts_with("LOADING"))
        log::warn(component(), "Redis at {} is loading its data; retrying ({} more failures).",
                  where_, errors_.suppressed());
      else if (r)  // a refused password or database: a configuration problem
        log::error(component(), "Redis at {} refused {}: {}; retrying ({} more failures).", where_,
                   what, r->str, errors_.suppressed());
      else
        log::warn(component(), "Lost Redis at {} during {}: {}; retrying ({} more failures).",
                  where_, what, ctx_->errstr, errors_.suppressed());
    }
    ctx_.reset();
    return false;
  }

  SendResult send(std::span<const QueuedEvent> batch) override {
    // After a Retry the base class hands over the same batch: skip what Redis already answered.
    std::size_t done = 0;
    if (batch.data() == resume_data_ && batch.size() == resume_size_) done = resume_done_;
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
    for (const std::size_t events : cmd_events_) {
      void* raw = nullptr;
      if (redisGetReply(ctx_.get(), &raw) != REDIS_OK) {
        if (errors_.allow())
          log::warn(component(), "Lost Redis at {}: {}; reconnecting ({} more failures).", where_,
                    ctx_->errstr, errors_.suppressed());
        resume_data_ = batch.data();
        resume_size_ = batch.size();
        resume_done_ = done;
        return SendResult::Retry;
      }
      const Reply reply(static_cast<redisReply*>(raw));
      if (reply->type == REDIS_REPLY_ERROR) {
        count_dropped(events);
        if (errors_.allow())
          log::error(component(), "Redis at {} refused {} events: {} ({} more refusals).",
                     where_, events, reply->str, errors_.suppressed());
      }
      done += events;
    }
    return SendResult::Ok;
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

  struct ContextFree {
    void operator()(redisContext* c) const noexcept { redisFree(c); }
  };

  std::string host_ = "127.0.0.1", unix_socket_, username_, password_, data_type_ = "list",
              push_ = "rpush", where_, trim_stop_;
  int port_ = 6379, db_ = 0, connect_timeout_ms_ = 2000, io_timeout_ms_ = 5000;
  long long max_length_ = 0;
  std::unique_ptr<redisContext, ContextFree> ctx_;
  std::vector<const char*> argv_;
  std::vector<std::size_t> argvlen_;
  std::vector<std::size_t> cmd_events_;  // per pipelined command, the events it carries
  const QueuedEvent* resume_data_ = nullptr;
  std::size_t resume_size_ = 0, resume_done_ = 0;
  log::RateLimit errors_;
};

}  // namespace
STASH53_REGISTER_EMITTER("redis", RedisEmitter);
}  // namespace stash53::emitters
