#include <unistd.h>

#include <boost/test/unit_test.hpp>
#include <fstream>

#include "config/config.h"

using namespace stash53::config;

namespace {

// A YAML file in the test's temporary directory, removed at the end of the test.
struct TempConfig {
  explicit TempConfig(const std::string& text)
      : path("/tmp/stash53-test-config-" + std::to_string(::getpid()) + ".yml") {
    std::ofstream(path) << text;
  }
  ~TempConfig() { std::remove(path.c_str()); }
  std::string path;
};

std::string load_error(const std::string& yaml) {
  TempConfig f(yaml);
  try {
    (void)load_config(f.path);
  } catch (const ConfigError& e) {
    return e.what();
  }
  return "<no error>";
}

}  // namespace

BOOST_AUTO_TEST_SUITE(config_file)

BOOST_AUTO_TEST_CASE(full_example_loads) {
  TempConfig f(R"(
capture: {interface: eth0, bpf: "udp port 53", snaplen: 2048, buffer_mb: 64, promiscuous: false}
decode: {ports: [53, 5300]}
enrich: [{type: tld}, {type: nsid, label: ns1-fra}]
emitters:
  - {name: out, type: stdout}
  - {name: archive, type: file, path: /var/log/dns.ndjson}
stats: {interval_s: 30}
)");
  const auto cfg = load_config(f.path);
  BOOST_TEST(cfg.capture.interface == "eth0");
  BOOST_TEST(cfg.capture.bpf == "udp port 53");
  BOOST_TEST(cfg.capture.snaplen == 2048);
  BOOST_TEST(!cfg.capture.promiscuous);
  BOOST_TEST(cfg.decode.ports == (std::vector<std::uint16_t>{53, 5300}));
  BOOST_TEST(cfg.enrich.size() == 2u);
  BOOST_TEST(cfg.emitters.size() == 2u);
  BOOST_TEST(cfg.emitters[1].name == "archive");
  BOOST_TEST(cfg.emitters[1].type == "file");
  BOOST_TEST(cfg.stats_interval_s == 30u);
}

BOOST_AUTO_TEST_CASE(errors_name_the_key_and_line) {
  BOOST_TEST(load_error("capture:\n  interfase: eth0\n").find(
                 "capture.interfase (line 2): unknown key") != std::string::npos);
  BOOST_TEST(load_error("capture:\n  snaplen: big\n").find(
                 "capture.snaplen (line 2): expected an integer from 64 to 262144") !=
             std::string::npos);
  BOOST_TEST(load_error("decode:\n  ports: [53, 0]\n").find(
                 "decode.ports (line 2): port 0 is not in 1..65535") != std::string::npos);
  BOOST_TEST(load_error("emitters:\n  - {name: a}\n").find(
                 "emitters[0].type (line 2): missing") != std::string::npos);
  BOOST_TEST(load_error("emitters:\n  - {type: stdout}\n  - {type: stdout}\n").find(
                 "emitters[1].name (line 3): 'stdout' is used twice") != std::string::npos);
  BOOST_TEST(load_error("capture:\n  bpf: \"port 53 and\"\n").find(
                 "capture.bpf (line 2): bad BPF filter") != std::string::npos);
  BOOST_TEST(load_error("stats: {interval_s: -1}\n").find("stats.interval_s (line 1)") !=
             std::string::npos);
  BOOST_TEST(load_error("colour: blue\n").find("colour (line 1): unknown key") != std::string::npos);
  BOOST_TEST(load_error("capture: {bpf: [unclosed\n").find("not valid YAML") != std::string::npos);
}

BOOST_AUTO_TEST_CASE(missing_file_is_an_error_and_no_file_means_defaults) {
  BOOST_CHECK_THROW((void)load_config("/nonexistent/stash53.yml"), ConfigError);
  const auto cfg = load_config("");
  BOOST_TEST(cfg.capture.bpf == "");  // the application picks the live default
  BOOST_TEST(!cfg.bpf_given);
  BOOST_TEST(cfg.capture.snaplen == 65535);
  BOOST_TEST(cfg.decode.ports == (std::vector<std::uint16_t>{53, 5353, 5355}));
}

BOOST_AUTO_TEST_CASE(default_live_filter_compiles_and_names_every_port) {
  stash53::decode::DecodeOptions d;
  d.ports = {53, 5300};
  const auto f = default_live_filter(d);
  BOOST_TEST(f.find("port 53 or port 5300") != std::string::npos);
  OptionReader where(YAML::Node(YAML::NodeType::Map), "capture");
  BOOST_CHECK_NO_THROW(check_bpf(f, where, "bpf"));
}

BOOST_AUTO_TEST_SUITE_END()
