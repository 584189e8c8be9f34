#pragma once
// Logging: a thin layer over spdlog that always names the component, as
// `level=warn component=emit:redis-main msg="Redis unreachable, retrying in 500 ms."`.
// Never call per packet; repeats belong in counters.

#include <spdlog/spdlog.h>

#include <chrono>
#include <cstdint>
#include <string_view>

namespace stash53::log {

/// Sets up the stderr logger and its level ("trace" … "off"). Throws std::invalid_argument on a
/// bad level name. Call once from main before any thread starts.
void init(std::string_view level);
/// Changes the level of the logger set up by init() (a reload). `level` must pass is_level().
void set_level(std::string_view level);
[[nodiscard]] bool is_level(std::string_view level);

template <typename... Args>
void debug(std::string_view component, spdlog::format_string_t<Args...> fmt, Args&&... args) {
  spdlog::debug("component={} msg=\"{}\"", component, fmt::format(fmt, std::forward<Args>(args)...));
}
template <typename... Args>
void info(std::string_view component, spdlog::format_string_t<Args...> fmt, Args&&... args) {
  spdlog::info("component={} msg=\"{}\"", component, fmt::format(fmt, std::forward<Args>(args)...));
}
template <typename... Args>
void warn(std::string_view component, spdlog::format_string_t<Args...> fmt, Args&&... args) {
  spdlog::warn("component={} msg=\"{}\"", component, fmt::format(fmt, std::forward<Args>(args)...));
}
template <typename... Args>
void error(std::string_view component, spdlog::format_string_t<Args...> fmt, Args&&... args) {
  spdlog::error("component={} msg=\"{}\"", component,
                fmt::format(fmt, std::forward<Args>(args)...));
}

/// Lets one message through per interval and counts the rest, so a destination that fails
/// every batch logs one line per interval, not one per batch. Single thread.
class RateLimit {
 public:
  explicit RateLimit(std::chrono::seconds interval = std::chrono::seconds(10)) : interval_(interval) {}
  /// True when a message may be logged now; `suppressed()` then tells how many were not.
  bool allow() {
    const auto now = std::chrono::steady_clock::now();
    if (now - last_ < interval_) {
      ++suppressed_;
      return false;
    }
    last_ = now;
    reported_ = suppressed_;
    suppressed_ = 0;
    return true;
  }
  /// Messages held back before the one just allowed.
  [[nodiscard]] std::uint64_t suppressed() const { return reported_; }

 private:
  std::chrono::steady_clock::duration interval_;
  std::chrono::steady_clock::time_point last_{};
  std::uint64_t suppressed_ = 0, reported_ = 0;
};

}  // namespace stash53::log
