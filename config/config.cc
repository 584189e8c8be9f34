#include "config/config.h"

#include <pcap/pcap.h>
#include <sys/stat.h>

#include <cstdlib>
#include <set>

#include "common/log.h"

namespace stash53::config {
namespace {

void read_dnstap(OptionReader o, capture::DnstapOptions& d) {
  o.read("socket", d.socket, "a unix socket path");
  std::string mode = "0660";
  o.read("socket_mode", mode, "an octal file mode such as \"0660\"");
  char* end = nullptr;
  const unsigned long m = std::strtoul(mode.c_str(), &end, 8);
  if (mode.empty() || *end != '\0' || m > 0777)
    o.fail("socket_mode", "'" + mode + "' is not an octal file mode such as \"0660\"");
  d.socket_mode = static_cast<unsigned>(m);
  o.read("socket_group", d.socket_group, "a group name");
  o.read("listen", d.listen, "ADDR:PORT");
  if (!d.listen.empty() && d.listen.rfind(':') == std::string::npos)
    o.fail("listen", "'" + d.listen + "' is not ADDR:PORT");
  o.read_range("max_connections", d.max_connections, 1, 10000);
  o.read_range("queue_mb", d.queue_mb, 1, 4096);
  o.finish();
}

void read_dnsmasq(OptionReader o, capture::DnsmasqOptions& d) {
  o.read("follow", d.follow, "true or false");
  o.read("syslog_listen", d.syslog_listen, "ADDR:PORT");
  if (!d.syslog_listen.empty() && d.syslog_listen.rfind(':') == std::string::npos)
    o.fail("syslog_listen", "'" + d.syslog_listen + "' is not ADDR:PORT");
  o.read("syslog_socket", d.syslog_socket, "a unix socket path");
  o.read_range("query_timeout_ms", d.query_timeout_ms, 100, 600'000);
  o.finish();
}

void read_capture(OptionReader o, Config& cfg) {
  capture::PcapOptions& c = cfg.capture;
  o.read_list("source", cfg.sources, "pcap, dnstap or dnsmasq, or a list of them");
  std::set<std::string> seen;
  for (const auto& s : cfg.sources) {
    if (s != "pcap" && s != "dnstap" && s != "dnsmasq")
      o.fail("source", "unknown source '" + s + "' (known: pcap, dnstap, dnsmasq)");
    if (!seen.insert(s).second) o.fail("source", "'" + s + "' is listed twice");
  }
  if (cfg.sources.empty()) o.fail("source", "must name at least one source");
  read_dnstap(o.section("dnstap"), cfg.dnstap);
  read_dnsmasq(o.section("dnsmasq"), cfg.dnsmasq);
  if (cfg.reads("dnstap") && cfg.dnstap.socket.empty() && cfg.dnstap.listen.empty())
    o.fail("source", "source dnstap needs dnstap.socket or dnstap.listen");
  bool& bpf_given = cfg.bpf_given;
  o.read("interface", c.interface, "a network interface name");
  o.read("file", c.file, "a pcap, pcapng or dnstap file path, or - for stdin");
  if (!c.interface.empty() && !c.file.empty())
    o.fail("file", "give either interface or file, not both");
  bpf_given = o.has("bpf");
  o.read("bpf", c.bpf, "a BPF filter expression");
  check_bpf(c.bpf, o, "bpf");
  o.read_range("snaplen", c.snaplen, 64, 262144);
  o.read_range("buffer_mb", c.buffer_mb, 1, 2047);  // libpcap takes the size in bytes as an int
  o.read("promiscuous", c.promiscuous, "true or false");
  o.read("immediate", c.immediate, "true or false");
  o.read_range("workers", cfg.workers, 1, 64);
  const auto& d = cfg.dnsmasq;
  if (cfg.reads("dnsmasq") && d.syslog_listen.empty() && d.syslog_socket.empty())
    o.fail("source", "source dnsmasq needs dnsmasq.syslog_listen or dnsmasq.syslog_socket (a "
                     "log file is read with file:, followed with dnsmasq.follow)");
  o.finish();
}

void read_decode(OptionReader o, decode::DecodeOptions& d) {
  std::vector<int> ports;
  o.read("ports", ports, "a list of port numbers");
  if (o.has("ports")) {
    if (ports.empty()) o.fail("ports", "must list at least one port");
    d.ports.clear();
    for (const int p : ports) {
      if (p < 1 || p > 65535) o.fail("ports", "port " + std::to_string(p) + " is not in 1..65535");
      d.ports.push_back(static_cast<std::uint16_t>(p));
    }
  }
  o.read("rrprint", d.rrprint, "true or false");
  // Tunnel ports: [] turns that tunnel off.
  auto read_ports = [&o](const std::string& key, std::vector<std::uint16_t>& field) {
    std::vector<int> list(field.begin(), field.end());
    o.read(key, list, "a list of port numbers");
    field.clear();
    for (const int p : list) {
      if (p < 1 || p > 65535) o.fail(key, "port " + std::to_string(p) + " is not in 1..65535");
      field.push_back(static_cast<std::uint16_t>(p));
    }
  };
  read_ports("vxlan_ports", d.vxlan_ports);
  read_ports("geneve_ports", d.geneve_ports);
  o.read("ip_tunnels", d.ip_tunnels, "true or false");

  OptionReader frag = o.section("fragments");
  auto& f = d.fragments;
  frag.read_range("max_datagrams", f.max_datagrams, 1, 1'000'000);
  frag.read_range("max_fragments", f.max_fragments, 2, 8192);
  std::size_t frag_mb = f.max_bytes >> 20;
  frag.read_range("max_mb", frag_mb, 1, 65536);
  f.max_bytes = frag_mb << 20;
  long long frag_timeout_s = f.timeout_ns / 1'000'000'000;
  frag.read_range("timeout_s", frag_timeout_s, 1, 3600);
  f.timeout_ns = frag_timeout_s * 1'000'000'000;
  frag.finish();

  OptionReader tcp = o.section("tcp");
  auto& t = d.tcp;
  tcp.read_range("max_flows", t.max_flows, 1, 10'000'000);
  std::size_t flow_kb = t.max_flow_bytes >> 10;
  tcp.read_range("max_flow_kb", flow_kb, 64, 1'048'576);  // at least one whole message
  t.max_flow_bytes = flow_kb << 10;
  std::size_t tcp_mb = t.max_bytes >> 20;
  tcp.read_range("max_mb", tcp_mb, 1, 65536);
  t.max_bytes = tcp_mb << 20;
  long long idle_s = t.idle_timeout_ns / 1'000'000'000;
  tcp.read_range("idle_timeout_s", idle_s, 1, 86400);
  t.idle_timeout_ns = idle_s * 1'000'000'000;
  tcp.finish();
  o.finish();
}

std::vector<ComponentConfig> read_components(OptionReader& root, const std::string& key,
                                             bool named) {
  std::vector<ComponentConfig> out;
  std::set<std::string> names;
  for (auto& o : root.list(key)) {
    ComponentConfig c{"", "", o};
    c.options.require("type", c.type, "the component type");
    if (named) {
      c.name = c.type;
      c.options.read("name", c.name, "an instance name");
      if (!names.insert(c.name).second)
        c.options.fail("name", "'" + c.name + "' is used twice; names must be unique");
    }
    out.push_back(std::move(c));
  }
  return out;
}

}  // namespace

std::string default_live_filter(const decode::DecodeOptions& d, bool vlan) {
  std::string p;
  auto term = [&p](const std::string& t) { p += (p.empty() ? "" : " or ") + t; };
  for (const auto port : d.ports) term("port " + std::to_string(port));
  // Tunnels: their inner packets are only seen if the outer ones get through.
  for (const auto port : d.vxlan_ports) term("udp port " + std::to_string(port));
  for (const auto port : d.geneve_ports) term("udp port " + std::to_string(port));
  if (d.ip_tunnels)
    for (const std::string proto : {"47", "4", "41"})  // GRE, IP-in-IP, IPv6-in-IP
      term("ip proto " + proto + " or ip6 proto " + proto);
  if (!vlan) return "(" + p + ") or (ip[6:2] & 0x3fff != 0) or (ip6[6] == 44)";
  // `vlan` shifts the offsets of everything after it in the expression, so it comes last.
  return "(" + p + ") or (ip[6:2] & 0x3fff != 0) or (ip6[6] == 44) or (vlan and ((" + p +
         ") or (vlan and (" + p + "))))";
}

void check_bpf(const std::string& bpf, const OptionReader& where, const std::string& key) {
  if (bpf.empty()) return;
  std::unique_ptr<pcap_t, decltype(&pcap_close)> dead(pcap_open_dead(DLT_EN10MB, 65535),
                                                      &pcap_close);
  bpf_program prog{};
  if (pcap_compile(dead.get(), &prog, bpf.c_str(), 1, PCAP_NETMASK_UNKNOWN) < 0)
    where.fail(key, "bad BPF filter '" + bpf + "': " + pcap_geterr(dead.get()));
  pcap_freecode(&prog);
}

Config load_config(const std::string& path) {
  Config cfg;
  YAML::Node doc(YAML::NodeType::Map);  // no file: every default, for --print-config
  try {
    if (!path.empty()) doc = YAML::LoadFile(path);
  } catch (const YAML::BadFile&) {
    throw ConfigError("config: cannot read '" + path + "'");
  } catch (const YAML::ParserException& e) {
    throw ConfigError("config: " + path + " (line " + std::to_string(e.mark.line + 1) +
                      "): not valid YAML: " + e.msg);
  }
  OptionReader root(doc, "");
  struct stat st {};
  root.set_file(path, ::stat(path.c_str(), &st) == 0 && (st.st_mode & S_IROTH) != 0);
  read_capture(root.section("capture"), cfg);
  read_decode(root.section("decode"), cfg.decode);
  cfg.enrich_given = root.has("enrich");
  cfg.enrich = read_components(root, "enrich", false);
  cfg.emitters = read_components(root, "emitters", true);
  OptionReader tx = root.section("transactions");
  auto& t = cfg.transactions;
  long long timeout_ms = t.timeout_ns / 1'000'000;
  tx.read_range("timeout_ms", timeout_ms, 1, 3'600'000);
  t.timeout_ns = timeout_ms * 1'000'000;
  tx.read_range("max_entries", t.max_entries, 1, 100'000'000);
  std::size_t tx_mb = t.max_bytes >> 20;
  tx.read_range("max_mb", tx_mb, 1, 65536);
  t.max_bytes = tx_mb << 20;
  tx.finish();
  OptionReader stats = root.section("stats");
  stats.read_range("interval_s", cfg.stats_interval_s, 0, 86400);
  stats.finish();
  OptionReader log = root.section("log");
  log.read("level", cfg.log_level, "trace, debug, info, warn, error or off");
  if (!log::is_level(cfg.log_level))
    log.fail("level", "expected trace, debug, info, warn, error or off, got '" + cfg.log_level + "'");
  log.finish();
  OptionReader priv = root.section("privileges");
  auto& p = cfg.privileges;
  priv.read("user", p.user, "a user name (default: stash53 if it exists, else nobody)");
  priv.read("group", p.group, "a group name (default: the user's)");
  priv.read("chroot", p.chroot, "a directory to chroot into");
  priv.read("allow_root", p.allow_root, "true or false");
  priv.finish();
  OptionReader metrics = root.section("metrics");
  metrics.read("listen", cfg.metrics_listen, "host:port, e.g. 127.0.0.1:9153");
  metrics.finish();
  root.finish();
  cfg.effective = root.effective();
  return cfg;
}

}  // namespace stash53::config
