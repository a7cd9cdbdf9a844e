// The `upcall` command and upcalled items (docs/upcall.md): requests that a
// Lustre carrying the LU-10968 patch (never merged upstream) took out of its
// coordinator and handed to coordinatool-upcall, which queues them here.
//
// Upcalled items are ordinary queue items with two marks, set only by the
// server when it takes an `upcall`:
//  * their cookie has the top bit set. Lustre's cookies count up from the
//    Unix time in seconds at the coordinator's first start, so they stay far
//    below 2^63: an upcalled item's identity (cookie, FID) never equals a
//    Lustre request's, whatever the FID;
//  * they wait under archive id `kUpcallArchiveBit | N` for Lustre archive
//    N, a queue space of their own (Lustre's archive ids, and the protocol's
//    `archive_ids`, stay below 2^31): only upcall workers, whose `ehlo` says
//    `upcall_worker`, take them, and they never take anything else.
//
// Thread-safety: pure functions and value types.
#ifndef PROTOCOL_UPCALL_H_
#define PROTOCOL_UPCALL_H_

#include <boost/json.hpp>
#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "hsm/hal.h"
#include "protocol/action_item.h"
#include "protocol/messages.h"

namespace protocol {

inline constexpr uint64_t kUpcallCookieBit = 1ULL << 63;
inline constexpr uint32_t kUpcallArchiveBit = 1u << 31;
// FIDs one upcall may carry: Lustre sends at most what fits a request of
// MDS_MAXREQSIZE / 3 bytes (~50), so this leaves room for any patch.
inline constexpr size_t kMaxUpcallFids = 100'000;

inline bool IsUpcalledCookie(uint64_t cookie) {
  return (cookie & kUpcallCookieBit) != 0;
}
inline bool IsUpcallArchive(uint32_t archive_id) {
  return (archive_id & kUpcallArchiveBit) != 0;
}
// The Lustre archive id of a queue's archive id (itself for others).
inline uint32_t LustreArchiveOf(uint32_t archive_id) {
  return archive_id & ~kUpcallArchiveBit;
}

// What an upcall was given: ACTION FSNAME ARCHIVE_ID FLAGS DATA FID...
struct UpcallRequest {
  uint32_t action = 0;  // HSMA_ARCHIVE or HSMA_REMOVE
  std::string fsname;
  uint32_t archive_id = 0;  // 1 .. 2^31-1
  uint64_t flags = 0;       // the request's hr_flags
  std::string data;         // bytes, as in hai_data
  std::vector<lu_fid> fids;
};

// Reads the upcall's command line as the MDT passes it (ACTION FSNAME
// ARCHIVE_ID FLAGS DATA FID..., without the program's name). False with
// *error naming the bad argument.
bool ParseUpcallArgs(std::span<const std::string> args, UpcallRequest* out,
                     std::string* error);

// The `upcall` command: {"command": "upcall", "action": "ARCHIVE" |
// "REMOVE", "fsname", "archive_id", "flags", "data" | "data_base64",
// "fids": [FID, ...]}. Every field is checked; *error names the bad one.
bool Parse(const boost::json::object& m, UpcallRequest* out,
           std::string* error);
boost::json::object ToJson(const UpcallRequest& request);

// Sent only once every item is durable in the server's store.
struct UpcallReply {
  ReplyHeader header;
  int64_t enqueued = 0;
};
void Parse(const boost::json::object& m, UpcallReply* out);
boost::json::object ToJson(const UpcallReply& reply);

// The queue items of `request`, one per FID, with cookies `first_cookie`,
// `first_cookie + 1`... (each with kUpcallCookieBit), archive id
// kUpcallArchiveBit | request.archive_id, the whole file as extent.
std::vector<WireItem> UpcallItems(const UpcallRequest& request,
                                  uint64_t first_cookie, int64_t now_ns);

}  // namespace protocol

#endif  // PROTOCOL_UPCALL_H_
