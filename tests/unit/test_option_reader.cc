#include <boost/test/unit_test.hpp>

#include "config/option_reader.h"

using stash53::config::ConfigError;
using stash53::config::OptionReader;

namespace {

std::string error_of(const std::function<void()>& f) {
  try {
    f();
  } catch (const ConfigError& e) {
    return e.what();
  }
  return "<no error>";
}

}  // namespace

BOOST_AUTO_TEST_SUITE(option_reader)

BOOST_AUTO_TEST_CASE(defaults_stay_when_keys_are_absent) {
  OptionReader o(YAML::Load("{present: 7}"), "sec");
  int present = 1, absent = 2;
  o.read("present", present, "an integer");
  o.read("absent", absent, "an integer");
  BOOST_TEST(present == 7);
  BOOST_TEST(absent == 2);
  o.finish();
}

BOOST_AUTO_TEST_CASE(errors_name_key_line_and_expectation) {
  const auto yaml = YAML::Load("a: 1\nport: seventy\nflag: maybe\n");
  OptionReader o(yaml, "capture");
  int port = 0;
  bool flag = false;
  const auto wrong_type = error_of([&] { o.read("port", port, "an integer"); });
  BOOST_TEST(wrong_type == "config: capture.port (line 2): expected an integer");
  const auto wrong_bool = error_of([&] { o.read("flag", flag, "true or false"); });
  BOOST_TEST(wrong_bool == "config: capture.flag (line 3): expected true or false");
  int range = 0;
  OptionReader r(YAML::Load("n: 70000"), "decode");
  BOOST_TEST(error_of([&] { r.read_range("n", range, 1, 65535); }) ==
             "config: decode.n (line 1): expected an integer from 1 to 65535, got 70000");
  std::string required;
  BOOST_TEST(error_of([&] { o.require("path", required, "a file path"); }).find(
                 "capture.path (line 1): missing; expected a file path") != std::string::npos);
}

BOOST_AUTO_TEST_CASE(unread_keys_are_rejected) {
  OptionReader o(YAML::Load("known: 1\n\ntypo_key: 2\n"), "emitters[0]");
  int known = 0;
  o.read("known", known, "an integer");
  const auto msg = error_of([&] { o.finish(); });
  BOOST_TEST(msg.find("emitters[0].typo_key (line 3): unknown key") != std::string::npos);
  BOOST_TEST(msg.find("known here: known") != std::string::npos);
}

BOOST_AUTO_TEST_CASE(sections_and_lists_carry_their_path) {
  OptionReader root(YAML::Load("emitters:\n  - type: file\n  - 5\n"), "");
  const auto msg = error_of([&] { (void)root.list("emitters"); });
  BOOST_TEST(msg.find("emitters[1] (line 3): expected a mapping") != std::string::npos);
  OptionReader bad(YAML::Load("capture: [1, 2]"), "");
  BOOST_TEST(error_of([&] { (void)bad.section("capture"); }).find("capture (line 1): expected a mapping") !=
             std::string::npos);
}

BOOST_AUTO_TEST_SUITE_END()
