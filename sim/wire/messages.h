// Messages between the simulated liblustreapi (sim/llapi) and the simulated
// MDT daemon (sim/mdt). They play the part of Lustre's ioctls and MDS RPCs.
//
// Transport: an AF_UNIX SOCK_SEQPACKET socket at <mount>/.lustre/mdt.sock, so
// one send is one message and framing is free. Every request and every reply
// is a MsgHeader followed by `payload_len` bytes; a request that names a file
// by descriptor carries that descriptor as SCM_RIGHTS ancillary data (the
// daemon fstat()s it, so no path needs to be trusted). All integers are host
// order: client and daemon always run on the same machine.
//
// Replies carry the request's `seq` and a `status` that is 0 or a negative
// errno, exactly what the llapi call returns. A malformed request gets a
// reply with status -EPROTO (or -E2BIG when too long) and the connection
// stays usable.
//
// After a successful kRegister reply the connection changes role: it becomes
// the copytool's KUC channel. From then on the daemon only sends raw KUC
// messages on it (struct kuc_hdr + hsm_action_list, one per packet, exactly
// Lustre's framing) and the library reads them in llapi_hsm_copytool_recv().
// Closing it unregisters the agent (as closing the registering fd does in
// Lustre).
#ifndef SIM_WIRE_MESSAGES_H_
#define SIM_WIRE_MESSAGES_H_

#include <linux/lustre/lustre_idl.h>
#include <linux/lustre/lustre_user.h>

#include <cstddef>
#include <cstdint>

namespace sim::wire {

inline constexpr uint32_t kMagic = 0x4D49534C;  // "LSIM"
inline constexpr uint16_t kVersion = 1;
// Largest packet either side sends or accepts (header included). A KUC
// message is at most 65535 bytes (kuc_msglen is a u16).
inline constexpr size_t kMaxMessage = 64 * 1024;

// Relative to the mount point.
inline constexpr const char* kSocketPath = ".lustre/mdt.sock";
inline constexpr const char* kFsnameFile = ".lustre/fsname";  // "lustre\n"
inline constexpr const char* kFidDir = ".lustre/fid";

enum class MsgType : uint16_t {
  kReply = 1,
  // Copytool.
  kRegister = 10,   // RegisterReq (+ archives[]) -> empty; then KUC channel
  kCopyStart = 11,  // CopyReq -> empty           (LL_IOC_HSM_COPY_START)
  kProgress = 12,   // hsm_progress -> empty      (LL_IOC_HSM_PROGRESS)
  kCopyEnd = 13,    // CopyReq [+fd: restore volatile] -> empty
  // Files (each carries the file's fd as SCM_RIGHTS).
  kFd2Fid = 20,         // empty + fd -> lu_fid (allocates one on first sight)
  kStateGet = 21,       // empty + fd -> hsm_user_state
  kStateSet = 22,       // hsm_state_set + fd -> empty
  kCurrentAction = 23,  // empty + fd -> hsm_current_action
  kImport = 24,         // hsm_user_import + fd -> lu_fid
  kDataVersion = 25,    // empty + fd -> u64 data version
  kRelease = 26,      // lu_fid -> empty  (what the client does for HUA_RELEASE)
  kWaitRestore = 27,  // lu_fid -> empty once no restore holds the file
  kFidAlloc = 28,     // empty + fd -> lu_fid: a volatile (restore target) FID
  kDataVersionSet = 29,  // u64 + fd -> empty (LL_IOC_HSM_DATA_VERSION)
  // By FID.
  kFid2Path = 30,    // Fid2PathReq -> path relative to the mount, no NUL
  kHsmRequest = 31,  // hsm_user_request bytes -> empty (LL_IOC_HSM_REQUEST)
  // Tunables and debugfs (sim-lctl).
  kGetParam = 40,   // name -> text value
  kSetParam = 41,   // "name=value" -> empty
  kListParam = 42,  // empty -> names, one per line
  // The coordinator bypass of LU-10968 (docs/upcall.md), an unmerged Lustre
  // patch: the begin and end of an action an upcall took out of the
  // coordinator, sent by `sim-lfs hsm_upcall`. Never part of stock Lustre.
  kUpcallBegin = 50,  // UpcallReq [+ fd: archive] -> u64 data version
  kUpcallEnd = 51,    // UpcallReq [+ fd: archive] -> empty
};

// kGetParam: the payload is the name, optionally followed by a NUL and a
// decimal byte offset into the value. The reply carries at most kParamChunk
// bytes of the value from that offset; a reply of exactly kParamChunk bytes
// means more may follow (read on at offset + kParamChunk). Values such as
// hsm.actions can exceed one packet.
inline constexpr size_t kParamChunk = 60000;

struct MsgHeader {
  uint32_t magic;
  uint16_t version;
  uint16_t type;         // MsgType
  uint32_t seq;          // echoed in the reply
  int32_t status;        // replies: 0 or -errno; requests: 0
  uint32_t payload_len;  // bytes after the header
  uint32_t reserved;
};
static_assert(sizeof(MsgHeader) == 24);

struct RegisterReq {
  uint32_t archive_count;  // 0 = all archives
  uint32_t pid;
  char uuid[40];  // agent uuid; empty: the daemon makes one
  // followed by archive_count uint32_t archive ids
};
static_assert(sizeof(RegisterReq) == 48);

// kCopyStart/kCopyEnd: the hsm_copy Lustre's COPY_START/COPY_END ioctls
// carry. hc_hai is the fixed 72-byte item (hai_len forced to 72);
// hc_data_version is the version the library sampled (archive) or the
// volatile's version (restore end).
struct CopyReq {
  struct hsm_copy copy;
};
static_assert(sizeof(CopyReq) == 88);

struct Fid2PathReq {
  struct lu_fid fid;
  int64_t recno;
  int32_t linkno;
  uint32_t reserved;
};

// kUpcallBegin/kUpcallEnd (LU-10968 bypass). An archive carries the file
// open as its fd (the daemon samples the data version at begin and checks
// it at end); a remove names the file by `fid` only (it may be gone).
struct UpcallReq {
  struct lu_fid fid;
  uint32_t action;        // HSMA_ARCHIVE or HSMA_REMOVE
  uint32_t archive_id;    // 1 .. ; the archive the worker wrote to
  uint64_t data_version;  // end of an archive: what begin answered
  int32_t errval;         // end: the worker's status, 0 or a positive errno
  uint32_t reserved;
};
static_assert(sizeof(UpcallReq) == 40);

// kHsmRequest of the implicit restore Lustre's client sends when I/O meets
// a released file: the whole file, HSM_REQ_BLOCKING (docs/simulator.md).
// Sent by `sim-lfs hsm_read` (llapi) and by the FUSE mount (daemon).
struct ImplicitRestoreReq {
  struct hsm_request request;
  struct hsm_user_item item;
} __attribute__((packed));

inline ImplicitRestoreReq MakeImplicitRestore(const lu_fid& fid) {
  ImplicitRestoreReq hur{};
  hur.request.hr_action = HUA_RESTORE;
  hur.request.hr_flags = HSM_REQ_BLOCKING;
  hur.request.hr_itemcount = 1;
  hur.item.hui_fid = fid;
  hur.item.hui_extent.offset = 0;
  hur.item.hui_extent.length = OBD_OBJECT_EOF;
  return hur;
}

}  // namespace sim::wire

#endif  // SIM_WIRE_MESSAGES_H_
