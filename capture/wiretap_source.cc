#include "capture/wiretap_source.h"

#include <pcap/pcap.h>
#include <wiretap/wtap.h>
#include <wsutil/wslog.h>

#include <map>
#include <stdexcept>

namespace stash53::capture {
namespace {

// wiretap's encapsulation → libpcap's DLT, for the link types the decoder reads. libwiretap 4.0
// does not export its own mapping (wtap_wtap_encap_to_pcap_encap), so the few needed are here.
int dlt_of(int encap) {
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

struct PcapClose {
  void operator()(pcap_t* p) const { pcap_close(p); }
};

}  // namespace

struct WiretapSource::State {
  wtap* wth = nullptr;
  wtap_rec rec;
  Buffer buf;
  std::string bpf;
  struct Filter {
    std::unique_ptr<pcap_t, PcapClose> dead;
    bpf_program prog{};
    bool ok = false;
  };
  std::map<int, Filter> filters;  // per DLT, compiled when first met

  ~State() {
    for (auto& [dlt, f] : filters)
      if (f.ok) pcap_freecode(&f.prog);
    if (wth != nullptr) wtap_close(wth);
    wtap_rec_cleanup(&rec);
    ws_buffer_free(&buf);
  }
};

WiretapSource::WiretapSource(const PcapOptions& o) : s_(std::make_unique<State>()) {
  static const bool initialised = [] {
    ws_log_init("stash53", nullptr);  // without it, wiretap logs every record at debug level
    ws_log_set_level(LOG_LEVEL_WARNING);
    wtap_init(FALSE);  // no plugins
    return true;
  }();
  (void)initialised;
  wtap_rec_init(&s_->rec);
  ws_buffer_init(&s_->buf, 65536);
  int err = 0;
  gchar* info = nullptr;
  s_->wth = wtap_open_offline(o.file.c_str(), WTAP_TYPE_AUTO, &err, &info, FALSE);
  if (s_->wth == nullptr) {
    std::string why = wtap_strerror(err);
    if (info != nullptr) why += std::string(" (") + info + ")", g_free(info);
    throw std::runtime_error(why);
  }
  s_->bpf = o.bpf;
}

WiretapSource::~WiretapSource() = default;

std::string WiretapSource::format_name() const {
  return std::string(wtap_file_type_subtype_name(wtap_file_type_subtype(s_->wth))) + " (wiretap)";
}

Source::Next WiretapSource::next(Packet& out) noexcept {
  for (;;) {
    if (stopping_) return Next::End;
    int err = 0;
    gchar* info = nullptr;
    gint64 offset = 0;
    if (!wtap_read(s_->wth, &s_->rec, &s_->buf, &err, &info, &offset)) {
      if (err == 0) return Next::End;
      error_ = wtap_strerror(err);
      if (info != nullptr) error_ += std::string(" (") + info + ")", g_free(info);
      return Next::Error;
    }
    if (s_->rec.rec_type != REC_TYPE_PACKET) continue;  // events, statistics, secrets
    const auto& h = s_->rec.rec_header.packet_header;
    out.dlt = dlt_of(h.pkt_encap);
    out.ts_ns = static_cast<std::int64_t>(s_->rec.ts.secs) * 1'000'000'000 + s_->rec.ts.nsecs;
    out.bytes = {ws_buffer_start_ptr(&s_->buf), h.caplen};
    out.wire_len = h.len;
    if (!s_->bpf.empty() && out.dlt >= 0) {
      auto& f = s_->filters[out.dlt];
      if (!f.dead) {
        f.dead.reset(pcap_open_dead(out.dlt, 262144));
        f.ok = pcap_compile(f.dead.get(), &f.prog, s_->bpf.c_str(), 1, PCAP_NETMASK_UNKNOWN) == 0;
      }
      pcap_pkthdr ph{};
      ph.caplen = h.caplen, ph.len = h.len;
      if (f.ok && pcap_offline_filter(&f.prog, &ph, out.bytes.data()) == 0) continue;
    }
    ++received_;
    return Next::Packet;
  }
}

}  // namespace stash53::capture
