// Reporter: the original's report files (docs/policies.md, report files).
// Items whose data carries `<reporting_hint>=<name>` are reported, line by
// line, in <mount>/<reporting_dir>/<name>:
//   new <fid>
//   assign <fid> <client_id>
//   sent <fid> <client_id>
//   progress <fid> <client_id> <pos>/<len>
//   done <fid> <status>
//   cancel <fid>
// A name's file is deleted on the second Tick() after its last live item
// ended, unless a new item with that name appeared meanwhile.
//
// Unlike the original, the `cancel` line ends with a newline (its missing
// newline glues it to the next line), and a name's file stays open while
// the name has live items (up to kMaxOpenFiles of them): one write
// per line instead of mkdir, open, write and close, which on a Lustre mount
// are metadata round trips.
//
// Thread-safety: none; the server's event loop owns it.
#ifndef POLICY_REPORTER_H_
#define POLICY_REPORTER_H_

#include <linux/lustre/lustre_user.h>

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>

#include "common/unique_fd.h"

namespace policy {

class Reporter {
 public:
  // `dir` is the absolute report directory (created, mode 0711, if missing
  // at the first line written); `hint` is reporting_hint without '='.
  Reporter(std::string dir, std::string hint);

  // The report name of an item's data: the hint's value, if it is 1 to 64
  // letters, digits, '-' or '_'.
  std::optional<std::string> NameOf(std::string_view data) const;

  void New(std::string_view data, const lu_fid& dfid);
  void Assign(std::string_view data, const lu_fid& dfid,
              std::string_view client);
  void Sent(std::string_view data, const lu_fid& dfid, std::string_view client);
  void Progress(std::string_view data, const lu_fid& dfid,
                std::string_view client, size_t pos, size_t len);
  void Done(std::string_view data, const lu_fid& dfid, int status);
  // A request Lustre sent again after a retryable failure, placed for its
  // `attempt` (2 for the first retry) on `client` ("any": the global
  // queues). After New.
  void Retry(std::string_view data, const lu_fid& dfid, std::string_view client,
             uint32_t attempt);
  // One that came back after its last attempt, failed at Lustre with
  // `status`: it ends here. After New.
  void GiveUp(std::string_view data, const lu_fid& dfid, uint32_t attempts,
              int status);
  // A new restore refused: its owner (`owner`, "" for the default one)
  // has `cap` restores queued already; failed at Lustre with EDQUOT. It
  // ends here. After New.
  void OverQueueCap(std::string_view data, const lu_fid& dfid,
                    std::string_view owner, uint32_t cap);
  // `ended`: the item is forgotten now (it was waiting); a running item
  // lives on until its mover's done.
  void Cancel(std::string_view data, const lu_fid& dfid, bool ended = true);

  // The periodic job: deletes the files whose items all ended two ticks ago.
  void Tick();

  // Live items of a name (tests and status).
  int64_t Live(const std::string& name) const;
  // Report files held open now (tests).
  size_t open_files() const { return open_files_; }
  // Lines that could not be written (the file could not be opened or the
  // write failed or was short), since the start.
  uint64_t errors() const { return errors_; }

  static constexpr size_t kMaxOpenFiles = 256;

 private:
  struct Name {
    int64_t live = 0;
    int idle_ticks = -1;  // ticks since live reached 0; -1 while live
    common::UniqueFd fd;  // open while live, if there was room
  };
  // Opens `name`'s file for appending, creating the directory if needed.
  common::UniqueFd Open(const std::string& name) const;
  void Close(Name& n);
  void Write(std::string_view data, const std::string& line);
  void Ended(std::string_view data);

  std::string dir_;
  std::string tag_;  // hint + '='
  std::map<std::string, Name> names_;
  size_t open_files_ = 0;
  uint64_t errors_ = 0;
};

}  // namespace policy

#endif  // POLICY_REPORTER_H_
