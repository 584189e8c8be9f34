#include "common/log.h"

#include <spdlog/sinks/stdout_sinks.h>

#include <stdexcept>
#include <string>

namespace stash53::log {

bool is_level(std::string_view level) {
  // from_str maps unknown names to "off"; only accept that when asked for.
  return spdlog::level::from_str(std::string(level)) != spdlog::level::off || level == "off";
}

void init(std::string_view level) {
  if (!is_level(level))
    throw std::invalid_argument("unknown log level '" + std::string(level) +
                                "' (expected trace, debug, info, warn, error or off)");
  auto logger = spdlog::stderr_logger_mt("stash53");
  logger->set_pattern("%Y-%m-%dT%H:%M:%S.%fZ level=%l %v", spdlog::pattern_time_type::utc);
  spdlog::set_default_logger(std::move(logger));
  set_level(level);
}

void set_level(std::string_view level) {
  spdlog::set_level(spdlog::level::from_str(std::string(level)));
}

}  // namespace stash53::log
