#include "config/option_reader.h"

namespace stash53::config {

OptionReader::OptionReader(YAML::Node node, std::string path)
    : node_(node.IsNull() || !node.IsDefined() ? YAML::Node(YAML::NodeType::Map) : node),
      path_(std::move(path)) {
  if (!node_.IsMap()) {
    const auto line = node.Mark().line;
    throw ConfigError("config: " + (path_.empty() ? std::string("top level") : path_) +
                      (line >= 0 ? " (line " + std::to_string(line + 1) + ")" : "") +
                      ": expected a mapping of keys to values");
  }
}

bool OptionReader::has(const std::string& key) const {
  const YAML::Node v = node_[key];
  return v.IsDefined() && !v.IsNull();
}

std::vector<std::string> OptionReader::keys() const {
  std::vector<std::string> out;
  for (const auto& kv : node_) out.push_back(kv.first.as<std::string>());
  return out;
}

void OptionReader::read_list(const std::string& key, std::vector<std::string>& field,
                             std::string_view expected) {
  if (has(key) && node_[key].IsScalar()) {
    field.assign(1, convert<std::string>(key, expected));
    return;
  }
  read(key, field, expected);
}

std::string OptionReader::where(const std::string& key) const {
  std::string s = "config: " + (path_.empty() ? key : path_ + "." + key);
  const YAML::Node v = node_[key];
  const int line = v.IsDefined() ? v.Mark().line : node_.Mark().line;
  // Nodes made by command-line overrides have no position.
  if (line >= 0) s += " (line " + std::to_string(line + 1) + ")";
  return s;
}

void OptionReader::fail(const std::string& key, std::string_view problem) const {
  throw ConfigError(where(key) + ": " + std::string(problem));
}

OptionReader OptionReader::section(const std::string& key) {
  read_.insert(key);
  const std::string sub = path_.empty() ? key : path_ + "." + key;
  const YAML::Node v = node_[key];
  if (v.IsDefined() && !v.IsNull() && !v.IsMap()) fail(key, "expected a mapping of keys to values");
  if (!v.IsDefined() || v.IsNull()) node_[key] = YAML::Node(YAML::NodeType::Map);
  return OptionReader(node_[key], sub);
}

std::vector<OptionReader> OptionReader::list(const std::string& key) {
  read_.insert(key);
  std::vector<OptionReader> out;
  const YAML::Node v = node_[key];
  if (!v.IsDefined() || v.IsNull()) return out;
  if (!v.IsSequence()) fail(key, "expected a list");
  const std::string base = path_.empty() ? key : path_ + "." + key;
  for (std::size_t i = 0; i < v.size(); ++i)
    out.emplace_back(v[i], base + "[" + std::to_string(i) + "]");
  return out;
}

void OptionReader::finish() const {
  for (const auto& kv : node_) {
    const auto key = kv.first.as<std::string>();
    if (!read_.contains(key)) {
      std::string known;
      for (const auto& k : read_) known += (known.empty() ? "" : ", ") + k;
      fail(key, "unknown key" + (known.empty() ? std::string() : " (known here: " + known + ")"));
    }
  }
}

}  // namespace stash53::config
