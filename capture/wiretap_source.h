#pragma once
// Capture files libpcap cannot read whole (a pcapng whose interfaces have different link
// types), read with Wireshark's libwiretap, loaded at run time.

#include <memory>
#include <string>

#include "capture/source.h"

namespace stash53::capture {

/// A source reading `path` with libwiretap, passing only packets that match the BPF filter
/// `bpf` (empty: all), or null with `why_not` set when libwiretap is not there. Throws
/// std::runtime_error when it is there but cannot read the file.
[[nodiscard]] std::unique_ptr<Source> open_wiretap(const std::string& path, const std::string& bpf,
                                                   std::string& why_not);

}  // namespace stash53::capture
