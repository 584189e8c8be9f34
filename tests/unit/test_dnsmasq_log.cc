// dnsmasq log lines and their joiner against ../shared/dnsmasq: every line of its four logs,
// formats.txt's counts and vocabularies, and the dig outputs of queries.log as the independent
// oracle for the joined DNS events. Hand-written lines quote the printf formats of dnsmasq's
// source where the samples have none (DHCPv6, RA, the other log_query forms).
#include <algorithm>
#include <boost/test/unit_test.hpp>
#include <fstream>
#include <map>
#include <sstream>
#include <string>
#include <vector>

#include "capture/dnsmasq/joiner.h"
#include "capture/dnsmasq/log_line.h"

using namespace stash53::capture::dnsmasq;

// For Boost.Test's messages.
namespace stash53::capture::dnsmasq {
std::ostream& operator<<(std::ostream& os, Format f) { return os << format_name(f); }
std::ostream& operator<<(std::ostream& os, AnswerKind k) { return os << answer_kind_name(k); }
}  // namespace stash53::capture::dnsmasq

namespace {

const std::string kDir = std::string(STASH53_SHARED_DIR) + "/dnsmasq/";
constexpr std::int64_t kS = 1'000'000'000;
// 2026-11-24T00:00:00Z: the samples were made on 2026-11-23 (dig's WHEN lines in queries.log).
constexpr std::int64_t kReference = 1795478400 * kS;

struct LogFile {
  const char* path;
  PrefixForm form;
  const char* phase;  // queries.log's `#### phase …`
};
const LogFile kFiles[] = {
    {"dnsmasq.log", PrefixForm::File, "file"},
    {"syslog/messages.traditional", PrefixForm::Traditional, "syslog"},
    {"syslog/messages.rfc3164", PrefixForm::Rfc3164, "syslog"},
    {"syslog/messages.rfc5424", PrefixForm::Rfc5424, "syslog"},
};

std::vector<std::string> read_lines(const std::string& path) {
  std::ifstream in(path);
  BOOST_REQUIRE_MESSAGE(in, "cannot read " << path);
  std::vector<std::string> lines;
  for (std::string l; std::getline(in, l);) lines.push_back(l);
  return lines;
}

JoinerOptions options() {
  JoinerOptions o;
  o.clock.reference_ns = kReference;
  return o;
}

// A joiner and the events it emitted.
struct Run {
  std::vector<DnsQueryEvent> dns;
  std::vector<DhcpEvent> dhcp;
  std::vector<InfoEvent> info;
  Joiner joiner;

  explicit Run(const JoinerOptions& o = options())
      : joiner(o, [this](Event&& e) {
          if (auto* d = std::get_if<DnsQueryEvent>(&e))
            dns.push_back(std::move(*d));
          else if (auto* h = std::get_if<DhcpEvent>(&e))
            dhcp.push_back(std::move(*h));
          else
            info.push_back(std::move(std::get<InfoEvent>(e)));
        }) {}
  Run(const Run&) = delete;
  Run& operator=(const Run&) = delete;
  Run& feed(const std::vector<std::string>& lines) {
    for (const auto& l : lines) joiner.feed(l);
    joiner.flush();
    return *this;
  }
  [[nodiscard]] const JoinerCounters& counters() const { return joiner.counters(); }
};

// formats.txt: `   <count>  <tag>  <name>` rows, and `# <title>: name (n), name (n)` lines.
struct FormatsTxt {
  std::map<std::string, std::uint64_t> count;
  std::map<std::string, std::string> tag;
  std::map<std::string, std::map<std::string, std::uint64_t>> vocab;  // title → word → n
};

FormatsTxt read_formats_txt() {
  FormatsTxt f;
  for (const auto& l : read_lines(kDir + "formats.txt")) {
    std::istringstream in(l);
    std::uint64_t n = 0;
    std::string tag, name, extra;
    if (!l.empty() && l[0] == ' ' && (in >> n >> tag >> name) && !(in >> extra)) {
      f.count[name] = n;
      f.tag[name] = tag;
    } else if (l.starts_with("# line prefixes: ")) {  // a dict: {'name': n, …}
      auto& forms = f.vocab["line prefixes"];
      for (std::size_t q = l.find("': "); q != std::string::npos; q = l.find("': ", q + 1))
        forms[l.substr(l.rfind('\'', q - 1) + 1, q - l.rfind('\'', q - 1) - 1)] =
            std::stoull(l.substr(q + 3));
    } else if (l.starts_with("# ") && l.find(": ") != std::string::npos) {
      const auto colon = l.find(": ");
      auto& words = f.vocab[l.substr(2, colon - 2)];
      std::string rest = l.substr(colon + 2);
      for (std::size_t open; (open = rest.find(" (")) != std::string::npos;) {
        const auto close = rest.find(')', open);
        words[rest.substr(0, open)] = std::stoull(rest.substr(open + 2, close - open - 2));
        rest = close + 3 < rest.size() ? rest.substr(close + 3) : "";
      }
    }
  }
  return f;
}

// One dig run of queries.log.
struct DigRecord {
  std::string owner, type, rdata;
};
struct DigQuery {
  std::string command, server;
  bool tcp = false;  // dig's SERVER line says (TCP)
  std::string qname, qtype, status;
  std::vector<DigRecord> answers;
};

std::string strip_dot(std::string s) {
  if (s.size() > 1 && s.back() == '.') s.pop_back();
  return s;
}

std::map<std::string, std::vector<DigQuery>> read_queries_log(std::string& client) {
  std::map<std::string, std::vector<DigQuery>> phases;
  std::vector<DigQuery>* phase = nullptr;
  DigQuery* q = nullptr;
  enum { kNone, kQuestion, kAnswer } section = kNone;
  for (const auto& l : read_lines(kDir + "queries.log")) {
    if (l.starts_with("#### phase ")) {
      phase = &phases[l.substr(11)];
      q = nullptr;
    } else if (l.starts_with("client1 ")) {
      client = l.substr(l.rfind(' ') + 1);
    } else if (l.starts_with("+ [")) {
      q = nullptr;
      if (l.find(" dig ") == std::string::npos || phase == nullptr) continue;
      q = &phase->emplace_back();
      q->command = l;
      const auto at = l.find(" @");
      q->server = l.substr(at + 2, l.find(' ', at + 2) - at - 2);
    } else if (q == nullptr) {
      continue;
    } else if (l.starts_with(";; ->>HEADER<<-")) {
      const auto s = l.find("status: ");
      q->status = l.substr(s + 8, l.find(',', s) - s - 8);
    } else if (l.starts_with(";; SERVER: ")) {
      q->tcp = l.ends_with(" (TCP)");  // dig falls back to TCP on its own (the ANY query)
    } else if (l == ";; QUESTION SECTION:") {
      section = kQuestion;
    } else if (l == ";; ANSWER SECTION:") {
      section = kAnswer;
    } else if (l.empty() || l.starts_with(";;")) {
      section = kNone;
    } else if (section == kQuestion) {
      std::istringstream in(l.substr(1));
      std::string cls;
      in >> q->qname >> cls >> q->qtype;
      q->qname = strip_dot(q->qname);
    } else if (section == kAnswer) {
      std::istringstream in(l);
      DigRecord r;
      std::string ttl, cls;
      in >> r.owner >> ttl >> cls >> r.type;
      std::getline(in >> std::ws, r.rdata);
      r.owner = strip_dot(r.owner);
      q->answers.push_back(r);
    }
  }
  return phases;
}

// dig's TXT rdata: "hello from nsd" "second string".
std::vector<std::string> txt_strings(const std::string& rdata) {
  std::vector<std::string> out;
  for (std::size_t i = rdata.find('"'); i != std::string::npos; i = rdata.find('"', i + 1)) {
    const auto end = rdata.find('"', i + 1);
    out.push_back(rdata.substr(i + 1, end - i - 1));
    i = end;
  }
  return out;
}

bool iequal(const std::string& a, const std::string& b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           return std::tolower(x) == std::tolower(y);
         });
}

// Does one of dnsmasq's answer lines show this dig record?
bool shows(const DnsAnswerLine& a, const DigRecord& r) {
  if (r.type == "A" || r.type == "AAAA") return a.name == r.owner && a.value == r.rdata;
  if (r.type == "PTR") return a.value == strip_dot(r.rdata);  // F_REVERSE: named by address
  if (r.type == "TXT") {
    const auto strings = txt_strings(r.rdata);
    return a.name == r.owner && (a.value == "<TXT>" || std::find(strings.begin(), strings.end(),
                                                                 a.value) != strings.end());
  }
  return a.name == r.owner && a.value == "<" + r.type + ">";  // CNAME, MX: data not printed
}

Line parse(std::string_view line, LogClock clock = {kReference, 0}) {
  return parse_line(line, clock);
}

}  // namespace

BOOST_AUTO_TEST_SUITE(dnsmasq_log)

// Each file is the same scenario, so each holds a quarter of every count of formats.txt (summed
// over the four); every line has its file's prefix form and formats.txt's tag for its format.
BOOST_AUTO_TEST_CASE(every_line_of_the_samples_parses_with_formats_txt_counts) {
  const FormatsTxt ftxt = read_formats_txt();
  BOOST_REQUIRE_EQUAL(ftxt.count.size(), 13u);
  BOOST_REQUIRE_EQUAL(ftxt.vocab.at("line prefixes").size(), 4u);
  std::map<std::string, std::uint64_t> totals;
  for (const auto& f : kFiles) {
    BOOST_TEST_CONTEXT(f.path) {
      const auto lines = read_lines(kDir + f.path);
      for (const auto& [form, n] : ftxt.vocab.at("line prefixes"))
        BOOST_TEST(lines.size() == n, form);
      std::map<std::string, std::uint64_t> counts;
      for (const auto& l : lines) {
        const Line line = parse(l);
        BOOST_TEST_CONTEXT(l) {
          BOOST_TEST(prefix_form_name(line.prefix.form) == prefix_form_name(f.form));
          BOOST_TEST(line.prefix.has_time);
          BOOST_TEST(line.prefix.pid > 0);
          BOOST_TEST(line.prefix.host == (f.form == PrefixForm::File ? "" : "vm"));
          if (f.form == PrefixForm::Rfc3164 || f.form == PrefixForm::Rfc5424) {
            BOOST_TEST(line.prefix.facility == 16);  // local0
            BOOST_TEST(line.prefix.severity == 6);   // info
          }
          const std::string name(format_name(format_of(classify(line.message, line.prefix.tag))));
          BOOST_TEST(name != "unknown");
          BOOST_TEST(ftxt.tag.count(name) == 1u);
          if (ftxt.tag.count(name) == 1) BOOST_TEST(line.prefix.tag == ftxt.tag.at(name));
          ++counts[name];
        }
      }
      Run run;
      run.feed(lines);
      const JoinerCounters* c = &run.counters();
      for (const auto& [name, n] : ftxt.count) {
        BOOST_TEST_CONTEXT(name) {
          BOOST_TEST(n % 4 == 0u);
          BOOST_TEST(counts[name] == n / 4);
          Format format = Format::Unknown;
          for (std::size_t i = 0; i < static_cast<std::size_t>(Format::kCount); ++i)
            if (format_name(static_cast<Format>(i)) == name) format = static_cast<Format>(i);
          BOOST_TEST(c->lines_of(format) == n / 4);
          totals[name] += counts[name];
        }
      }
      BOOST_TEST(c->lines_of(Format::Unknown) == 0u);
      BOOST_TEST(c->orphan_answers.get() == 0u);
      BOOST_TEST(c->orphan_dhcp_details.get() == 0u);
      BOOST_TEST(c->evicted_queries.get() == 0u);
    }
  }
  for (const auto& [name, n] : ftxt.count) BOOST_TEST(totals[name] == n, name);
}

// The dig runs of each phase, in order, against the joined query events in time order:
// client, qname, qtype, status, every answer record, and no address answer dig did not see.
// The log has one query more than queries.log: the generator's readiness probe from the
// server's loopback before the scenario starts.
BOOST_AUTO_TEST_CASE(joined_dns_events_agree_with_dig) {
  std::string client;
  const auto phases = read_queries_log(client);
  BOOST_REQUIRE_EQUAL(client, "198.51.100.50");
  for (const auto& f : kFiles) {
    BOOST_TEST_CONTEXT(f.path) {
      const auto& digs = phases.at(f.phase);
      BOOST_REQUIRE_EQUAL(digs.size(), 19u);
      Run run;
      auto events = std::move(run.feed(read_lines(kDir + f.path)).dns);
      BOOST_REQUIRE_EQUAL(events.size(), digs.size() + 1);
      std::stable_sort(events.begin(), events.end(), [](const auto& a, const auto& b) {
        return a.time_ns != b.time_ns ? a.time_ns < b.time_ns : a.serial < b.serial;
      });
      const std::int64_t main_pid = events.front().pid;
      std::vector<bool> used(events.size());
      for (const auto& dig : digs) {
        BOOST_TEST_CONTEXT(dig.command) {
          const std::string want_client = dig.server == "127.0.0.1"        ? "127.0.0.1"
                                          : dig.server == "2001:db8:64::1" ? "2001:db8:64::c1"
                                                                           : client;
          std::size_t i = 0;
          while (i < events.size() &&
                 (used[i] || events[i].client != want_client ||
                  !iequal(events[i].qname, dig.qname) || events[i].qtype != dig.qtype))
            ++i;
          BOOST_REQUIRE(i < events.size());
          used[i] = true;
          const DnsQueryEvent& ev = events[i];
          BOOST_TEST(ev.has_query);
          BOOST_TEST(ev.has_serial);
          // A TCP query is answered by a forked child.
          BOOST_TEST((ev.pid != main_pid) == dig.tcp);
          BOOST_TEST(ev.from == ev.client);
          const std::string want = dig.status == "NXDOMAIN" ? "NXDOMAIN"
                                   : dig.answers.empty()    ? "NODATA"
                                                            : dig.status;
          BOOST_TEST(outcome_name(ev.outcome) == want);
          BOOST_TEST(!ev.answered_by.empty());
          for (const auto& r : dig.answers) {
            const bool seen = std::any_of(ev.answers.begin(), ev.answers.end(),
                                          [&](const auto& a) { return shows(a, r); });
            BOOST_TEST(seen, r.owner << " " << r.type << " " << r.rdata);
          }
          for (const auto& a : ev.answers) {
            if (a.kind != AnswerKind::Ipv4 && a.kind != AnswerKind::Ipv6) continue;
            const bool in_dig = std::any_of(dig.answers.begin(), dig.answers.end(),
                                            [&](const auto& r) { return shows(a, r); });
            BOOST_TEST(in_dig, a.name << " " << a.value);
          }
        }
      }
      BOOST_TEST(!used[0]);  // the probe
      BOOST_TEST(std::count(used.begin(), used.end(), false) == 1);
      BOOST_TEST(events[0].client == "127.0.0.1");
      BOOST_TEST(events[0].qname == "printer.home.arpa");
    }
  }
}

// formats.txt's vocabularies (its own classification of the same lines) against the events.
BOOST_AUTO_TEST_CASE(events_match_formats_txt_vocabularies) {
  const FormatsTxt ftxt = read_formats_txt();
  for (const auto& f : kFiles) {
    BOOST_TEST_CONTEXT(f.path) {
      Run c;
      c.feed(read_lines(kDir + f.path));
      std::map<std::string, std::uint64_t> qtypes, sources, messages, trailing;
      for (const auto& q : c.dns) {
        ++qtypes[q.qtype];
        for (const auto& a : q.answers) ++sources[a.source];
      }
      for (const auto& d : c.dhcp) {
        ++messages[d.message_type];
        if (!d.hostname.empty()) ++trailing["<hostname>"];
        if (!d.reason.empty()) ++trailing[d.reason];
      }
      const auto quarter = [](std::map<std::string, std::uint64_t> m) {
        for (auto& [k, v] : m) v /= 4;
        return m;
      };
      BOOST_TEST((qtypes == quarter(ftxt.vocab.at("query types"))));
      BOOST_TEST((sources == quarter(ftxt.vocab.at("answer sources"))));
      BOOST_TEST((messages == quarter(ftxt.vocab.at("DHCP message types"))));
      BOOST_TEST((trailing == quarter(ftxt.vocab.at("DHCP trailing text (hostname or reason)"))));
    }
  }
}

// README: serials are per process; TCP children (15 in one, 115 in the next) and the parent
// (215) are separate queries, and the same serial in two processes is two queries.
BOOST_AUTO_TEST_CASE(tcp_children_and_same_serials_in_two_processes_are_separate) {
  Run c;
  c.feed(read_lines(kDir + kFiles[0].path));
  std::map<std::uint32_t, const DnsQueryEvent*> by_serial;
  for (const auto& q : c.dns) by_serial[q.serial] = &q;
  BOOST_REQUIRE(by_serial.count(15) && by_serial.count(115) && by_serial.count(215));
  BOOST_TEST(by_serial[15]->pid == 30901);
  BOOST_TEST(by_serial[115]->pid == 30907);
  BOOST_TEST(by_serial[215]->pid == 30631);
  BOOST_TEST(by_serial[15]->qname == "www.example");
  BOOST_REQUIRE_EQUAL(by_serial[15]->answers.size(), 2u);
  BOOST_TEST(by_serial[15]->answers[1].name == "host.example");  // the chain's target
  BOOST_TEST(by_serial[15]->upstreams.size() == 1u);
  BOOST_TEST(by_serial[15]->upstreams[0].server == "127.0.0.1#5353");

  Run two;
  two.feed({
      "Nov 23 19:00:00 dnsmasq[100]: 7 198.51.100.50/1000 query[A] a.example from 198.51.100.50",
      "Nov 23 19:00:00 dnsmasq[200]: 7 198.51.100.51/1001 query[A] b.example from 198.51.100.51",
      "Nov 23 19:00:00 dnsmasq[200]: 7 198.51.100.51/1001 reply b.example is 192.0.2.2",
      "Nov 23 19:00:00 dnsmasq[100]: 7 198.51.100.50/1000 reply a.example is 192.0.2.1",
  });
  BOOST_REQUIRE_EQUAL(two.dns.size(), 2u);
  for (const auto& q : two.dns) {
    BOOST_REQUIRE_EQUAL(q.answers.size(), 1u);
    BOOST_TEST(q.answers[0].value == (q.pid == 100 ? "192.0.2.1" : "192.0.2.2"));
    BOOST_TEST(q.qname == (q.pid == 100 ? "a.example" : "b.example"));
  }
}

// Scenario step 4 (README): INIT-REBOOT for a stale lease gets DHCPNAK … wrong network, then
// DISCOVERs find the one-address pool taken; step 1: the ACK names `tablet` with the 2m lease
// (udhcpc's own `lease time 120`, conf/process-output.txt).
BOOST_AUTO_TEST_CASE(dhcp_events_carry_reason_hostname_and_lease_time) {
  const auto process_output = read_lines(kDir + "conf/process-output.txt");
  BOOST_REQUIRE(std::any_of(process_output.begin(), process_output.end(),
                            [](const auto& l) { return l.ends_with("lease time 120"); }));
  for (const auto& f : kFiles) {
    BOOST_TEST_CONTEXT(f.path) {
      Run c;
      c.feed(read_lines(kDir + f.path));
      BOOST_TEST(c.dhcp.size() == 18u);
      int naks = 0, exhausted = 0, tablet_acks = 0, vendor = 0;
      for (const auto& d : c.dhcp) {
        BOOST_TEST(d.has_xid);
        BOOST_TEST(d.iface == "br0");
        BOOST_TEST(d.format == Format::Dhcp4Message);
        if (d.message_type == "DHCPNAK") {
          ++naks;
          BOOST_TEST(d.reason == "wrong network");
          BOOST_TEST(d.ip == "203.0.113.9");
          BOOST_TEST(d.mac == "02:00:5e:10:00:c2");
          BOOST_TEST(d.broadcast);
          BOOST_REQUIRE_EQUAL(d.sent.size(), 3u);
          BOOST_TEST(d.sent[2].number == 56);
          BOOST_TEST(d.sent[2].name == "message");
          BOOST_TEST(d.sent[2].value ==
                     "77:72:6f:6e:67:20:6e:65:74:77:6f:72:6b");  // "wrong network"
        }
        if (d.message_type == "DHCPDISCOVER" && d.reason == "no address available") {
          ++exhausted;
          BOOST_TEST(d.ip.empty());
          BOOST_TEST(d.mac == "02:00:5e:10:00:c2");
          BOOST_TEST(d.client_name == "tv-box");
          BOOST_TEST(d.available == "198.51.100.50 -- 198.51.100.50");
        }
        if (d.message_type == "DHCPACK" && d.hostname == "tablet") {
          ++tablet_acks;
          BOOST_TEST(d.ip == "198.51.100.50");
          BOOST_TEST(d.mac == "02:00:5e:10:00:c1");
          BOOST_REQUIRE(d.lease_time_s.has_value());
          BOOST_TEST(*d.lease_time_s == 120u);
          BOOST_TEST(d.lease_time_text == "2m");
          BOOST_TEST(d.next_server == "198.51.100.1");
          BOOST_TEST(d.requested_options ==
                     "1:netmask, 3:router, 6:dns-server, 12:hostname, 15:domain-name, "
                     "28:broadcast, 42:ntp-server");
          BOOST_TEST(d.sent.size() == 11u);
          BOOST_TEST(std::any_of(d.sent.begin(), d.sent.end(), [](const auto& o) {
            return o.number == 12 && o.name == "hostname" && o.value == "tablet";
          }));
        }
        if (d.vendor_class == "stash53-lab") {
          ++vendor;
          BOOST_TEST(d.client_name == "tablet");
          BOOST_TEST(d.tags == "br0");
        }
      }
      BOOST_TEST(naks == 1);
      BOOST_TEST(exhausted == 2);
      BOOST_TEST(tablet_acks == 2);
      BOOST_TEST(vendor == 4);  // formats.txt: vendor class (16) over four files
    }
  }
}

// RFC 5424 §6.2.3: fraction and offset; §6.4 BOM; NILVALUE fields; SD elements with escapes.
BOOST_AUTO_TEST_CASE(rfc5424_time_fraction_offset_bom_and_nilvalues) {
  const auto lines = read_lines(kDir + "syslog/messages.rfc5424");
  const Line first = parse(lines.front());
  BOOST_TEST(first.prefix.time_ns == 1795460477 * kS + 909151000);  // 2026-11-23T19:01:17.909151Z
  BOOST_TEST(first.prefix.host == "vm");
  BOOST_TEST(first.prefix.tag == "dnsmasq");
  BOOST_TEST(first.prefix.pid == 31045);
  BOOST_TEST(first.message == "started, version 2.90 cachesize 500");

  const Line off = parse(
      "<131>1 2026-11-23T20:01:17.5+01:00 vm dnsmasq-dhcp 7 ID47 "
      "[exampleSDID@32473 iut=\"3\" note=\"a \\] b\"][x@1 y=\"z\"] \xEF\xBB\xBF"
      "DHCPACK(br0) 198.51.100.50 02:00:5e:10:00:c1 tablet");
  BOOST_TEST(prefix_form_name(off.prefix.form) == "rfc5424");
  BOOST_TEST(off.prefix.time_ns == 1795460477 * kS + 500000000);
  BOOST_TEST(off.prefix.severity == 3);
  BOOST_TEST(off.prefix.facility == 16);
  BOOST_TEST(off.message == "DHCPACK(br0) 198.51.100.50 02:00:5e:10:00:c1 tablet");

  const Line west = parse("<134>1 2026-11-23T14:01:17.000123-05:00 vm dnsmasq 9 - - x");
  BOOST_TEST(west.prefix.time_ns == 1795460477 * kS + 123000);
  const Line zulu = parse("<134>1 2026-11-23T19:01:17Z vm dnsmasq 9 - - x");
  BOOST_TEST(zulu.prefix.time_ns == 1795460477 * kS);

  const Line nil = parse("<134>1 - - - - - - hello");
  BOOST_TEST(prefix_form_name(nil.prefix.form) == "rfc5424");
  BOOST_TEST(!nil.prefix.has_time);
  BOOST_TEST(nil.prefix.host.empty());
  BOOST_TEST(nil.prefix.tag.empty());
  BOOST_TEST(nil.prefix.pid == -1);
  BOOST_TEST(nil.message == "hello");

  // The year-less forms take the caller's UTC offset.
  const Line local = parse("Nov 23 20:00:53 dnsmasq[1]: x", LogClock{kReference, 3600});
  BOOST_TEST(local.prefix.time_ns == 1795460453 * kS);
  // No prefix at all (--log-facility=-, stdin): all message.
  const Line bare = parse("4 198.51.100.50/41777 query[A] host.example from 198.51.100.50\r\n");
  BOOST_TEST(prefix_form_name(bare.prefix.form) == "none");
  BOOST_TEST(bare.message == "4 198.51.100.50/41777 query[A] host.example from 198.51.100.50");
}

// The year is the one that puts the time nearest the reference: December read in January is
// last year's, January read in December next year's, Feb 29 only in a leap year.
BOOST_AUTO_TEST_CASE(year_rollover_picks_the_nearest_year) {
  const Line dec = parse("Dec 31 23:59:58 dnsmasq[1]: x", LogClock{1798761605 * kS, 0});
  BOOST_TEST(dec.prefix.time_ns == 1798761598 * kS);  // 2026-12-31T23:59:58Z
  const Line jan = parse("Jan  1 00:00:01 dnsmasq[1]: x", LogClock{1798761540 * kS, 0});
  BOOST_TEST(jan.prefix.time_ns == (1798761600 + 1) * kS);  // 2027-01-01T00:00:01Z
  const Line leap = parse("Feb 29 12:00:00 dnsmasq[1]: x", LogClock{1736899200 * kS, 0});
  BOOST_TEST(leap.prefix.time_ns == 1709208000 * kS);  // 2024-02-29T12:00:00Z (ref 2025-01-15)
}

// DHCPv6 and RA lines as dnsmasq prints them. rfc3315.c log6_packet:
// "%u %s(%s) %s%s %s" (xid, type, iface, [address ], DUID, hostname or reason);
// log6_opts: "%u %s size:%3d option:%3d %s  %s" with "sent" or "nest", iaaddr as
// "%s PL=%u VL=%u"; dhcp6_no_relay: "%u client MAC address: %s", "%u vendor class: %u";
// radv.c: "RTR-SOLICIT(%s) %s" (MAC, empty without the option), "RTR-ADVERT(%s) %s" (prefix).
BOOST_AUTO_TEST_CASE(dhcpv6_and_router_advertisement_lines) {
  Run c;
  c.feed({
      "Nov 23 19:02:00 dnsmasq-dhcp[500]: DHCPv6, IP range 2001:db8:64::100 -- "
      "2001:db8:64::1ff, lease time 2m",
      "Nov 23 19:02:00 dnsmasq-dhcp[500]: router advertisement on 2001:db8:64::",
      "Nov 23 19:02:01 dnsmasq-dhcp[500]: 1100156 available DHCP range: 2001:db8:64::100 -- "
      "2001:db8:64::1ff",
      "Nov 23 19:02:01 dnsmasq-dhcp[500]: 1100156 vendor class: 40208",
      "Nov 23 19:02:01 dnsmasq-dhcp[500]: 1100156 client MAC address: 02:00:5e:10:00:c1",
      "Nov 23 19:02:01 dnsmasq-dhcp[500]: 1100156 client provides name: tablet",
      "Nov 23 19:02:01 dnsmasq-dhcp[500]: 1100156 DHCPSOLICIT(br0) "
      "00:01:00:01:2c:bd:8a:10:02:00:5e:10:00:c1 ",
      "Nov 23 19:02:01 dnsmasq-dhcp[500]: 1100156 DHCPADVERTISE(br0) 2001:db8:64::1a2 "
      "00:01:00:01:2c:bd:8a:10:02:00:5e:10:00:c1 tablet",
      "Nov 23 19:02:01 dnsmasq-dhcp[500]: 1100156 requested options: 23:dns-server, "
      "24:domain-search",
      "Nov 23 19:02:01 dnsmasq-dhcp[500]: 1100156 tags: dhcpv6, br0",
      "Nov 23 19:02:01 dnsmasq-dhcp[500]: 1100156 sent size: 14 option:  1 client-id  "
      "00:01:00:01:2c:bd:8a:10:02:00:5e:10:00:c1",
      "Nov 23 19:02:01 dnsmasq-dhcp[500]: 1100156 sent size: 40 option:  3 ia-na  IAID=1 "
      "T1=60 T2=105",
      "Nov 23 19:02:01 dnsmasq-dhcp[500]: 1100156 nest size: 24 option:  5 iaaddr  "
      "2001:db8:64::1a2 PL=120 VL=120",
      "Nov 23 19:02:01 dnsmasq-dhcp[500]: 1100156 sent size:  9 option: 13 status  0 success",
      "Nov 23 19:02:02 dnsmasq-dhcp[500]: 1100157 DHCPREQUEST(br0) "
      "00:01:00:01:2c:bd:8a:10:02:00:5e:10:00:c1 ",
      "Nov 23 19:02:02 dnsmasq-dhcp[500]: 1100157 DHCPREPLY(br0) 2001:db8:64::1a2 "
      "00:01:00:01:2c:bd:8a:10:02:00:5e:10:00:c1 tablet",
      "Nov 23 19:02:05 dnsmasq-dhcp[500]: 8008303 DHCPADVERTISE(br0) "
      "00:03:00:01:02:42:ac:11:00:02 no addresses available",
      "Nov 23 19:02:06 dnsmasq-dhcp[500]: RTR-SOLICIT(br0) 02:00:5e:10:00:c1",
      "Nov 23 19:02:06 dnsmasq-dhcp[500]: RTR-ADVERT(br0) 2001:db8:64::",
      "Nov 23 19:02:07 dnsmasq-dhcp[500]: RTR-SOLICIT(br0) ",
      "Nov 23 19:02:08 dnsmasq-dhcp[500]: no address range available for DHCPv6 request via eth1",
  });
  const JoinerCounters* counters = &c.counters();
  BOOST_TEST(counters->lines_of(Format::Dhcp6Message) == 5u);
  BOOST_TEST(counters->lines_of(Format::RaSolicit) == 2u);
  BOOST_TEST(counters->lines_of(Format::RaAdvert) == 1u);
  BOOST_TEST(counters->lines_of(Format::DhcpDetail) == 10u);
  BOOST_TEST(counters->lines_of(Format::InfoRange) == 2u);
  BOOST_TEST(counters->lines_of(Format::InfoWarning) == 1u);
  BOOST_REQUIRE_EQUAL(c.dhcp.size(), 8u);
  const DhcpEvent& sol = c.dhcp[0];
  BOOST_TEST(sol.message_type == "DHCPSOLICIT");
  BOOST_TEST(sol.format == Format::Dhcp6Message);
  BOOST_TEST(sol.xid == 1100156u);
  BOOST_TEST(sol.ip.empty());
  BOOST_TEST(sol.duid == "00:01:00:01:2c:bd:8a:10:02:00:5e:10:00:c1");
  BOOST_TEST(sol.mac == "02:00:5e:10:00:c1");
  BOOST_TEST(sol.vendor_class == "40208");
  BOOST_TEST(sol.client_name == "tablet");
  BOOST_TEST(sol.available == "2001:db8:64::100 -- 2001:db8:64::1ff");
  const DhcpEvent& adv = c.dhcp[1];
  BOOST_TEST(adv.message_type == "DHCPADVERTISE");
  BOOST_TEST(adv.ip == "2001:db8:64::1a2");
  BOOST_TEST(adv.hostname == "tablet");
  BOOST_TEST(adv.requested_options == "23:dns-server, 24:domain-search");
  BOOST_TEST(adv.tags == "dhcpv6, br0");
  BOOST_REQUIRE_EQUAL(adv.sent.size(), 4u);
  BOOST_TEST(adv.sent[2].nested);
  BOOST_TEST(adv.sent[2].name == "iaaddr");
  BOOST_TEST(adv.sent[3].value == "0 success");
  BOOST_REQUIRE(adv.lease_time_s.has_value());
  BOOST_TEST(*adv.lease_time_s == 120u);
  BOOST_TEST(c.dhcp[2].message_type == "DHCPREQUEST");
  BOOST_TEST(c.dhcp[2].format == Format::Dhcp6Message);  // no IPv4 address: the v6 REQUEST
  BOOST_TEST(c.dhcp[3].message_type == "DHCPREPLY");
  BOOST_TEST(c.dhcp[3].hostname == "tablet");
  BOOST_TEST(c.dhcp[4].reason == "no addresses available");
  BOOST_TEST(c.dhcp[4].hostname.empty());
  BOOST_TEST(c.dhcp[4].duid == "00:03:00:01:02:42:ac:11:00:02");
  BOOST_TEST(c.dhcp[5].format == Format::RaSolicit);
  BOOST_TEST(c.dhcp[5].mac == "02:00:5e:10:00:c1");
  BOOST_TEST(!c.dhcp[5].has_xid);
  BOOST_TEST(c.dhcp[6].format == Format::RaAdvert);
  BOOST_TEST(c.dhcp[6].ip == "2001:db8:64::");
  BOOST_TEST(c.dhcp[7].format == Format::RaSolicit);
  BOOST_TEST(c.dhcp[7].mac.empty());
  BOOST_REQUIRE_EQUAL(c.info.size(), 3u);
  BOOST_TEST(c.info[2].severity == 4);  // rfc3315.c: MS_DHCP | LOG_WARNING
}

// cache.c log_query's other forms: "%u %s/%u %s %s %s %s%s" (serial, client/port, source,
// name, verb, dest, extra), F_NOEXTRA's "%u %s %s %s %s%s" (no client), F_IPSET's swapped
// "ipset add <set> <addr> <name>", querystr's "<type=N>" and "query[type=N]".
BOOST_AUTO_TEST_CASE(other_log_query_forms) {
  const auto answer = [](std::string_view m) {
    const Record r = classify(m, "dnsmasq");
    BOOST_REQUIRE(std::holds_alternative<DnsAnswer>(r));
    return std::get<DnsAnswer>(r);
  };
  const DnsAnswer signed_ =
      answer("5 192.0.2.1/53000 reply example.org is 192.0.2.7 (DNSSEC signed)");
  BOOST_TEST(signed_.kind == AnswerKind::Ipv4);
  BOOST_TEST(signed_.value == "192.0.2.7");
  BOOST_TEST(signed_.extra == "DNSSEC signed");
  const DnsAnswer ede =
      answer("6 192.0.2.1/53001 reply bad.example is SERVFAIL (EDE: DNSSEC bogus)");
  BOOST_TEST(ede.kind == AnswerKind::Rcode);
  BOOST_TEST(ede.extra == "EDE: DNSSEC bogus");
  const DnsAnswer validation = answer("6 validation bad.example is BOGUS");  // F_NOEXTRA
  BOOST_TEST(validation.kind == AnswerKind::Validation);
  BOOST_TEST(validation.tag.has_serial);
  BOOST_TEST(validation.tag.client.empty());
  BOOST_TEST(answer("7 192.0.2.1/1 /etc/hosts nas.lan is 192.0.2.30").source == "/etc/hosts");
  BOOST_TEST(
      (answer("7 192.0.2.1/1 cached-stale a.example is 192.0.2.9").source == "cached-stale"));
  BOOST_TEST(answer("8 192.0.2.1/1 reply query is duplicate").kind == AnswerKind::Duplicate);
  BOOST_TEST(answer("9 192.0.2.1/1 reply x.example is <type=65>").kind == AnswerKind::Type);
  BOOST_TEST(answer("9 192.0.2.1/1 cached x.example is NODATA-IPv6").kind ==
             AnswerKind::NodataIpv6);
  const DnsAnswer set = answer("10 192.0.2.1/1 ipset add blocked 192.0.2.5 ads.example");
  BOOST_TEST(set.kind == AnswerKind::SetAdd);
  BOOST_TEST(set.source == "ipset add");
  BOOST_TEST(set.name == "ads.example");
  BOOST_TEST(set.value == "192.0.2.5");
  BOOST_TEST(set.extra == "blocked");

  const Record dnssec = classify("11 dnssec-query[DNSKEY] example.org to 127.0.0.1#5353");
  BOOST_REQUIRE(std::holds_alternative<DnsForwarded>(dnssec));
  BOOST_TEST(std::get<DnsForwarded>(dnssec).source == "dnssec-query[DNSKEY]");
  const Record q = classify("12 [2001:db8::1]/5 query[A] x from y");  // not an address: no client
  BOOST_TEST(std::holds_alternative<Unknown>(q));
  const Record odd = classify("13 2001:db8::5/5353 query[type=65] svc.example from 2001:db8::5");
  BOOST_REQUIRE(std::holds_alternative<DnsQuery>(odd));
  BOOST_TEST(std::get<DnsQuery>(odd).qtype == "type=65");
  BOOST_TEST(std::get<DnsQuery>(odd).tag.client == "2001:db8::5");
  BOOST_TEST(std::get<DnsQuery>(odd).tag.port == 5353);
  const Record auth = classify("query[A] a.example from 192.0.2.1");
  BOOST_REQUIRE(std::holds_alternative<DnsQuery>(auth));
  BOOST_TEST(!std::get<DnsQuery>(auth).tag.has_serial);
}

// Without log-queries=extra: answers join the latest open query of their name, the address of
// a PTR answer names the query's arpa name, a CNAME's next link follows it, the rest are orphans.
BOOST_AUTO_TEST_CASE(without_extra_answers_join_by_name) {
  Run c;
  c.feed({
      "query[A] www.example from 198.51.100.50",
      "forwarded www.example to 127.0.0.1#5353",
      "query[AAAA] other.example from 198.51.100.50",
      "reply www.example is <CNAME>",
      "reply host.example is 192.0.2.10",
      "query[PTR] 50.100.51.198.in-addr.arpa from 198.51.100.50",
      "DHCP 198.51.100.50 is tablet.home.arpa",
      "reply other.example is NODATA-IPv6",
      "reply stray.example is 192.0.2.99",
  });
  const JoinerCounters* counters = &c.counters();
  BOOST_REQUIRE_EQUAL(c.dns.size(), 4u);
  std::map<std::string, const DnsQueryEvent*> by_name;
  for (const auto& q : c.dns) by_name[q.has_query ? q.qname : "orphan"] = &q;
  BOOST_REQUIRE_EQUAL(by_name.size(), 4u);
  const auto* www = by_name["www.example"];
  BOOST_TEST(www->upstreams.size() == 1u);
  BOOST_REQUIRE_EQUAL(www->answers.size(), 2u);
  BOOST_TEST(www->answers[1].value == "192.0.2.10");
  BOOST_TEST(outcome_name(www->outcome) == "NOERROR");
  BOOST_TEST(outcome_name(by_name["other.example"]->outcome) == "NODATA");
  BOOST_REQUIRE_EQUAL(by_name["50.100.51.198.in-addr.arpa"]->answers.size(), 1u);
  BOOST_TEST(by_name["50.100.51.198.in-addr.arpa"]->answers[0].value == "tablet.home.arpa");
  BOOST_TEST(by_name["orphan"]->answers[0].name == "stray.example");
  BOOST_TEST(counters->orphan_answers.get() == 1u);
}

// A query is complete once the log has moved dns_timeout past it (any line), else at the
// bound (oldest first, counted) or at flush().
BOOST_AUTO_TEST_CASE(queries_complete_at_timeout_bound_or_flush) {
  JoinerOptions o = options();
  o.dns_timeout_ns = 5 * kS;
  std::vector<std::string> emitted;
  Joiner j(o, [&](Event&& e) {
    if (auto* q = std::get_if<DnsQueryEvent>(&e)) emitted.push_back(q->qname);
  });
  j.feed("Nov 23 19:00:00 dnsmasq[9]: 1 192.0.2.1/1 query[A] one.example from 192.0.2.1");
  j.feed("Nov 23 19:00:00 dnsmasq[9]: 1 192.0.2.1/1 forwarded one.example to 192.0.2.53");
  j.feed("Nov 23 19:00:03 dnsmasq[9]: 2 192.0.2.1/2 query[A] two.example from 192.0.2.1");
  BOOST_TEST(emitted.empty());
  j.feed("Nov 23 19:00:06 dnsmasq[9]: 3 192.0.2.1/3 query[A] three.example from 192.0.2.1");
  BOOST_TEST((emitted == std::vector<std::string>{"one.example"}));
  j.flush();
  BOOST_TEST((emitted == std::vector<std::string>{"one.example", "two.example", "three.example"}));

  o.max_held_queries = 2;
  emitted.clear();
  Joiner bounded(o, [&](Event&& e) {
    if (auto* q = std::get_if<DnsQueryEvent>(&e)) emitted.push_back(q->qname);
  });
  bounded.feed("1 192.0.2.1/1 query[A] a from 192.0.2.1");
  bounded.feed("2 192.0.2.1/1 query[A] b from 192.0.2.1");
  BOOST_TEST(emitted.empty());
  bounded.feed("3 192.0.2.1/1 query[A] c from 192.0.2.1");
  BOOST_TEST((emitted == std::vector<std::string>{"a"}));
  BOOST_TEST(bounded.counters().evicted_queries.get() == 1u);
}

// Severity from <PRI> when the line has one (a caller alerts on ≤ 3), else what dnsmasq's
// source logs the message with.
BOOST_AUTO_TEST_CASE(info_lines_keep_their_severity) {
  Run c;
  c.feed({
      "<131>Nov 23 19:00:00 vm dnsmasq[1]: failed to access /etc/resolv.conf: No such file or "
      "directory",
      "Nov 23 19:00:00 dnsmasq[1]: FAILED to start up",
      "Nov 23 19:00:00 dnsmasq[1]: Maximum number of concurrent DNS queries reached (max: 150)",
      "Nov 23 19:00:00 dnsmasq-dhcp[1]: no address range available for DHCP request via eth1",
      "Nov 23 19:00:00 dnsmasq-dhcp[1]: DHCP packet received on eth1 which has no address",
      "Nov 23 19:00:00 dnsmasq[1]: failed to send packet: Network is unreachable",
      "Nov 23 19:00:00 dnsmasq-script[1]: lease script says hello",
  });
  BOOST_REQUIRE_EQUAL(c.info.size(), 7u);
  const int want[] = {3, 2, 4, 4, 4, 3, 7};
  const Format formats[] = {Format::InfoWarning, Format::InfoError,   Format::InfoWarning,
                            Format::InfoWarning, Format::InfoWarning, Format::InfoError,
                            Format::InfoScript};
  for (std::size_t i = 0; i < 7; ++i) {
    BOOST_TEST(c.info[i].severity == want[i], c.info[i].text);
    BOOST_TEST(format_name(c.info[i].format) == format_name(formats[i]), c.info[i].text);
  }
  BOOST_TEST(c.info[0].host == "vm");
}

// Garbage, a 1 MB line, broken prefixes: Unknown events, counted, nothing thrown; other
// programs' syslog lines are counted and skipped.
BOOST_AUTO_TEST_CASE(garbage_is_unknown_and_counted) {
  const std::vector<std::string> garbage = {
      "",
      std::string("\xff\xfe\x00garbage", 10),
      std::string(1 << 20, 'x'),
      "<999>1 nonsense",
      "<13>",
      "Nov 99 25:61:61 dnsmasq[1]: query[A] x from y",
      "12345",
      "4 198.51.100.50/1 query[A]",
      "DHCPACK(br0",
      "FOO(br0) 1.2.3.4 aa:bb",
      "Nov 23 19:00:00 dnsmasq[1]: 17 mystery text",
      "<134>1 2026-13-40T99:00:00Z vm dnsmasq 1 - - x",
  };
  std::vector<std::string> lines = garbage;
  lines.push_back("Nov 23 19:00:00 vm systemd[1]: Started Session 1 of user root.");
  Run c;
  c.feed(lines);
  const JoinerCounters* counters = &c.counters();
  BOOST_TEST(counters->lines_of(Format::Unknown) == garbage.size());
  BOOST_TEST(counters->other_programs.get() == 1u);
  BOOST_TEST(c.dns.empty());
  BOOST_TEST(c.dhcp.empty());
  BOOST_REQUIRE_EQUAL(c.info.size(), garbage.size());
  for (const auto& i : c.info) BOOST_TEST(i.format == Format::Unknown);
  BOOST_TEST(c.info[2].text.size() == kMaxInfoText);
  BOOST_TEST(c.info[10].pid == 1);  // the prefix still parsed
}

BOOST_AUTO_TEST_CASE(durations_as_dnsmasq_prints_them) {
  std::uint32_t s = 0;
  BOOST_TEST((parse_duration("2m", s) && s == 120u));
  BOOST_TEST((parse_duration("1m45s", s) && s == 105u));
  BOOST_TEST((parse_duration("1d2h", s) && s == 93600u));
  BOOST_TEST((parse_duration("infinite", s) && s == 0xffffffffu));
  BOOST_TEST(!parse_duration("", s));
  BOOST_TEST(!parse_duration("12", s));
  BOOST_TEST(!parse_duration("2x", s));
}

BOOST_AUTO_TEST_SUITE_END()
