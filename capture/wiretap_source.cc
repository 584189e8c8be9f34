#include "capture/wiretap_source.h"

#include <dlfcn.h>
#include <pcap/pcap.h>
// Headers only, for wiretap's types and constants: nothing of wiretap, wsutil or glib is linked.
#include <wiretap/wtap.h>
#include <wsutil/buffer.h>
#include <wsutil/wslog.h>

#include <atomic>
#include <cstdint>
#include <map>
#include <mutex>
#include <stdexcept>

namespace stash53::capture {
namespace {

// Why dlopen: libwiretap needs libwsutil, which exports its own crypto_scalarmult_curve25519
// (and _base). Linked into stash53, those sat in the global symbol scope ahead of libsodium's,
// and libzmq's CURVE called them (commit de42bde). Loaded with RTLD_LOCAL, libwiretap and its
// dependencies are seen only through the handle below, never by another library's lookups.
// The soname is the one the headers we compile against (Wireshark 4.0) describe.
constexpr const char* kLibrary = "libwiretap.so.13";

// The functions used, resolved with dlsym (the handle covers libwiretap's dependencies too).
struct Wiretap {
  decltype(&::ws_log_init) log_init;
  decltype(&::ws_log_set_level) log_set_level;
  decltype(&::wtap_init) init;
  decltype(&::wtap_open_offline) open_offline;
  decltype(&::wtap_read) read;
  decltype(&::wtap_close) close;
  decltype(&::wtap_rec_init) rec_init;
  decltype(&::wtap_rec_reset) rec_reset;
  decltype(&::wtap_rec_cleanup) rec_cleanup;
  decltype(&::wtap_strerror) strerror;
  decltype(&::ws_buffer_init) buffer_init;
  decltype(&::ws_buffer_free) buffer_free;
  decltype(&::g_free) free;
};

/// The loaded library (never unloaded), or null with `why_not` set; loads it once.
const Wiretap* wiretap(std::string& why_not) {
  static Wiretap w{};
  static std::string failure;
  static std::once_flag once;
  std::call_once(once, [] {
    void* h = ::dlopen(kLibrary, RTLD_NOW | RTLD_LOCAL);
    if (h == nullptr) {
      failure = std::string("not loaded (") + ::dlerror() + ")";
      return;
    }
    auto get = [&]<typename F>(F& f, const char* name) {
      f = reinterpret_cast<F>(::dlsym(h, name));
      if (f == nullptr && failure.empty())
        failure = std::string("not loaded (") + kLibrary + " has no " + name + ")";
    };
    get(w.log_init, "ws_log_init");
    get(w.log_set_level, "ws_log_set_level");
    get(w.init, "wtap_init");
    get(w.open_offline, "wtap_open_offline");
    get(w.read, "wtap_read");
    get(w.close, "wtap_close");
    get(w.rec_init, "wtap_rec_init");
    get(w.rec_reset, "wtap_rec_reset");
    get(w.rec_cleanup, "wtap_rec_cleanup");
    get(w.strerror, "wtap_strerror");
    get(w.buffer_init, "ws_buffer_init");
    get(w.buffer_free, "ws_buffer_free");
    get(w.free, "g_free");
    if (!failure.empty()) return;  // the handle stays open: harmless, and it is local
    w.log_init("stash53", nullptr);  // without it, wiretap logs every record at debug level
    w.log_set_level(LOG_LEVEL_WARNING);
    w.init(FALSE);  // no plugins
  });
  if (!failure.empty()) {
    why_not = failure;
    return nullptr;
  }
  return &w;
}

// wiretap's encapsulation → libpcap's DLT, for the link types the decoder reads. libwiretap 4.0
// does not export its own mapping (wtap_wtap_encap_to_pcap_encap).
int dlt_of(int encap) noexcept {
  switch (encap) {
    case WTAP_ENCAP_ETHERNET: return DLT_EN10MB;
    case WTAP_ENCAP_SLL: return DLT_LINUX_SLL;
    case WTAP_ENCAP_SLL2: return DLT_LINUX_SLL2;
    case WTAP_ENCAP_NULL: return DLT_NULL;
    case WTAP_ENCAP_LOOP: return DLT_LOOP;
    case WTAP_ENCAP_RAW_IP: return DLT_RAW;
    case WTAP_ENCAP_RAW_IP4: return DLT_IPV4;
    case WTAP_ENCAP_RAW_IP6: return DLT_IPV6;
    default: return -1;  // the decoder counts it as not-ip
  }
}

/// wiretap's message for `err`, with its detail (which it allocated) when there is one.
std::string describe(const Wiretap& w, int err, gchar* info) {
  std::string why = w.strerror(err);
  if (info != nullptr) {
    why += std::string(" (") + info + ")";
    w.free(info);
  }
  return why;
}

class WiretapSource final : public Source {
 public:
  WiretapSource(const Wiretap& w, wtap* wth, std::string bpf) : w_(w), wth_(wth), bpf_(std::move(bpf)) {
    w_.rec_init(&rec_);
    w_.buffer_init(&buf_, 65536);
  }
  ~WiretapSource() override {
    w_.close(wth_);
    w_.rec_cleanup(&rec_);
    w_.buffer_free(&buf_);
    for (auto& [dlt, prog] : filters_) pcap_freecode(&prog);
  }
  WiretapSource(const WiretapSource&) = delete;
  WiretapSource& operator=(const WiretapSource&) = delete;

  Next next(Input& in) noexcept override {
    for (;;) {
      if (stopping_.load(std::memory_order_relaxed)) return Next::End;
      w_.rec_reset(&rec_);  // frees the previous record's options block
      int err = 0;
      gchar* info = nullptr;
      gint64 offset = 0;
      if (!w_.read(wth_, &rec_, &buf_, &err, &info, &offset)) {
        if (err == 0) return Next::End;
        error_ = describe(w_, err, info);
        return Next::Error;
      }
      if (rec_.rec_type != REC_TYPE_PACKET) continue;  // events, statistics, secrets
      const auto& h = rec_.rec_header.packet_header;
      Packet& out = in.packet;
      out.dlt = dlt_of(h.pkt_encap);  // this record's interface's link type
      out.ts_ns = static_cast<std::int64_t>(rec_.ts.secs) * 1'000'000'000 + rec_.ts.nsecs;
      out.bytes = {buf_.data + buf_.start, h.caplen};
      out.wire_len = h.len;
      if (!bpf_.empty() && !passes(out)) {
        if (!error_.empty()) return Next::Error;
        continue;
      }
      ++received_;
      return Next::Packet;
    }
  }
  void stop() noexcept override { stopping_.store(true, std::memory_order_relaxed); }
  [[nodiscard]] SourceStats stats() const noexcept override { return {received_, 0, 0}; }
  [[nodiscard]] std::string error() const override { return error_; }
  [[nodiscard]] bool is_offline() const noexcept override { return true; }
  [[nodiscard]] bool packets_only() const noexcept override { return true; }

 private:
  // The capture filter, compiled once per link type met (libpcap compiles per link type).
  bool passes(const Packet& p) noexcept {
    auto it = filters_.find(p.dlt);
    if (it == filters_.end()) {
      std::unique_ptr<pcap_t, decltype(&pcap_close)> dead(pcap_open_dead(p.dlt, 262144), &pcap_close);
      bpf_program prog{};
      if (!dead || pcap_compile(dead.get(), &prog, bpf_.c_str(), 1, PCAP_NETMASK_UNKNOWN) < 0) {
        error_ = "filter '" + bpf_ + "' does not compile for link type " +
                 (pcap_datalink_val_to_name(p.dlt) ? pcap_datalink_val_to_name(p.dlt) : std::to_string(p.dlt)) +
                 (dead ? ": " + std::string(pcap_geterr(dead.get())) : "");
        return false;
      }
      it = filters_.emplace(p.dlt, prog).first;
    }
    pcap_pkthdr hdr{};
    hdr.caplen = static_cast<bpf_u_int32>(p.bytes.size());
    hdr.len = p.wire_len;
    return pcap_offline_filter(&it->second, &hdr, p.bytes.data()) != 0;
  }

  const Wiretap& w_;
  wtap* wth_;
  std::string bpf_;
  std::map<int, bpf_program> filters_;
  wtap_rec rec_{};
  Buffer buf_{};
  std::atomic<bool> stopping_{false};
  std::uint64_t received_ = 0;
  std::string error_;
};

}  // namespace

std::unique_ptr<Source> open_wiretap(const std::string& path, const std::string& bpf,
                                     std::string& why_not) {
  const Wiretap* w = wiretap(why_not);
  if (w == nullptr) return nullptr;
  int err = 0;
  gchar* info = nullptr;
  wtap* wth = w->open_offline(path.c_str(), WTAP_TYPE_AUTO, &err, &info, FALSE);
  if (wth == nullptr)
    throw std::runtime_error("cannot read capture file '" + path + "' with libwiretap: " +
                             describe(*w, err, info));
  return std::make_unique<WiretapSource>(*w, wth, bpf);
}

}  // namespace stash53::capture
