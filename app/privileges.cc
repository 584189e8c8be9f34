// Least privilege with libcap-ng: capng_change_id() does setresgid, setgroups, setresuid and
// the capability sets in the one order that works (keep-caps around the uid change, the
// bounding set while CAP_SETPCAP is still held); we choose the target and check the result.
#include "app/privileges.h"

#include <cap-ng.h>
#include <grp.h>
#include <linux/capability.h>
#include <pwd.h>
#include <sys/prctl.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <optional>
#include <stdexcept>
#include <string>
#include <system_error>
#include <thread>
#include <utility>
#include <vector>

#include "common/log.h"

namespace stash53::app {
namespace {

constexpr const char* kDefaultUser = "stash53";
constexpr const char* kFallbackUser = "nobody";

std::string errno_text(int err) { return std::generic_category().message(err); }

[[noreturn]] void fail_errno(const std::string& what, int err) {
  throw std::runtime_error(what + ": " + errno_text(err));
}

struct Account {
  std::string name;
  uid_t uid = 0;
  gid_t gid = 0;  // primary group
};

struct Group {
  std::string name;
  gid_t gid = 0;
};

// The reentrant lookups (getpwnam_r and friends) with a buffer grown on ERANGE. The entry's
// strings point into that buffer, so `copy` turns it into an owning value while it lives.
// "Not found" is a null result; any other error is a failure of the lookup itself (NSS).
template <typename Entry, typename Call, typename Copy>
auto lookup(const std::string& what, Call&& call, Copy&& copy)
    -> std::optional<decltype(copy(std::declval<const Entry&>()))> {
  const long hint = sysconf(_SC_GETPW_R_SIZE_MAX);
  std::vector<char> buf(hint > 0 ? static_cast<std::size_t>(hint) : 1024);
  for (;;) {
    Entry entry{};
    Entry* result = nullptr;
    const int rc = call(&entry, buf.data(), buf.size(), &result);
    if (rc == ERANGE && buf.size() < (1U << 20)) {
      buf.resize(buf.size() * 2);
      continue;
    }
    // getpwnam_r(3) lists ENOENT, ESRCH, EBADF and EPERM as other ways to say "not found".
    if (rc == 0 || rc == ENOENT || rc == ESRCH || rc == EBADF || rc == EPERM) {
      if (result == nullptr) return std::nullopt;
      return copy(entry);
    }
    fail_errno("cannot look up " + what, rc);
  }
}

Account copy_account(const passwd& pw) { return Account{pw.pw_name, pw.pw_uid, pw.pw_gid}; }
Group copy_group(const group& gr) { return Group{gr.gr_name, gr.gr_gid}; }

std::optional<Account> user_by_name(const std::string& name) {
  return lookup<passwd>(
      "user '" + name + "'",
      [&](passwd* e, char* b, std::size_t n, passwd** r) {
        return getpwnam_r(name.c_str(), e, b, n, r);
      },
      copy_account);
}

std::optional<Group> group_by_name(const std::string& name) {
  return lookup<group>(
      "group '" + name + "'",
      [&](group* e, char* b, std::size_t n, group** r) {
        return getgrnam_r(name.c_str(), e, b, n, r);
      },
      copy_group);
}

// For the log line: the name of a uid or gid, or the number when the database has none.
std::string user_name(uid_t uid) {
  auto a = lookup<passwd>(
      "uid " + std::to_string(uid),
      [&](passwd* e, char* b, std::size_t n, passwd** r) { return getpwuid_r(uid, e, b, n, r); },
      copy_account);
  return a ? a->name : std::to_string(uid);
}

std::string group_name(gid_t gid) {
  auto g = lookup<group>(
      "gid " + std::to_string(gid),
      [&](group* e, char* b, std::size_t n, group** r) { return getgrgid_r(gid, e, b, n, r); },
      copy_group);
  return g ? g->name : std::to_string(gid);
}

Account resolve_user(const PrivilegeOptions& options) {
  if (!options.user.empty()) {
    auto a = user_by_name(options.user);
    if (!a) throw std::runtime_error("user '" + options.user + "' does not exist");
    return *a;
  }
  if (auto a = user_by_name(kDefaultUser)) return *a;
  if (auto a = user_by_name(kFallbackUser)) return *a;
  throw std::runtime_error(std::string("neither user '") + kDefaultUser + "' nor '" +
                           kFallbackUser + "' exists; name one with --user");
}

Group resolve_group(const PrivilegeOptions& options, const Account& user) {
  if (options.group.empty()) return Group{group_name(user.gid), user.gid};
  auto g = group_by_name(options.group);
  if (!g) throw std::runtime_error("group '" + options.group + "' does not exist");
  return *g;
}

// Capabilities, uids and no-new-privs are per thread: a thread started earlier would keep
// root. /proc/self/task lists the threads; without /proc there is nothing to check with. A
// thread that was joined may still be listed for a moment (ZeroMQ's, of the context that
// probes a bind address): only one still there after 100 ms counts.
void require_single_thread() {
  std::error_code ec;
  std::size_t threads = 0;
  for (int attempt = 0; attempt < 50; ++attempt) {
    threads = 0;
    for (std::filesystem::directory_iterator it("/proc/self/task", ec), end; !ec && it != end;
         it.increment(ec))
      ++threads;
    if (ec || threads <= 1) return;
    std::this_thread::sleep_for(std::chrono::milliseconds(2));
  }
  if (threads > 1)
    throw std::runtime_error(std::to_string(threads) +
                             " threads are already running; privileges must be dropped "
                             "before any thread starts");
}

std::string change_id_error(int rc) {
  // The return codes of capng_change_id(3), libcap-ng 0.8.
  switch (rc) {
    case -1:
      return "libcap-ng is not initialised";
    case -2:
      return "PR_SET_KEEPCAPS failed";
    case -3:
      return "capset (temporary CAP_SETUID/CAP_SETGID/CAP_SETPCAP) failed";
    case -4:
      return "setresgid failed";
    case -5:
      return "setgroups (dropping supplementary groups) failed";
    case -6:
      return "setresuid failed";
    case -7:
      return "clearing PR_SET_KEEPCAPS failed";
    case -8:
      return "clearing the bounding set failed";
    case -9:
      return "capset (dropping every capability) failed";
    case -10:
      return "the user's passwd entry was not found";
    default:
      return "error " + std::to_string(rc);
  }
}

// Linux < 4.3 has no ambient set (EINVAL); then there is nothing to clear.
void clear_ambient() {
  if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0) != 0 && errno != EINVAL)
    fail_errno("cannot clear the ambient capabilities", errno);
}

void set_no_new_privs() {
  if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0) fail_errno("cannot set no-new-privs", errno);
}

// The capabilities still held in one set, as libcap-ng names them ("none" when empty).
std::string held(capng_type_t which) {
  char* text = capng_print_caps_text(CAPNG_PRINT_BUFFER, which);
  if (text == nullptr) return "?";
  std::string s(text);
  std::free(text);  // NOLINT(cppcoreguidelines-no-malloc): libcap-ng allocates with malloc
  return s;
}

// Reads the process's sets back from the kernel and throws unless every set checked is empty.
// capng_have_capabilities(CAPNG_SELECT_CAPS) only looks at the effective set, so each set is
// listed by name instead, which also tells the operator what is left.
void verify_no_capabilities(bool check_bounding) {
  if (capng_get_caps_process() != 0) fail_errno("cannot read the capabilities back", errno);
  struct Set {
    capng_type_t type;
    const char* name;
  };
  std::vector<Set> sets{{CAPNG_EFFECTIVE, "effective"},
                        {CAPNG_PERMITTED, "permitted"},
                        {CAPNG_INHERITABLE, "inheritable"},
                        {CAPNG_AMBIENT, "ambient"}};
  if (check_bounding) sets.push_back({CAPNG_BOUNDING_SET, "bounding"});
  std::string left;
  for (const auto& set : sets) {
    const std::string names = held(set.type);
    if (names != "none") left += std::string(left.empty() ? "" : "; ") + set.name + ": " + names;
  }
  if (capng_have_capabilities(CAPNG_SELECT_CAPS) != CAPNG_NONE && left.empty())
    left = "effective: (unnamed)";
  if (!left.empty())
    throw std::runtime_error("capabilities remain after dropping them (" + left + ")");
  if (prctl(PR_GET_NO_NEW_PRIVS, 0, 0, 0, 0) != 1)
    throw std::runtime_error("no-new-privs is not set after setting it");
}

void verify_ids(uid_t uid, gid_t gid) {
  uid_t ru = 0, eu = 0, su = 0;
  gid_t rg = 0, eg = 0, sg = 0;
  if (getresuid(&ru, &eu, &su) != 0) fail_errno("getresuid", errno);
  if (getresgid(&rg, &eg, &sg) != 0) fail_errno("getresgid", errno);
  if (ru != uid || eu != uid || su != uid)
    throw std::runtime_error("uids are " + std::to_string(ru) + "/" + std::to_string(eu) + "/" +
                             std::to_string(su) + ", expected " + std::to_string(uid));
  if (rg != gid || eg != gid || sg != gid)
    throw std::runtime_error("gids are " + std::to_string(rg) + "/" + std::to_string(eg) + "/" +
                             std::to_string(sg) + ", expected " + std::to_string(gid));
  const int groups = getgroups(0, nullptr);
  if (groups != 0)
    throw std::runtime_error(std::to_string(groups) + " supplementary groups remain");
}

// Started as root: pick the account, chroot, then let libcap-ng switch ids and drop
// everything in one call.
void drop_as_root(const PrivilegeOptions& options) {
  Account user;
  if (options.allow_root) {
    if (!options.user.empty()) {
      auto a = user_by_name(options.user);
      if (!a) throw std::runtime_error("user '" + options.user + "' does not exist");
      if (a->uid != 0)
        throw std::runtime_error("allow_root keeps uid 0, but user '" + options.user +
                                 "' was asked for too; give one or the other");
      user = *a;
    } else {
      user = Account{user_name(0), 0, 0};
    }
  } else {
    user = resolve_user(options);
    if (user.uid == 0)
      throw std::runtime_error("user '" + user.name +
                               "' is uid 0; pass --allow-root (privileges.allow_root) to keep "
                               "running as root");
  }
  // Before the chroot: the passwd and group databases live outside it.
  const Group grp = resolve_group(options, user);

  if (!options.chroot.empty()) {
    if (chroot(options.chroot.c_str()) != 0)
      fail_errno("cannot chroot to '" + options.chroot + "'", errno);
    // Without it the working directory stays outside the new root (chroot(2) NOTES).
    if (chdir("/") != 0) fail_errno("cannot chdir to / in the chroot", errno);
  }

  capng_clear(CAPNG_SELECT_ALL);
  const int rc = capng_change_id(
      static_cast<int>(user.uid), static_cast<int>(grp.gid),
      static_cast<capng_flags_t>(CAPNG_DROP_SUPP_GRP | CAPNG_CLEAR_BOUNDING | CAPNG_CLEAR_AMBIENT));
  if (rc != 0) {
    const int err = errno;
    throw std::runtime_error("cannot switch to user '" + user.name + "' (" +
                             std::to_string(user.uid) + "), group '" + grp.name + "' (" +
                             std::to_string(grp.gid) + "): " + change_id_error(rc) + ": " +
                             errno_text(err));
  }
  // CAPNG_CLEAR_AMBIENT only exists since libcap-ng 0.8 (older releases ignore the bit), so
  // clear the ambient set ourselves too; verify_no_capabilities() checks it either way.
  clear_ambient();
  set_no_new_privs();

  verify_ids(user.uid, grp.gid);
  verify_no_capabilities(true);
  log::info("privileges", "Running as user {} ({}), group {} ({}), no capabilities{}.", user.name,
            user.uid, grp.name, grp.gid,
            options.chroot.empty() ? std::string() : ", chrooted to " + options.chroot);
}

// Started unprivileged (file capabilities, systemd AmbientCapabilities=): the ids cannot
// change, so only the capabilities go.
void drop_as_user(const PrivilegeOptions& options) {
  const uid_t uid = geteuid();
  const gid_t gid = getegid();
  if (!options.user.empty()) {
    auto a = user_by_name(options.user);
    if (!a) throw std::runtime_error("user '" + options.user + "' does not exist");
    if (a->uid != uid || a->uid != getuid())
      throw std::runtime_error("cannot switch to user '" + options.user +
                               "': stash53 is not running as root (uid " + std::to_string(uid) +
                               "); start it as root or as that user");
  }
  if (!options.group.empty()) {
    auto g = group_by_name(options.group);
    if (!g) throw std::runtime_error("group '" + options.group + "' does not exist");
    if (g->gid != gid || g->gid != getgid())
      throw std::runtime_error("cannot switch to group '" + options.group +
                               "': stash53 is not running as root (gid " + std::to_string(gid) +
                               "); start it as root or with that group");
  }
  if (!options.chroot.empty())
    throw std::runtime_error("cannot chroot to '" + options.chroot +
                             "': stash53 is not running as root");

  if (capng_get_caps_process() != 0) fail_errno("cannot read the capabilities", errno);
  // PR_CAPBSET_DROP needs CAP_SETPCAP in the effective set; without it the bounding set stays,
  // which no-new-privs makes harmless (nothing can be gained through execve).
  const bool bounding = capng_have_capability(CAPNG_EFFECTIVE, CAP_SETPCAP) == 1;
  capng_clear(CAPNG_SELECT_ALL);
  const auto sets = static_cast<capng_select_t>(CAPNG_SELECT_CAPS | CAPNG_SELECT_AMBIENT |
                                                (bounding ? CAPNG_SELECT_BOUNDS : 0));
  if (const int rc = capng_apply(sets); rc != 0) {
    const int err = errno;
    throw std::runtime_error("cannot drop the capabilities (capng_apply " + std::to_string(rc) +
                             "): " + errno_text(err));
  }
  clear_ambient();
  set_no_new_privs();

  verify_no_capabilities(bounding);
  log::info("privileges", "Running as user {} ({}), group {} ({}), no capabilities{}.",
            user_name(uid), uid, group_name(gid), gid,
            bounding ? "" : " (bounding set kept: no CAP_SETPCAP)");
}

}  // namespace

void drop_privileges(const PrivilegeOptions& options) {
  require_single_thread();
  if (geteuid() == 0)
    drop_as_root(options);
  else
    drop_as_user(options);
}

}  // namespace stash53::app
