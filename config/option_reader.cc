#include "config/option_reader.h"

#include <algorithm>
#include <cstdlib>
#include <fstream>
#include <functional>
#include <sstream>

#include <sys/stat.h>

#include "common/log.h"

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

void OptionReader::set_file(const std::string& file, bool world_readable) {
  file_->file = file;
  file_->world_readable = world_readable;
}

void OptionReader::read_secret(const std::string& key, std::string& field,
                               std::string_view expected, bool raw) {
  const std::string file_key = key + "_file", env_key = key + "_env";
  std::string file, env;
  read_.insert(key);
  read(file_key, file, "a file holding " + std::string(expected));
  read(env_key, env, "the name of an environment variable holding " + std::string(expected));
  const int given = int(has(key)) + int(!file.empty()) + int(!env.empty());
  if (given > 1) fail(key, "give at most one of " + key + ", " + file_key + ", " + env_key);
  effective_.remove(file_key);
  effective_.remove(env_key);
  if (has(key)) {
    field = convert<std::string>(key, expected);
    effective_[key] = field.empty() ? "" : "********";
    // A value from the file itself (not from a flag, which has no line): who can read it?
    if (file_->world_readable && node_[key].Mark().line >= 0)
      log::warn("config", "{}: a secret in {}, which every user can read; use {} or {}, or "
                "chmod o-r {}.", where(key).substr(8), file_->file, file_key, env_key, file_->file);
  } else if (!file.empty()) {
    std::ifstream in(file, std::ios::binary);
    std::ostringstream text;
    text << in.rdbuf();
    if (!in) fail(file_key, "cannot read '" + file + "'");
    field = text.str();
    if (!raw && field.ends_with('\n')) field.pop_back();
    if (!raw && field.ends_with('\r')) field.pop_back();
    struct stat st {};
    if (::stat(file.c_str(), &st) == 0 && (st.st_mode & S_IROTH) != 0)
      log::warn("config", "{}: {} can be read by every user; chmod o-r {}.",
                where(file_key).substr(8), file, file);
    effective_[file_key] = file;
  } else if (!env.empty()) {
    const char* value = std::getenv(env.c_str());
    if (value == nullptr) fail(env_key, "the environment variable " + env + " is not set");
    field = value;
    effective_[env_key] = env;
  } else {
    effective_[key] = field.empty() ? "" : "********";
  }
  secrets_hash_ = secrets_hash_ * 31 + std::hash<std::string>{}(field);
}

std::string OptionReader::fingerprint() const {
  return YAML::Dump(effective_) + "#" + std::to_string(secrets_hash_);
}

std::string redact_url(std::string_view text) {
  std::string out(text);
  const auto scheme = out.find("://");
  if (scheme == std::string::npos) return out;
  const auto start = scheme + 3;
  const auto end = out.find_first_of("/?#", start);
  const auto authority = out.substr(start, end == std::string::npos ? end : end - start);
  const auto at = authority.rfind('@');
  if (at != std::string::npos) {
    if (const auto colon = authority.substr(0, at).find(':'); colon != std::string::npos)
      out.replace(start + colon + 1, at - colon - 1, "********");
  }
  // Query parameters that are secrets: ?password=, ?sentinel_password=, ?token=.
  for (auto q = out.find('?'); q != std::string::npos; q = out.find('&', q + 1)) {
    const auto eq = out.find('=', q);
    const auto next = std::min(out.find('&', q + 1), out.size());
    if (eq >= next) continue;
    const std::string_view key = std::string_view(out).substr(q + 1, eq - q - 1);
    if (key.ends_with("password") || key == "token" || key.ends_with("_token"))
      out.replace(eq + 1, next - eq - 1, "********");
  }
  return out;
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
    effective_[key] = field;
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
  OptionReader child(node_[key], sub);
  child.file_ = file_;
  if (!effective_[key].IsMap()) effective_[key] = YAML::Node(YAML::NodeType::Map);
  child.effective_.reset(effective_[key]);  // rebind; `=` would copy into the old node
  return child;
}

std::vector<OptionReader> OptionReader::list(const std::string& key) {
  read_.insert(key);
  std::vector<OptionReader> out;
  const YAML::Node v = node_[key];
  if (!v.IsDefined() || v.IsNull()) return out;
  if (!v.IsSequence()) fail(key, "expected a list");
  const std::string base = path_.empty() ? key : path_ + "." + key;
  effective_[key] = YAML::Node(YAML::NodeType::Sequence);
  for (std::size_t i = 0; i < v.size(); ++i) {
    out.emplace_back(v[i], base + "[" + std::to_string(i) + "]");
    out.back().file_ = file_;
    effective_[key].push_back(out.back().effective_);
  }
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
