// Fuzz target: a KUC message as a copytool receives it, through the
// simulated liblustreapi's llapi_hsm_copytool_recv() (its KUC framing checks,
// then the HAL decode), on a real SOCK_SEQPACKET socket pair. The input is
// one packet; a shutdown message follows it so that a packet recv skips
// (another transport, another archive) ends the call.
// Properties: no crash or undefined behaviour; a HAL recv hands out walks
// with hai_first()/hai_next() for hal_count items inside the `msgsize`
// bytes it reported.
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "fuzz/fuzz_util.h"
#include "hsm/hal.h"
#include "hsm/lustreapi.h"
#include "sim/llapi/copytool_private.h"
#include "sim/wire/packet.h"

namespace {

// One channel per archive filter, kept for the whole run: a fresh handle
// costs a 1 MiB receive buffer and a socket pair, which made the target ten
// times slower. Packets an input leaves unread are drained after it.
struct Channel {
  int peer = -1;  // the MDT's end
  hsm_copytool_private* ct = nullptr;
};

Channel& ChannelFor(uint32_t archive, const std::string& root) {
  static Channel channels[4];
  Channel& c = channels[archive];
  if (c.ct) return c;
  int pair[2];
  if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, pair) < 0) abort();
  int sndbuf = 1 << 20;
  setsockopt(pair[1], SOL_SOCKET, SO_SNDBUF, &sndbuf, sizeof(sndbuf));
  c.peer = pair[1];
  c.ct = sim::llapi::TEST_MakeCopytool(
      pair[0], root,
      archive ? std::vector<uint32_t>{archive} : std::vector<uint32_t>{});
  return c;
}

void Drain(const Channel& c) {
  char buf[16];
  while (recv(llapi_hsm_copytool_get_fd(c.ct), buf, sizeof(buf),
              MSG_DONTWAIT) >= 0) {
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static fuzz::ScratchDir root;
  // Empty packets read as end of stream when the peer is gone; the channel
  // stays open here, but keep the input meaningful: at least one byte, and
  // byte 0 chooses the archive filter (0: all, else that archive).
  if (size < 1 || size > 70000) return 0;
  const uint32_t archive = data[0] % 4;
  std::string_view packet(reinterpret_cast<const char*>(data) + 1, size - 1);
  if (packet.empty()) return 0;

  Channel& channel = ChannelFor(archive, root.path());
  if (sim::wire::SendRaw(channel.peer, packet) != 0 ||
      sim::wire::SendRaw(channel.peer, hsm::KucShutdownMessage()) != 0)
    abort();

  hsm_action_list* hal = nullptr;
  int msgsize = -1;
  int rc = llapi_hsm_copytool_recv(channel.ct, &hal, &msgsize);
  if (rc == 0) {
    FUZZ_CHECK(hal != nullptr);
    FUZZ_CHECK(msgsize >= static_cast<int>(hsm::kHalHeaderSize));
    FUZZ_CHECK(static_cast<size_t>(msgsize) + sizeof(kuc_hdr) == packet.size());
    if (archive) FUZZ_CHECK(hal->hal_archive_id == archive);
    const char* start = reinterpret_cast<const char*>(hal);
    hsm_action_item* hai = hai_first(hal);
    for (uint32_t i = 0; i < hal->hal_count; ++i) {
      size_t at = reinterpret_cast<const char*>(hai) - start;
      FUZZ_CHECK(at + hsm::kHaiFixedSize <= static_cast<size_t>(msgsize));
      FUZZ_CHECK(at + hai->hai_len <= static_cast<size_t>(msgsize));
      hai = hai_next(hai);
    }
  } else {
    FUZZ_CHECK(hal == nullptr && msgsize == 0);
    FUZZ_CHECK(rc == -EPROTO || rc == -EMSGSIZE || rc == -ESHUTDOWN);
  }
  Drain(channel);
  return 0;
}
