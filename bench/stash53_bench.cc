// Throughput of the pipeline on one core: a capture is loaded into memory first, so disk and
// libpcap file parsing are not measured, then replayed through
//   decode        Decoder only (layers + DNS message parsing)
//   pipeline      Decoder + enrichers + JSON + a null emitter's queue and thread
// Prints messages per second for each, the median of --runs runs, and the peak RSS.
//   --clients N   first gives the IPv4 clients of the capture N distinct public addresses (by
//                 client port), so GeoIP has something to look up (a loopback capture has none)
//   --costs       also the pipeline with each default enricher left out, and with none, runs
//                 interleaved, so each enricher's cost is a ratio taken in one run
//   --shapes      also the pipeline with its null emitter on each mode and format, runs
//                 interleaved, as messages per second and a ratio to message/json
#include <pcap/pcap.h>
#include <sys/resource.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <string>
#include <vector>

#include "app/pipeline.h"
#include "enrich/enricher.h"

using namespace stash53;

namespace {

struct Capture {
  int dlt = 0;
  std::vector<std::int64_t> ts;
  std::vector<std::uint32_t> offset, length;
  std::vector<std::uint8_t> bytes;
};

Capture load(const char* path) {
  char err[PCAP_ERRBUF_SIZE];
  pcap_t* p = pcap_open_offline_with_tstamp_precision(path, PCAP_TSTAMP_PRECISION_NANO, err);
  if (!p) throw std::runtime_error(std::string("cannot read ") + path + ": " + err);
  Capture c;
  c.dlt = pcap_datalink(p);
  pcap_pkthdr* h;
  const std::uint8_t* d;
  while (pcap_next_ex(p, &h, &d) == 1) {
    c.ts.push_back(std::int64_t{h->ts.tv_sec} * 1'000'000'000 + h->ts.tv_usec);
    c.offset.push_back(static_cast<std::uint32_t>(c.bytes.size()));
    c.length.push_back(h->caplen);
    c.bytes.insert(c.bytes.end(), d, d + h->caplen);
  }
  pcap_close(p);
  return c;
}

/// Replays a loaded capture as a Source.
class MemorySource final : public capture::Source {
 public:
  explicit MemorySource(const Capture& c) : c_(c) {}
  Next next(capture::Input& in) noexcept override {
    capture::Packet& out = in.packet;
    if (i_ == c_.ts.size()) return Next::End;
    out.ts_ns = c_.ts[i_];
    out.bytes = {c_.bytes.data() + c_.offset[i_], c_.length[i_]};
    out.wire_len = c_.length[i_];
    out.dlt = c_.dlt;
    ++i_;
    return Next::Packet;
  }
  void stop() noexcept override {}
  capture::SourceStats stats() const noexcept override { return {i_, 0, 0}; }
  std::string error() const override { return {}; }
  bool is_offline() const noexcept override { return true; }

 private:
  const Capture& c_;
  std::size_t i_ = 0;
};

struct CountingSink final : decode::MessageSink {
  std::uint64_t messages = 0;
  void on_message(decode::DnsEvent&) noexcept override { ++messages; }
};

double seconds_since(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

double run_decode(const Capture& c, std::uint64_t& messages) {
  decode::Decoder decoder({});
  decode::DnsEvent ev;
  CountingSink sink;
  MemorySource src(c);
  capture::Input in;
  const auto t0 = std::chrono::steady_clock::now();
  while (src.next(in) == capture::Source::Next::Packet) decoder.decode(in.packet, ev, sink);
  const double s = seconds_since(t0);
  messages = sink.messages;
  return static_cast<double>(sink.messages) / s;
}

// Client side of each IPv4 packet (the side not on port 53) → one of `n` public addresses.
void readdress(Capture& c, unsigned n) {
  if (c.dlt != DLT_EN10MB) throw std::runtime_error("--clients needs an Ethernet capture");
  std::vector<std::uint32_t> pool;
  for (std::uint32_t x = 0x01000000, step = 2654435761u; pool.size() < n; x += step) {
    const std::uint8_t a[4] = {static_cast<std::uint8_t>(x >> 24), static_cast<std::uint8_t>(x >> 16),
                               static_cast<std::uint8_t>(x >> 8), static_cast<std::uint8_t>(x)};
    if (a[0] >= 1 && a[0] < 224 && a[0] != 10 && a[0] != 127 && a[0] != 100 && a[0] != 172 &&
        a[0] != 192 && a[0] != 198 && a[0] != 169)
      pool.push_back(x);
  }
  for (std::size_t i = 0; i < c.ts.size(); ++i) {
    std::uint8_t* f = c.bytes.data() + c.offset[i];
    if (c.length[i] < 14 + 20 + 4 || f[12] != 0x08 || f[13] != 0x00) continue;
    std::uint8_t* ip = f + 14;
    const std::size_t ihl = (ip[0] & 0x0f) * 4u;
    if (c.length[i] < 14 + ihl + 4) continue;
    const std::uint16_t sport = static_cast<std::uint16_t>(ip[ihl] << 8 | ip[ihl + 1]);
    const std::uint16_t dport = static_cast<std::uint16_t>(ip[ihl + 2] << 8 | ip[ihl + 3]);
    const bool query = dport == 53;
    const std::uint32_t a = pool[(query ? sport : dport) % pool.size()];
    std::uint8_t* client = ip + (query ? 12 : 16);
    for (int k = 0; k < 4; ++k) client[k] = static_cast<std::uint8_t>(a >> (24 - 8 * k));
  }
}

std::vector<std::string> enricher_set(const std::string& without) {
  std::vector<std::string> out;
  for (const auto& type : enrich::default_enrichers())
    if (type != without && without != "*") out.push_back(type);
  return out;
}

struct Shape {
  const char* mode;
  const char* format;
};

// Returns documents per second; `seconds` gets the run's time.
double run_pipeline(const Capture& c, std::uint64_t& messages,
                    const std::vector<std::string>& types = enricher_set(""),
                    Shape shape = {"message", "json"}, double* seconds = nullptr) {
  YAML::Node nsid_opts(YAML::NodeType::Map), null_opts(YAML::NodeType::Map);
  null_opts["mode"] = shape.mode;
  null_opts["format"] = shape.format;
  nsid_opts["label"] = "bench";
  if (const char* f = std::getenv("FLUSH_MS")) null_opts["flush_ms"] = std::atoi(f);
  config::OptionReader nsid_reader(nsid_opts, "nsid"), null_reader(null_opts, "null");
  app::Enrichers enrichers;
  for (const auto& type : types) {
    YAML::Node n(YAML::NodeType::Map);
    config::OptionReader o(n, type);
    auto e = enrich::make_enricher({type, type == "nsid" ? &nsid_reader : &o, true});
    if (e) enrichers.push_back(std::move(e));
  }
  std::vector<std::unique_ptr<emitters::Emitter>> emitters;
  emitters.push_back(emitters::make_emitter({"null", "null", &null_reader, true}));
  emitters[0]->start();
  MemorySource src(c);
  app::Stages stages{{}, {emitters[0].get()}, nullptr};
  stages.enrichers.push_back(std::move(enrichers));
  app::Pipeline pipeline(src, {}, {}, 1, std::move(stages));
  const auto t0 = std::chrono::steady_clock::now();
  (void)pipeline.run();
  emitters[0]->stop(std::chrono::seconds(60));  // delivered means counted
  const double s = seconds_since(t0);
  if (seconds != nullptr) *seconds = s;
  messages = emitters[0]->stats().sent;
  return static_cast<double>(messages) / s;
}

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v.size() % 2 ? v[v.size() / 2] : (v[v.size() / 2 - 1] + v[v.size() / 2]) / 2;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) {
    std::fprintf(stderr, "usage: %s CAPTURE.pcap [--runs N] [--clients N] [--costs]\n", argv[0]);
    return 2;
  }
  int runs = 5;
  unsigned clients = 0;
  bool costs = false, shapes = false;
  for (int i = 2; i < argc; ++i) {
    if (std::strcmp(argv[i], "--runs") == 0 && i + 1 < argc) runs = std::max(1, std::atoi(argv[i + 1]));
    if (std::strcmp(argv[i], "--clients") == 0 && i + 1 < argc) clients = static_cast<unsigned>(std::atoi(argv[i + 1]));
    if (std::strcmp(argv[i], "--costs") == 0) costs = true;
    if (std::strcmp(argv[i], "--shapes") == 0) shapes = true;
  }
  try {
    Capture c = load(argv[1]);
    if (clients > 0) readdress(c, clients);
    std::printf("capture: %s, %zu packets, %.1f MB\n", argv[1], c.ts.size(),
                static_cast<double>(c.bytes.size()) / 1e6);
    std::vector<double> decode_rates, pipeline_rates;
    std::uint64_t decoded = 0, emitted = 0;
    for (int r = 0; r < runs; ++r) {
      decode_rates.push_back(run_decode(c, decoded));
      pipeline_rates.push_back(run_pipeline(c, emitted));
    }
    if (costs) {
      // Defaults less one (or all): each run tries every set once, so the sets share the
      // machine's noise and the ratios hold even when the machine is busy.
      std::vector<std::string> leave_out = {"*"};
      for (const auto& t : enricher_set("")) leave_out.push_back(t);
      std::vector<std::vector<double>> rates(leave_out.size() + 1);
      for (int r = 0; r < runs; ++r) {
        std::uint64_t n = 0;
        rates[0].push_back(run_pipeline(c, n));
        for (std::size_t k = 0; k < leave_out.size(); ++k)
          rates[k + 1].push_back(run_pipeline(c, n, enricher_set(leave_out[k])));
      }
      const double all = median(rates[0]);
      std::printf("defaults: %.0f messages/s (all of them on)\n", all);
      for (std::size_t k = 0; k < leave_out.size(); ++k) {
        const double m = median(rates[k + 1]);
        std::printf("without %-14s %.0f messages/s: with it, %.1f%% of the speed without it\n",
                    leave_out[k] == "*" ? "any" : leave_out[k].c_str(), m, 100.0 * all / m);
      }
    }
    if (shapes) {
      // Every shape once per run, so they share the machine's noise; messages per second of
      // the capture, whatever number of documents each shape makes of them.
      const Shape all[] = {{"message", "json"}, {"transaction", "json"}, {"record", "json"},
                           {"message", "stash53"}, {"message", "ecs"}, {"transaction", "ecs"}};
      std::vector<std::vector<double>> rates(std::size(all));
      std::vector<std::uint64_t> docs(std::size(all));
      for (int r = 0; r < runs; ++r)
        for (std::size_t k = 0; k < std::size(all); ++k) {
          double s = 0;
          (void)run_pipeline(c, docs[k], enricher_set(""), all[k], &s);
          rates[k].push_back(static_cast<double>(decoded) / s);
        }
      for (std::size_t k = 0; k < std::size(all); ++k)
        std::printf("%-11s %-7s %9.0f messages/s, %.2f of message/json, %llu documents\n",
                    all[k].mode, all[k].format, median(rates[k]), median(rates[k]) / median(rates[0]),
                    static_cast<unsigned long long>(docs[k]));
    }
    rusage ru{};
    getrusage(RUSAGE_SELF, &ru);
    std::printf("decode:   %.0f messages/s (median of %d runs, %llu messages per run)\n",
                median(decode_rates), runs, static_cast<unsigned long long>(decoded));
    std::printf("pipeline: %.0f messages/s (median of %d runs, %llu events per run)\n",
                median(pipeline_rates), runs, static_cast<unsigned long long>(emitted));
    std::printf("peak RSS: %.1f MB (including the capture held in memory: %.1f MB)\n",
                static_cast<double>(ru.ru_maxrss) / 1024.0, static_cast<double>(c.bytes.size()) / 1e6);
    return emitted == decoded ? 0 : 1;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "stash53_bench: %s\n", e.what());
    return 1;
  }
}
