#pragma once
// Logging: a thin layer over spdlog that always names the component, as
// `level=warn component=emit:redis-main msg="Redis unreachable, retrying in 500 ms."`.
// Never call per packet; repeats belong in counters.

#include <spdlog/spdlog.h>

#include <string_view>

namespace stash53::log {

/// Sets up the stderr logger and its level ("trace" … "off"). Throws std::invalid_argument on a
/// bad level name. Call once from main before any thread starts.
void init(std::string_view level);

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

}  // namespace stash53::log
