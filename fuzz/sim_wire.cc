// Fuzz target: the simulator's wire packets as sim-mdt reads them
// (sim::wire::ParsePacket, the checks RecvPacket applies to every received
// packet) and its request handler (sim::mdt::RpcHandler, everything sim-mdt
// does with a request but the socket), on a fresh simulated MDT with one
// registered agent.
// Input: a sequence of records [u8 control][u16 length, LE][length bytes],
// each one packet. Control bits: 0-1 the descriptor sent with it (none,
// MOUNT/f0, MOUNT/f1, a file outside the mount), 2 an unprivileged caller,
// 3 the header's magic, version and payload_len are set right (so most
// inputs reach the handler), 4-7 seconds the clock moves on after it.
// Properties: no crash or undefined behaviour; a refused packet says why;
// replies carry 0 or a negative errno; every HAL the coordinator then sends
// is well framed and decodes.
#include <spdlog/spdlog.h>

#include <cerrno>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string>

#include "fuzz/fuzz_util.h"
#include "fuzz/sim_world.h"
#include "sim/wire/packet.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static fuzz::ScratchDir root_dir;
  static fuzz::ScratchDir* root = [] {
    spdlog::set_level(spdlog::level::off);
    return &root_dir;
  }();
  fuzz::SimWorld world(root->path(), nullptr);
  FUZZ_CHECK(world.open_rc() == 0);
  FUZZ_CHECK(world.cdt().Control("enabled") == 0);
  world.cdt().tunables().min_scan_interval_ms = 0;
  FUZZ_CHECK(world.cdt().RegisterAgent("agent-0", {}) == 0);
  sim::mdt::ParamCache cache;

  while (size >= 3) {
    const uint8_t control = data[0];
    size_t len = data[1] | size_t{data[2]} << 8;
    data += 3;
    size -= 3;
    if (len > size) len = size;
    std::string bytes(reinterpret_cast<const char*>(data), len);
    data += len;
    size -= len;

    if ((control & 8) && bytes.size() >= sizeof(sim::wire::MsgHeader)) {
      sim::wire::MsgHeader header;
      memcpy(&header, bytes.data(), sizeof(header));
      header.magic = sim::wire::kMagic;
      header.version = sim::wire::kVersion;
      header.payload_len = static_cast<uint32_t>(bytes.size() - sizeof(header));
      memcpy(bytes.data(), &header, sizeof(header));
    }
    sim::wire::Packet packet;
    std::string error;
    if (sim::wire::ParsePacket(bytes, &packet, &error) != 0) {
      FUZZ_CHECK(!error.empty());
      continue;
    }
    FUZZ_CHECK(packet.payload.size() == packet.header.payload_len);
    if (control & 3) packet.fd = world.OpenFile((control & 3) - 1);
    sim::mdt::Caller caller;
    if (control & 4) caller = {1000, 1000, 4242};
    sim::mdt::RpcReply reply = world.rpc().Handle(caller, packet, &cache);
    FUZZ_CHECK(reply.status <= 0);
    if (reply.status < 0) FUZZ_CHECK(reply.payload.empty());
    FUZZ_CHECK(reply.payload.size() + sizeof(sim::wire::MsgHeader) <=
               sim::wire::kMaxMessage);
    world.clock().Advance(std::chrono::seconds(control >> 4));
    world.cdt().RunDue();
    world.journal().Flush();
  }
  return 0;
}
