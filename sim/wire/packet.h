// Sending and receiving one wire packet (MsgHeader + payload, optionally one
// file descriptor as SCM_RIGHTS) on a SOCK_SEQPACKET socket.
//
// Thread-safety: the functions are reentrant; callers serialise use of one
// socket themselves.
#ifndef SIM_WIRE_PACKET_H_
#define SIM_WIRE_PACKET_H_

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "common/unique_fd.h"
#include "sim/wire/messages.h"

namespace sim::wire {

struct Packet {
  MsgHeader header{};
  std::string payload;
  common::UniqueFd fd;  // received descriptor, if any

  MsgType type() const { return static_cast<MsgType>(header.type); }
};

// Sends header + payload (+ `fd` as SCM_RIGHTS when fd >= 0) as one packet.
// Returns 0, or -errno (-EAGAIN on a full non-blocking socket, -EPIPE when
// the peer is gone). Never raises SIGPIPE.
int SendPacket(int sock, MsgType type, uint32_t seq, int32_t status,
               std::string_view payload, int fd = -1);

// Sends raw bytes as one packet (KUC messages, or deliberately malformed
// packets in tests). Same return values as SendPacket.
int SendRaw(int sock, std::string_view bytes, int fd = -1);

// Receives one packet. Returns 0 with *out filled; -EAGAIN when a
// non-blocking socket has nothing; -EPIPE at end of stream; -EPROTO for a
// malformed packet (bad magic or version, truncated, payload_len that does not
// match the bytes received), with *error saying what was wrong. A received
// descriptor is owned by *out even when the packet is malformed.
int RecvPacket(int sock, Packet* out, std::string* error);

// Checks and splits the bytes of one received packet into *out's header and
// payload (the descriptor is left alone). Returns 0, or -EPROTO with *error
// set, for the malformed packets RecvPacket describes.
int ParsePacket(std::string_view bytes, Packet* out, std::string* error);

// Receives one raw packet of at most `max` bytes into *out. Returns 0,
// -EAGAIN, -EPIPE, or -EMSGSIZE if the packet was longer than `max`.
int RecvRaw(int sock, std::string* out, size_t max, common::UniqueFd* fd);

// Connects a SOCK_SEQPACKET socket (close-on-exec) to `path`. Works for paths
// longer than sun_path by connecting through /proc/self/fd. Returns the fd or
// -errno.
int ConnectSeqPacket(const std::string& path);

}  // namespace sim::wire

#endif  // SIM_WIRE_PACKET_H_
