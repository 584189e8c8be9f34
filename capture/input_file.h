#pragma once
// `-r FILE`: what a file holds is read from its first bytes, never from its name, so `-r -`
// works for every kind.

#include <cstdio>
#include <memory>
#include <string>

namespace stash53::capture {

enum class FileKind : unsigned char { Pcap, Pcapng, FrameStream, Text };

/// An opened input, positioned at its first byte. Its kind was read from it: for standard input
/// the bytes read stay in front of the rest (a pipe cannot seek back).
struct InputFile {
  FileKind kind = FileKind::Text;
  std::unique_ptr<FILE, int (*)(FILE*)> file{nullptr, &std::fclose};
};

/// Opens `path` ("-": standard input). Throws std::runtime_error naming the file and errno.
[[nodiscard]] InputFile open_input(const std::string& path);

[[nodiscard]] const char* file_kind_name(FileKind k) noexcept;

}  // namespace stash53::capture
