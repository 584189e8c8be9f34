#pragma once
// Least privilege: after the capture and the output files are open, become an unprivileged
// user with no capabilities, so a bug in a decoder of hostile input cannot act as root.

#include <string>

namespace stash53::app {

/// Config section `privileges` and the flags --user, --group, --chroot, --allow-root.
struct PrivilegeOptions {
  std::string user;   // empty: `stash53` if that user exists, else `nobody`
  std::string group;  // empty: the user's primary group
  std::string chroot; // empty: none
  bool allow_root = false;  // keep running as root (capabilities are still dropped)
};

/// Drops to the configured user and group, clears supplementary groups, drops every
/// capability (effective, permitted, inheritable, ambient and the bounding set) and sets
/// no-new-privs; chroots first when asked. Must run before any thread is started (capabilities
/// are per thread). Run as an unprivileged user, only the capabilities are dropped. Logs what
/// it did. Throws std::runtime_error naming what failed.
void drop_privileges(const PrivilegeOptions& options);

}  // namespace stash53::app
