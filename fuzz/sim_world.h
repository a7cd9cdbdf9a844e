// A simulated MDT without sockets for the fuzz targets: a fresh mount
// directory with two files, its journal, file table, coordinator (manual
// clock, enabled), parameters and RPC handler, and an agent channel that
// checks every HAL the coordinator sends.
#ifndef FUZZ_SIM_WORLD_H_
#define FUZZ_SIM_WORLD_H_

#include <fcntl.h>
#include <linux/lustre/lustre_kernelcomm.h>

#include <filesystem>
#include <memory>
#include <string>
#include <string_view>

#include "common/clock.h"
#include "common/unique_fd.h"
#include "fuzz/fuzz_util.h"
#include "hsm/hal.h"
#include "sim/mdt/coordinator.h"
#include "sim/mdt/file_table.h"
#include "sim/mdt/journal.h"
#include "sim/mdt/params.h"
#include "sim/mdt/rpc_handler.h"

namespace fuzz {

// Every KUC message must be well framed and its HAL must decode.
class CheckingChannel : public sim::mdt::AgentChannel {
 public:
  int SendToAgent(const std::string&, const std::string& kuc) override {
    FUZZ_CHECK(kuc.size() >= sizeof(kuc_hdr));
    kuc_hdr hdr;
    memcpy(&hdr, kuc.data(), sizeof(hdr));
    FUZZ_CHECK(hdr.kuc_msglen == kuc.size());
    hsm::DecodedHal hal;
    std::string error;
    FUZZ_CHECK(hsm::DecodeHal(kuc.data() + sizeof(kuc_hdr),
                              kuc.size() - sizeof(kuc_hdr), &hal, &error));
    ++sent;
    return 0;
  }
  void RestoreReleased(const lu_fid&) override {}
  int sent = 0;
};

class SimWorld {
 public:
  // Creates the mount under `root` (emptied first). When `journal_bytes` is
  // given it becomes the journal before the replay.
  SimWorld(const std::string& root, const std::string* journal_bytes) {
    mount_ = root + "/mnt";
    std::error_code ec;
    std::filesystem::remove_all(mount_, ec);
    std::filesystem::create_directories(mount_ + "/.lustre/state");
    WriteFile(mount_ + "/f0", "zero");
    WriteFile(mount_ + "/f1", std::string(5000, 'x'));
    const std::string journal_path = mount_ + "/.lustre/state/journal";
    if (journal_bytes) WriteFile(journal_path, *journal_bytes);
    journal_ = std::make_unique<sim::mdt::Journal>(
        journal_path, sim::mdt::Journal::Options{});
    files_ = std::make_unique<sim::mdt::FileTable>(mount_, journal_.get());
    FUZZ_CHECK(files_->Init() == 0);
    cdt_ = std::make_unique<sim::mdt::Coordinator>(
        "lustre", files_.get(), journal_.get(), &clock_, &channel_);
    std::string warning;
    open_rc_ = journal_->Open(
        [this](std::string_view payload) { cdt_->ApplyJournal(payload); },
        &warning);
    cdt_->FinishRecovery();
    params_ = std::make_unique<sim::mdt::ParamTable>(cdt_.get());
    rpc_ = std::make_unique<sim::mdt::RpcHandler>(cdt_.get(), files_.get(),
                                                  params_.get());
  }

  // An open descriptor of MOUNT/f<which>, or of a file outside the mount.
  common::UniqueFd OpenFile(int which) const {
    std::string path =
        which == 2 ? "/dev/null" : mount_ + "/f" + std::to_string(which);
    return common::UniqueFd(open(path.c_str(), O_RDWR | O_CLOEXEC));
  }

  const std::string& mount() const { return mount_; }
  int open_rc() const { return open_rc_; }
  common::ManualClock& clock() { return clock_; }
  CheckingChannel& channel() { return channel_; }
  sim::mdt::Journal& journal() { return *journal_; }
  sim::mdt::FileTable& files() { return *files_; }
  sim::mdt::Coordinator& cdt() { return *cdt_; }
  sim::mdt::ParamTable& params() { return *params_; }
  sim::mdt::RpcHandler& rpc() { return *rpc_; }

 private:
  std::string mount_;
  common::ManualClock clock_;
  CheckingChannel channel_;
  std::unique_ptr<sim::mdt::Journal> journal_;
  std::unique_ptr<sim::mdt::FileTable> files_;
  std::unique_ptr<sim::mdt::Coordinator> cdt_;
  std::unique_ptr<sim::mdt::ParamTable> params_;
  std::unique_ptr<sim::mdt::RpcHandler> rpc_;
  int open_rc_ = 0;
};

}  // namespace fuzz

#endif  // FUZZ_SIM_WORLD_H_
