#include "app/live_stats.h"

namespace stash53::app {

LiveStats::LiveStats() = default;
LiveStats::~LiveStats() = default;
void LiveStats::observe(const decode::DnsEvent&) noexcept {}
std::string LiveStats::json(const MetricRegistry&) const { return "{}"; }
std::string_view live_page_html() noexcept { return "<!doctype html><title>stash53</title>"; }

}  // namespace stash53::app
