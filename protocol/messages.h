// The coordinatool's messages, typed (docs/protocol.md, "Commands"): one
// struct per request and per reply, each read once from its JSON object
// (Parse, false with an error that names the bad field) and written once
// (ToJson). The server, the preload library, coordinatool-client and the
// benchmarks' null movers all go through these, so a field is spelled, typed
// and defaulted in one place. Items inside messages use the one item codec,
// protocol/action_item.h.
//
// What is written is what the original coordinatool sends and reads: the
// same keys, in the same order, zero fields of replies omitted.
//
// Thread-safety: pure functions and value types.
#ifndef PROTOCOL_MESSAGES_H_
#define PROTOCOL_MESSAGES_H_

#include <array>
#include <boost/json.hpp>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "hsm/hal.h"
#include "protocol/action_item.h"
#include "protocol/item_id.h"

namespace protocol {

// ---------------------------------------------------------------- Commands

enum class Command {
  kEhlo,
  kRecv,
  kDone,
  kQueue,
  kStatus,
  kLock,
  kProgress,
  kHeartbeat,  // a sign of life, both ways; never answered
  kAuth,       // a token, before ehlo (docs/auth.md)
  kReconcile,  // Lustre's active requests, from the reconciler
  kDrain,      // an admin: no new work for one mover
  kResume,     // an admin: work for that mover again
  kShow,       // where the requests of one file are
  kList,       // a page of requests, filtered
  kUpcall,     // coordinatool-upcall: requests Lustre's upcall hands over
};

// "ehlo", "recv"...
std::string_view CommandName(Command command);

enum class CommandRead { kOk, kMissing, kUnknown };
// Reads "command". kMissing: absent or not a string; kUnknown: a string that
// names no command (*name is set to it). *error says which, for logs.
CommandRead ReadCommand(const boost::json::object& message, Command* command,
                        std::string* name, std::string* error);

// ------------------------------------------------------------ Reply header

// What every reply carries: `status`, an errno (positive; omitted when 0),
// and `error`, a text (omitted when empty).
struct ReplyHeader {
  int status = 0;
  std::string error;
};

// Reads the header of any reply: `status` as a positive errno (the original
// sometimes sends negative values), 0 when absent or not an integer, EPROTO
// when an integer out of an int's range (never a success); `error`
// "" when absent or not a string. Never fails: a reply is read as leniently
// as the original writes it.
ReplyHeader ReadReplyHeader(const boost::json::object& reply);

// A reply as the server writes it: `fields` without their zero numbers,
// empty strings and false values (readers take a missing field as zero),
// then "command", then `status` and `error` when set.
boost::json::object MakeReply(std::string_view command,
                              const ReplyHeader& header,
                              boost::json::object fields = {});

// Removes zero numbers and empty strings, and false when `booleans_too`.
void OmitZeros(boost::json::object& fields, bool booleans_too = true);

// ----------------------------------------------------------- Item lists

// One entry of a list of items, decoded alone: one bad entry costs only
// itself. `item` is meaningful when `error` is empty.
struct ListEntry {
  std::string error;  // "not an object", or the item codec's error
  // The entry as received (recv replies only: a mover re-announces its
  // items as it got them; queue and ehlo lists do not keep it).
  boost::json::value raw;
  // Last: WireItem ends with a flexible array member.
  WireItem item;

  bool ok() const { return error.empty(); }
};

// ------------------------------------------------------------------- ehlo

struct EhloRequest {
  std::optional<std::string> id;      // absent: an anonymous client
  std::optional<std::string> fsname;  // informative; not checked
  std::vector<uint32_t> archive_ids;  // each in 1 .. 2^31-1; empty: any
  bool progress = false;              // this mover sends `progress` heartbeats
  bool heartbeat = false;             // it answers the server's `heartbeat`
  // An upcall worker (docs/upcall.md): takes upcalled items only, of
  // `archive_ids` (or of every archive).
  bool upcall_worker = false;
  // `hai_list`: the items a mover still runs, after a reconnect. Read: an
  // entry without a readable item or a non-zero hal_archive_id has an
  // error and is skipped by the server. Written: each entry's `raw` when
  // set, else its item. Absent and empty are the same.
  std::vector<ListEntry> hai_list;
};
// Errors: "Bad archive id in list", "'progress' must be a boolean",
// "'hai_list' must be an array", "'id' must be a string", "'id' must be
// non-empty, without NUL". A non-boolean `heartbeat` and a non-string
// `fsname` are ignored, as the server always did.
bool Parse(const boost::json::object& m, EhloRequest* out, std::string* error);
boost::json::object ToJson(const EhloRequest& request);

struct EhloReply {
  ReplyHeader header;
  bool progress = false;     // the server takes `progress` heartbeats
  int64_t heartbeat_ms = 0;  // a silent mover is asked for a heartbeat
  // This run of the server (new at every start): a reconciler that sees a
  // new one sends Lustre's requests again. Empty: an older server.
  std::string instance;
};
void Parse(const boost::json::object& m, EhloReply* out);
boost::json::object ToJson(const EhloReply& reply);

// ------------------------------------------------------------------- auth

// A token for the server's auth file (docs/auth.md), sent right after
// connecting. The secret is never logged by either side.
struct AuthRequest {
  std::string token;
};
// Errors: "'token' is missing or not a string", "'token' is empty",
// "'token' is too long" (past kMaxTokenBytes).
inline constexpr size_t kMaxTokenBytes = 4096;
bool Parse(const boost::json::object& m, AuthRequest* out, std::string* error);
boost::json::object ToJson(const AuthRequest& request);

struct AuthReply {
  ReplyHeader header;    // EACCES: an unknown token
  std::string role;      // the connection's roles now: "mover,admin"...
  std::string identity;  // the name logs know it by: "token NAME"
};
void Parse(const boost::json::object& m, AuthReply* out);
boost::json::object ToJson(const AuthReply& reply);

// ------------------------------------------------------------------- recv

struct RecvRequest {
  // Negative: unlimited.
  int64_t max_archive = -1;
  int64_t max_restore = -1;
  int64_t max_remove = -1;
  int64_t max_bytes = hsm::kHalMaxSize;  // size of the mover's list buffer
};
// The smallest list buffer a recv may ask for: the original's limit, kept
// so that both servers refuse the same movers (docs/protocol.md, recv).
inline constexpr int64_t kMinRecvBytes = 172;
// Errors: "'KEY' must be an integer".
bool Parse(const boost::json::object& m, RecvRequest* out, std::string* error);
boost::json::object ToJson(const RecvRequest& request);

// The header of an action list, as Lustre's hsm_action_list has it.
struct ActionListHeader {
  uint64_t version = HAL_VERSION;
  uint32_t archive_id = 0;
  uint64_t flags = 0;
  std::string fsname;
};

struct RecvReply {
  ReplyHeader header;
  ActionListHeader hal;  // when header.status is 0
  std::vector<ListEntry> list;
};
// A reply whose status is not 0 reads as that status alone. Otherwise
// errors: "'hsm_action_list' is missing or not an object", "'hal_version'
// is not N", "'hal_fsname' is missing, not a string or too long", "'list'
// must be an array". The entries are decoded one by one (ListEntry).
bool Parse(const boost::json::object& m, RecvReply* out, std::string* error);
// A list (status 0): cancels first, then items; `hal_flags` when not 0.
boost::json::object RecvReplyToJson(const ActionListHeader& hal,
                                    std::span<const WireItem> cancels,
                                    std::span<const WireItem> items);
// A refusal.
boost::json::object ToJson(const RecvReply& reply);

// ------------------------------------------------------------------- done

struct DoneRequest {
  ItemId id;
  int32_t status = 0;  // the copytool's result: 0, else a positive errno
  // What Lustre answered to the mover's llapi_hsm_action_end (0: taken);
  // the end of a failed llapi_hsm_action_begin. Absent when 0.
  int32_t end_rc = 0;
  int32_t begin_rc = 0;
  // The flags the mover ended the item with at Lustre (HP_FLAG_RETRY: Lustre
  // puts the request back and sends it again); absent when 0, as the
  // original's movers never send it.
  uint16_t hp_flags = 0;
};
// Errors: "cookie or fid not set -- old client?" (either absent),
// "'hai_cookie' must be an integer", "'hai_dfid': ...", "'status' must be
// an integer", "'status' is out of range", the same for `end_rc` and
// `hp_flags` (0..65535). A
// malformed `begin_rc` reads as 0: the server never acted on it.
bool Parse(const boost::json::object& m, DoneRequest* out, std::string* error);
boost::json::object ToJson(const DoneRequest& request);

// --------------------------------------------------------------- progress

struct ProgressRequest {
  ItemId id;
};
// Errors: "'hai_cookie' and 'hai_dfid' are required", or the malformed one.
bool Parse(const boost::json::object& m, ProgressRequest* out,
           std::string* error);
boost::json::object ToJson(const ProgressRequest& request);

// ------------------------------------------------------------------ queue

struct QueueRequest {
  // `hsm_action_items`. Read: an entry is refused (error set) when it is
  // not an item, has no hal_archive_id or an action other than archive,
  // restore or remove; the others are queued.
  std::vector<ListEntry> items;
  // `fsname` and `hal_fsname` as given (zero, one or both); each must be
  // the server's. Written: `fsname` when not empty.
  std::vector<std::string> fsnames;
};
// Errors: "No hsm_action_items set", "Bad fsname" (one is not a string).
bool Parse(const boost::json::object& m, QueueRequest* out, std::string* error);
// Written items carry no `timestamp` (the server stamps them).
boost::json::object ToJson(const QueueRequest& request);

struct QueueFailure {
  int64_t index = 0;  // position in hsm_action_items, from 0
  std::string error;
};
struct QueueReply {
  ReplyHeader header;
  int64_t enqueued = 0;  // new
  int64_t skipped = 0;   // already known
  // Of `failed`: those Lustre holds no such request for (ended since the
  // list was read, or never made).
  int64_t not_live = 0;
  std::vector<QueueFailure> failed;  // written only when not empty
};
void Parse(const boost::json::object& m, QueueReply* out);
boost::json::object ToJson(const QueueReply& reply);

// -------------------------------------------------------------- reconcile

// Lustre's active requests, as `queue` carries them, and the token of the
// previous reconcile reply (docs/protocol.md, reconcile; server/reconcile.h).
struct ReconcileRequest {
  QueueRequest queue;  // `hsm_action_items` (may be empty), `fsname`
  // `pass_token`; absent: add only, nothing is dropped.
  std::optional<std::string> token;
};
// Errors: "No hsm_action_items set" (absent or not an array: an empty
// list must be said, never assumed), "Bad fsname", "'pass_token' must be a
// string".
bool Parse(const boost::json::object& m, ReconcileRequest* out,
           std::string* error);
boost::json::object ToJson(const ReconcileRequest& request);

struct ReconcileReply {
  ReplyHeader header;
  int64_t added = 0;         // new, taken as `queue` takes them
  int64_t known = 0;         // already held
  int64_t dropped = 0;       // waiting, ended at Lustre: forgotten
  int64_t refused = 0;       // not taken (unreadable, or not live at Lustre)
  int64_t not_live = 0;      // of `refused`: Lustre holds them no more
  int64_t running_gone = 0;  // running on a mover, no longer at Lustre
  std::string instance;
  std::string token;                 // `pass_token`, for the next pass
  std::string add_only;              // why nothing could be dropped, if so
  std::vector<QueueFailure> failed;  // written only when not empty
};
void Parse(const boost::json::object& m, ReconcileReply* out);
boost::json::object ToJson(const ReconcileReply& reply);

// ----------------------------------------------------------------- status

struct StatusRequest {
  // 6 and more dump the queues. Not an integer: the default.
  int64_t verbose = 4;
};
void Parse(const boost::json::object& m, StatusRequest* out);
boost::json::object ToJson(const StatusRequest& request);
// The status reply is a document the server builds field by field
// (docs/protocol.md); it is finished like a reply (MakeReply), except that
// false values are kept.

// ------------------------------------------------------------ show, list

// `show`: the requests of one file, by its FID ("[0x...:0x...:0x...]").
struct ShowRequest {
  lu_fid fid{};
};
// Error: "'fid' must be a FID such as [0x200000401:0x1:0x0]".
bool Parse(const boost::json::object& m, ShowRequest* out, std::string* error);
boost::json::object ToJson(const ShowRequest& request);

// `list`: filters (empty: any), a cursor (0: from the start; the reply's
// `cursor` for the next page) and a limit.
inline constexpr int64_t kListMaxLimit = 1000;
struct ListRequest {
  std::string type{};   // restore, remove, archive
  std::string mover{};  // running on it, or waiting in its own queues
  // waiting, locating, held, oversized, running, after_same_fid
  std::string state{};
  int64_t older_than_s = 0;  // arrived at least this long ago
  uint64_t cursor = 0;
  int64_t limit = 100;  // 1 to kListMaxLimit
};
// Errors name the field: "'type' must be restore, remove or archive",
// "'state' must be ...", "'limit' is out of range"...
bool Parse(const boost::json::object& m, ListRequest* out, std::string* error);
boost::json::object ToJson(const ListRequest& request);

// ------------------------------------------------------------------- lock

enum class Locked : int64_t { kUnlocked = 0, kLocked = 1, kLockAndQuit = 2 };
struct LockRequest {
  Locked locked = Locked::kUnlocked;  // absent: unlock
};
// Error: "invalid locked value" (not an integer, or not 0, 1 or 2).
bool Parse(const boost::json::object& m, LockRequest* out, std::string* error);
boost::json::object ToJson(const LockRequest& request);

// `done` and `lock` replies are a ReplyHeader alone: MakeReply(name, header).

// ---------------------------------------------------------- drain, resume

// `drain` and `resume` (docs/protocol.md): an admin stops new work for one
// mover, known by its ehlo id, or gives it work again.
struct MoverControlRequest {
  bool drain = true;  // the command: drain, else resume
  std::string client_id;
};
// Errors: "'client_id' is missing or not a string", or why it cannot be a
// mover id (protocol/mover_id.h).
bool Parse(const boost::json::object& m, bool drain, MoverControlRequest* out,
           std::string* error);
boost::json::object ToJson(const MoverControlRequest& request);

struct MoverControlReply {
  ReplyHeader header;  // ENOENT: no mover known by that id
  bool drain = true;   // which command it answers
  std::string client_id;
  bool draining = false;   // the mover's state now
  bool connected = false;  // connected now (else within its grace time)
  // What the mover still runs: current_restore, current_remove,
  // current_archive, as in the status' client objects.
  std::array<int64_t, 3> current{};  // restore, remove, archive
};
void Parse(const boost::json::object& m, MoverControlReply* out);
boost::json::object ToJson(const MoverControlReply& reply);

// -------------------------------------------------------------- heartbeat

// {"command": "heartbeat"}: the server's liveness check and the mover's
// answer.
boost::json::object HeartbeatJson();

}  // namespace protocol

#endif  // PROTOCOL_MESSAGES_H_
