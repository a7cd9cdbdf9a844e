// SpawnAttr: owns a posix_spawnattr_t that gives the child every signal at
// its default disposition and an empty signal mask. Not copyable or movable
// (posix_spawnattr_t may not be copied). Thread-compatible.
//
// Why: the server ignores SIGPIPE, and ignored signals and the signal mask
// survive exec; without this a child of the server (or of a test that spawns
// it) would start with SIGPIPE ignored and misbehave on a closed pipe.
#ifndef COMMON_SPAWN_ATTR_H_
#define COMMON_SPAWN_ATTR_H_

#include <signal.h>
#include <spawn.h>

namespace common {

class SpawnAttr {
 public:
  SpawnAttr() {
    posix_spawnattr_init(&attr_);
    sigset_t all, none;
    sigfillset(&all);
    sigemptyset(&none);
    posix_spawnattr_setsigdefault(&attr_, &all);
    posix_spawnattr_setsigmask(&attr_, &none);
    posix_spawnattr_setflags(&attr_,
                             POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETSIGMASK);
  }
  ~SpawnAttr() { posix_spawnattr_destroy(&attr_); }
  SpawnAttr(const SpawnAttr&) = delete;
  SpawnAttr& operator=(const SpawnAttr&) = delete;

  // For posix_spawn(); valid while this object lives.
  const posix_spawnattr_t* get() const { return &attr_; }

 private:
  posix_spawnattr_t attr_;
};

}  // namespace common

#endif  // COMMON_SPAWN_ATTR_H_
