#pragma once
#include <pthread.h>

#include <string>

namespace stash53 {

/// Names the calling thread (truncated to the kernel's 15 characters) so `top -H` shows it.
inline void set_thread_name(const std::string& name) {
  pthread_setname_np(pthread_self(), name.substr(0, 15).c_str());
}

}  // namespace stash53
