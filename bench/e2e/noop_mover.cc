// noop_mover: one mover of coordinatool_bench's `--preload-movers` runs,
// the path a real mover takes: a no-op copytool (bench/sim/noop_copytool.h:
// llapi_hsm_action_begin and _end at once for each item, no data moved)
// registered on MOUNT, run by the bench under LD_PRELOAD with the preload
// library, which connects it to the server. Runs until SIGTERM or SIGINT,
// then prints what it completed.
//
//   noop_mover MOUNT WORKERS
#include <pthread.h>
#include <signal.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>

#include "bench/sim/noop_copytool.h"

int main(int argc, char** argv) {
  if (argc != 3) {
    std::fprintf(stderr, "usage: %s MOUNT WORKERS\n", argv[0]);
    return 2;
  }
  const int workers = std::atoi(argv[2]);
  if (workers < 1) {
    std::fprintf(stderr, "WORKERS must be at least 1, not '%s'\n", argv[2]);
    return 2;
  }
  // Blocked in every thread (they inherit it), taken by sigwait below.
  sigset_t stop;
  sigemptyset(&stop);
  sigaddset(&stop, SIGTERM);
  sigaddset(&stop, SIGINT);
  pthread_sigmask(SIG_BLOCK, &stop, nullptr);
  bench::NoopCopytool copytool;
  if (int rc = copytool.Start(argv[1], workers); rc < 0) {
    std::fprintf(stderr, "cannot register on %s: %s\n", argv[1],
                 std::strerror(-rc));
    return 1;
  }
  int signo = 0;
  sigwait(&stop, &signo);
  copytool.Stop();
  std::printf("completed %llu failed %llu\n",
              static_cast<unsigned long long>(copytool.Completed()),
              static_cast<unsigned long long>(copytool.Failed()));
  return 0;
}
