#include "common/log.h"

#include <spdlog/sinks/stdout_sinks.h>

#include <stdexcept>
#include <string>

namespace stash53::log {

void init(std::string_view level) {
  const auto lvl = spdlog::level::from_str(std::string(level));
  // from_str maps unknown names to "off"; only accept that when asked for.
  if (lvl == spdlog::level::off && level != "off")
    throw std::invalid_argument("unknown log level '" + std::string(level) +
                                "' (expected trace, debug, info, warn, error or off)");
  auto logger = spdlog::stderr_logger_mt("stash53");
  logger->set_pattern("%Y-%m-%dT%H:%M:%S.%fZ level=%l %v", spdlog::pattern_time_type::utc);
  logger->set_level(lvl);
  spdlog::set_default_logger(std::move(logger));
}

}  // namespace stash53::log
