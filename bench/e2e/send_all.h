// SendAll: writes a whole text to a socket (no SIGPIPE), for benchmark
// clients that build many JSON messages into one buffer and send it in one
// go rather than one syscall per message.
//
// Thread-safety: pure function.
#ifndef BENCH_E2E_SEND_ALL_H_
#define BENCH_E2E_SEND_ALL_H_

#include <string>

namespace bench {

// False with *error if the socket fails before everything was written.
bool SendAll(int fd, const std::string& text, std::string* error);

}  // namespace bench

#endif  // BENCH_E2E_SEND_ALL_H_
