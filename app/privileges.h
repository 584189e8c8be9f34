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
/// no-new-privs; chroots first when asked (the user is looked up before). Must run before any
/// thread is started (capabilities are per thread): throws if /proc/self/task lists more than
/// one. Run as an unprivileged user (file capabilities, systemd AmbientCapabilities=), only the
/// capabilities are dropped, the bounding set only if CAP_SETPCAP is held; a user, group or
/// chroot that would need root then throws. Reads the ids and capabilities back and throws
/// std::runtime_error naming what failed or remains ("user 'x' does not exist", a target of
/// uid 0 without allow_root, allow_root with a non-root user). Logs one info line on success.
void drop_privileges(const PrivilegeOptions& options);

}  // namespace stash53::app
