#include <unistd.h>

#include <climits>

#include "enrich/enrichers.h"

namespace stash53::enrich {

NsidEnricher::NsidEnricher(config::OptionReader& options) {
  char host[HOST_NAME_MAX + 1] = {};
  if (gethostname(host, sizeof host - 1) == 0) label_ = host;
  options.read("label", label_, "a string (the sensor's name)");
  if (label_.empty()) options.fail("label", "must not be empty");
}

}  // namespace stash53::enrich
