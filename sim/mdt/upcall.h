// Upcall: the coordinator bypass of LU-10968 (docs/upcall.md), a Lustre
// patch that was never merged (closed Won't Fix): only sites carrying it
// have it. The simulator has it so that coordinatool-upcall and its worker
// run end to end.
//
// With `hsm.upcall_mask` naming a request's action (ARCHIVE, REMOVE), the
// MDT does not record the request for its coordinator: it runs
// `upcall_path ACTION FSNAME ARCHIVE_ID FLAGS DATA FID...` (as root, empty
// environment) and answers the request once that exits. A worker later runs
// each action through two bypass calls, begin and end, which set the file's
// HSM state as a coordinator-run archive or remove would.
//
// Pure logic over the file table: the daemon (server.h) spawns and waits.
// Thread-safety: none; the daemon's event-loop thread.
#ifndef SIM_MDT_UPCALL_H_
#define SIM_MDT_UPCALL_H_

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "sim/mdt/coordinator.h"
#include "sim/mdt/file_table.h"
#include "sim/mdt/tunables.h"
#include "sim/wire/messages.h"

namespace sim::mdt {

enum class UpcallDecision {
  kCoordinator,  // not in the mask: the coordinator takes the request
  kRun,          // run *argv
  kNothing,      // diverted, but no file needs the action: answer 0
};

// Decides for the hsm_user_request bytes `hur` of `caller`. Checks what the
// coordinator checks first (sizes, FIDs, the request masks of unprivileged
// callers, the files' states: a refused request is refused the same way,
// -errno, and runs nothing). *argv: upcall_path ACTION FSNAME ARCHIVE_ID
// FLAGS DATA FID... with FLAGS in decimal, DATA the request's data cut at
// its first NUL (argv cannot carry one), ARCHIVE_ID the request's, else the
// first file's, else hsm.default_archive_id, and the FIDs that need the
// action, each once, as [0x...:0x...:0x...]. -ENOSYS when the mask names
// the action but upcall_path is empty.
int DecideUpcall(const Caller& caller, std::string_view hur, const Tunables& t,
                 const std::string& fsname, FileTable* files,
                 UpcallDecision* decision, std::vector<std::string>* argv);

// The bypass calls (wire::kUpcallBegin/kUpcallEnd). `fd` is the file open
// for an archive (-1 for a remove). Begin of an archive checks the file may
// be archived, sets EXISTS and the archive id (as the coordinator's
// dispatch does) and returns the data version in *data_version; of a
// remove, checks the file (or that it is gone). End of an archive with
// errval 0 marks the file archived at the version begin sampled, or, if the
// file changed since, marks it dirty and returns -EBUSY; a failed archive
// leaves an archived file dirty (as a coordinator-run one). End of a remove
// with errval 0 clears ARCHIVED, EXISTS and LOST.
int UpcallBegin(FileTable* files, const wire::UpcallReq& req, int fd,
                uint64_t* data_version);
int UpcallEnd(FileTable* files, const wire::UpcallReq& req, int fd);

}  // namespace sim::mdt

#endif  // SIM_MDT_UPCALL_H_
