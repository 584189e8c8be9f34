#pragma once
// Typed access to one YAML mapping of the config file. Each component reads its own keys, the
// field's initial value being the default; finish() then rejects every key nobody read, so a
// typo is an error at start-up, not a silently ignored setting.

#include <yaml-cpp/yaml.h>

#include <cstdint>
#include <memory>
#include <set>
#include <stdexcept>
#include <string>
#include <string_view>
#include <type_traits>
#include <vector>

namespace stash53::config {

/// A config problem; the message names the key, its line and what was expected.
class ConfigError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

class OptionReader {
 public:
  /// `node` must be a mapping or null (no keys); `path` prefixes key names in messages, e.g.
  /// "emitters[1]". Throws ConfigError when `node` is something else.
  OptionReader(YAML::Node node, std::string path);

  /// For the root of a config file: secrets written in it are warned about when `file` can be
  /// read by every user.
  void set_file(const std::string& file, bool world_readable);

  /// Reads `key` into `field` when present; leaves the default otherwise. `expected` says what
  /// the value must be, for the error message ("an integer 1..65535"). Throws ConfigError.
  template <typename T>
  void read(const std::string& key, T& field, std::string_view expected);
  /// Like read(), but a missing key is an error.
  template <typename T>
  void require(const std::string& key, T& field, std::string_view expected);
  /// Reads an integer and checks lo <= value <= hi.
  template <typename T>
  void read_range(const std::string& key, T& field, long long lo, long long hi);

  [[nodiscard]] bool has(const std::string& key) const;
  /// The keys present, in file order.
  [[nodiscard]] std::vector<std::string> keys() const;
  /// Reads a secret (a password, a key) given as `key` itself, as `<key>_file` (the file's
  /// content, one trailing newline cut unless `raw`) or as `<key>_env` (an environment
  /// variable): at most one of them. The effective config shows it masked, and no message
  /// repeats it.
  void read_secret(const std::string& key, std::string& field, std::string_view expected,
                   bool raw = false);
  /// Replaces what the effective config shows for `key` (a URL with its password masked, a
  /// default found at run time).
  template <typename T>
  void show(const std::string& key, const T& value) {
    effective_[key] = value;
  }
  /// Every key read, with its value or its default: what --print-config prints.
  [[nodiscard]] YAML::Node effective() const { return effective_; }
  /// Changes whenever a value read (a secret included) changes: a reload compares it.
  [[nodiscard]] std::string fingerprint() const;
  /// Reads a value given as one string or as a list of strings.
  void read_list(const std::string& key, std::vector<std::string>& field, std::string_view expected);
  /// The nested mapping under `key` (empty if absent).
  [[nodiscard]] OptionReader section(const std::string& key);
  /// The mappings of the list under `key`, named `<path>.<key>[i]`.
  [[nodiscard]] std::vector<OptionReader> list(const std::string& key);
  /// Sets or replaces `key` (command-line overrides use this before components read).
  template <typename T>
  void set(const std::string& key, const T& value) {
    node_[key] = value;
  }

  /// Throws ConfigError naming the first key that no one read.
  void finish() const;
  /// Throws ConfigError for `key` with `problem`, e.g. fail("port", "must not be 0").
  [[noreturn]] void fail(const std::string& key, std::string_view problem) const;

  [[nodiscard]] const std::string& path() const noexcept { return path_; }

 private:
  [[nodiscard]] std::string where(const std::string& key) const;
  template <typename T>
  [[nodiscard]] T convert(const std::string& key, std::string_view expected);

  struct FileInfo {
    std::string file;
    bool world_readable = false;
  };

  YAML::Node node_;
  std::string path_;
  std::set<std::string> read_;
  YAML::Node effective_{YAML::NodeType::Map};
  std::size_t secrets_hash_ = 0;
  std::shared_ptr<FileInfo> file_ = std::make_shared<FileInfo>();  // shared with sub-readers
};

/// `text` with the password of a URL's user part, and the values of its secret query
/// parameters (`password`, `…_password`, `token`), replaced by "********".
[[nodiscard]] std::string redact_url(std::string_view text);

template <typename T>
T OptionReader::convert(const std::string& key, std::string_view expected) {
  read_.insert(key);
  const YAML::Node v = node_[key];
  if constexpr (std::is_same_v<T, bool>) {
    // yaml-cpp also takes y/n/on/off; accept only what every reader means by a boolean.
    if (v.IsScalar() && (v.Scalar() == "true" || v.Scalar() == "false")) return v.Scalar() == "true";
  } else if constexpr (std::is_same_v<T, std::string>) {
    if (v.IsScalar()) return v.Scalar();
  } else {
    try {
      if (v.IsScalar() || v.IsSequence()) return v.as<T>();
    } catch (const YAML::Exception&) {
    }
  }
  fail(key, "expected " + std::string(expected));
}

template <typename T>
void OptionReader::read(const std::string& key, T& field, std::string_view expected) {
  if (has(key)) field = convert<T>(key, expected);
  read_.insert(key);
  effective_[key] = field;
}

template <typename T>
void OptionReader::require(const std::string& key, T& field, std::string_view expected) {
  if (!has(key)) fail(key, "missing; expected " + std::string(expected));
  field = convert<T>(key, expected);
  effective_[key] = field;
}

template <typename T>
void OptionReader::read_range(const std::string& key, T& field, long long lo, long long hi) {
  const std::string expected = "an integer from " + std::to_string(lo) + " to " + std::to_string(hi);
  read_.insert(key);
  if (has(key)) {
    const auto v = convert<long long>(key, expected);
    if (v < lo || v > hi) fail(key, "expected " + expected + ", got " + std::to_string(v));
    field = static_cast<T>(v);
  }
  effective_[key] = field;
}

}  // namespace stash53::config
