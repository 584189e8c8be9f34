#include "capture/pcap_source.h"

#include <poll.h>

#include <cstdio>
#include <stdexcept>

namespace stash53::capture {
namespace {

[[noreturn]] void fail(const std::string& what, const std::string& detail) {
  throw std::runtime_error(what + ": " + detail);
}

void check(int rc, pcap_t* p, const std::string& what) {
  if (rc < 0) fail(what, rc == PCAP_ERROR ? pcap_geterr(p) : pcap_statustostr(rc));
}

}  // namespace

bool PcapSource::supported_dlt(int dlt) noexcept {
  switch (dlt) {
    case DLT_EN10MB:
    case DLT_LINUX_SLL:
    case DLT_LINUX_SLL2:
    case DLT_NULL:
    case DLT_LOOP:
    case DLT_RAW:
    case 14:  // raw IP as the BSDs number it (DLT_RAW is 12 on Linux)
    case DLT_IPV4:
    case DLT_IPV6:
      return true;
    default:
      return false;
  }
}

PcapSource::PcapSource(const PcapOptions& o, InputFile* opened) {
  char errbuf[PCAP_ERRBUF_SIZE] = {};
  if (!o.file.empty()) {
    offline_ = true;
    // Nanosecond precision keeps pcapng/ns files exact; microsecond files are scaled.
    if (opened != nullptr)  // libpcap closes the stream with its handle
      handle_.reset(pcap_fopen_offline_with_tstamp_precision(opened->file.release(),
                                                             PCAP_TSTAMP_PRECISION_NANO, errbuf));
    else
      handle_.reset(pcap_open_offline_with_tstamp_precision(o.file.c_str(),
                                                            PCAP_TSTAMP_PRECISION_NANO, errbuf));
    if (!handle_) fail("cannot read capture file '" + o.file + "'", errbuf);
  } else {
    if (o.interface.empty()) fail("capture", "neither an interface nor a file was given");
    handle_.reset(pcap_create(o.interface.c_str(), errbuf));
    if (!handle_) fail("cannot open interface '" + o.interface + "'", errbuf);
    pcap_t* p = handle_.get();
    const std::string where = "interface '" + o.interface + "'";
    check(pcap_set_snaplen(p, o.snaplen), p, where + ": snaplen");
    check(pcap_set_promisc(p, o.promiscuous ? 1 : 0), p, where + ": promiscuous");
    check(pcap_set_timeout(p, o.timeout_ms), p, where + ": timeout");
    check(pcap_set_immediate_mode(p, o.immediate ? 1 : 0), p, where + ": immediate mode");
    check(pcap_set_buffer_size(p, o.buffer_mb * 1024 * 1024), p, where + ": buffer size");
    // Not every device offers nanosecond stamps; microseconds are fine then.
    (void)pcap_set_tstamp_precision(p, PCAP_TSTAMP_PRECISION_NANO);
    const int rc = pcap_activate(p);
    if (rc < 0) {
      const std::string detail = (rc == PCAP_ERROR) ? pcap_geterr(p) : pcap_statustostr(rc);
      fail("cannot capture on " + where, rc == PCAP_ERROR_PERM_DENIED
                                              ? detail + " (needs root or CAP_NET_RAW)"
                                              : detail);
    }
  }
  pcap_t* p = handle_.get();
  dlt_ = pcap_datalink(p);
  if (!supported_dlt(dlt_)) {
    const char* name = pcap_datalink_val_to_name(dlt_);
    fail("unsupported link type", std::to_string(dlt_) + " (" + (name ? name : "unknown") +
                                      "); supported: EN10MB, LINUX_SLL, LINUX_SLL2, NULL, LOOP, RAW");
  }
  const std::string& bpf = dlt_ != DLT_EN10MB && !o.bpf_not_ethernet.empty() ? o.bpf_not_ethernet : o.bpf;
  filter_ = bpf;
  if (!bpf.empty()) {
    bpf_program prog{};
    if (pcap_compile(p, &prog, bpf.c_str(), 1, PCAP_NETMASK_UNKNOWN) < 0)
      fail("bad capture filter '" + bpf + "'", pcap_geterr(p));
    const int rc = pcap_setfilter(p, &prog);
    pcap_freecode(&prog);
    if (rc < 0) fail("cannot set capture filter '" + bpf + "'", pcap_geterr(p));
  }
  if (!offline_) {
    // With TPACKET_V3 a blocking read on an idle interface never returns (the kernel retires
    // only blocks that hold packets): read without blocking and poll with our own timeout, so
    // the pipeline sees Idle (a reload, the health check) on a quiet night too.
    if (pcap_setnonblock(p, 1, errbuf) < 0) fail("cannot capture without blocking", errbuf);
    fd_ = pcap_get_selectable_fd(p);
    timeout_ms_ = o.timeout_ms;
  }
}

Source::Next PcapSource::next(Input& in) noexcept {
  Packet& out = in.packet;
  if (stopping_.load(std::memory_order_relaxed)) return Next::End;
  pcap_pkthdr* hdr = nullptr;
  const std::uint8_t* data = nullptr;
  int rc = pcap_next_ex(handle_.get(), &hdr, &data);
  if (rc == 0 && fd_ >= 0) {
    pollfd pfd{fd_, POLLIN, 0};
    if (::poll(&pfd, 1, timeout_ms_) <= 0) return stopping_.load() ? Next::End : Next::Idle;
    rc = pcap_next_ex(handle_.get(), &hdr, &data);
  }
  switch (rc) {
    case 1:
      out.ts_ns = static_cast<std::int64_t>(hdr->ts.tv_sec) * 1'000'000'000 +
                  static_cast<std::int64_t>(hdr->ts.tv_usec);  // tv_usec holds ns (precision NANO)
      out.bytes = {data, hdr->caplen};
      out.wire_len = hdr->len;
      out.dlt = dlt_;
      ++received_;
      return Next::Packet;
    case 0:
      return Next::Idle;
    case PCAP_ERROR_BREAK:
      return Next::End;
    default:
      if (stopping_.load(std::memory_order_relaxed)) return Next::End;
      error_ = pcap_geterr(handle_.get());
      return Next::Error;
  }
}

void PcapSource::stop() noexcept {
  stopping_.store(true, std::memory_order_relaxed);
  pcap_breakloop(handle_.get());
}

SourceStats PcapSource::stats() const noexcept {
  SourceStats s;
  s.received = received_;
  pcap_stat ps{};
  if (!offline_ && pcap_stats(handle_.get(), &ps) == 0) {
    s.kernel_dropped = ps.ps_drop;
    s.interface_dropped = ps.ps_ifdrop;
  }
  return s;
}

}  // namespace stash53::capture
