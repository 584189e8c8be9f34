#pragma once
// Several live sources at once (dnstap and dnsmasq on one host): each is asked in turn, with a
// share of the idle timeout, so a busy one never waits for a quiet one.

#include <memory>
#include <vector>

#include "capture/source.h"

namespace stash53::capture {

class MergedSource final : public Source {
 public:
  explicit MergedSource(std::vector<std::unique_ptr<Source>> sources);
  Next next(Input& in) noexcept override;
  void start() override;
  void stop() noexcept override;
  SourceStats stats() const noexcept override;
  std::string error() const override { return error_; }
  bool is_offline() const noexcept override { return false; }
  void register_metrics(MetricRegistry& registry) const override;

 private:
  std::vector<std::unique_ptr<Source>> sources_;
  std::vector<bool> ended_;
  std::size_t turn_ = 0;
  unsigned streak_ = 0;
  std::string error_;
};

}  // namespace stash53::capture
