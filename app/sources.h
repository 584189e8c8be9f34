#pragma once
// Which source the config asks for: a file (its kind read from its bytes), a live interface,
// or dnstap sockets.

#include <memory>

#include "capture/source.h"
#include "config/config.h"

namespace stash53::app {

/// Opens the source and logs what it reads. Throws std::runtime_error.
[[nodiscard]] std::unique_ptr<capture::Source> open_source(const config::Config& cfg);

}  // namespace stash53::app
