#include "copytool/posix/log.h"

#include <sys/syscall.h>
#include <sys/time.h>
#include <unistd.h>

namespace ct {

std::string LogPrefix() {
  timeval now{};
  gettimeofday(&now, nullptr);
  return fmt::format("{}.{:06} [{}]: ", now.tv_sec, now.tv_usec,
                     static_cast<long>(syscall(SYS_gettid)));
}

}  // namespace ct
