// Test helpers for sim/mdt: a temp mount, file helpers, and a fake agent
// channel that records the HALs the coordinator sends.
#ifndef SIM_MDT_TEST_UTIL_H_
#define SIM_MDT_TEST_UTIL_H_

#include <fcntl.h>
#include <gtest/gtest.h>
#include <linux/lustre/lustre_kernelcomm.h>
#include <stdlib.h>
#include <unistd.h>

#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "common/clock.h"
#include "hsm/hal.h"
#include "sim/mdt/coordinator.h"
#include "sim/mdt/file_table.h"
#include "sim/mdt/journal.h"

namespace sim::mdt::testing {

class TempDir {
 public:
  TempDir() {
    std::string tmpl =
        (std::filesystem::temp_directory_path() / "sim-mdt-test-XXXXXX")
            .string();
    path_ = mkdtemp(tmpl.data());
  }
  ~TempDir() { std::filesystem::remove_all(path_); }
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

inline void WriteFile(const std::string& path, const std::string& data,
                      bool append = false) {
  int fd = open(path.c_str(),
                O_WRONLY | O_CREAT | (append ? O_APPEND : O_TRUNC), 0644);
  ASSERT_GE(fd, 0) << path;
  ASSERT_EQ(write(fd, data.data(), data.size()),
            static_cast<ssize_t>(data.size()));
  close(fd);
}

inline std::string ReadFile(const std::string& path) {
  std::string out;
  int fd = open(path.c_str(), O_RDONLY);
  char buf[4096];
  ssize_t n;
  while (fd >= 0 && (n = read(fd, buf, sizeof(buf))) > 0) out.append(buf, n);
  if (fd >= 0) close(fd);
  return out;
}

struct SentHal {
  std::string uuid;
  hsm::DecodedHal hal;
};

class FakeChannel : public AgentChannel {
 public:
  int SendToAgent(const std::string& uuid, const std::string& kuc) override {
    if (fail != 0) return fail;
    SentHal sent{uuid, {}};
    std::string error;
    EXPECT_TRUE(hsm::DecodeHal(kuc.data() + sizeof(kuc_hdr),
                               kuc.size() - sizeof(kuc_hdr), &sent.hal, &error))
        << error;
    hals.push_back(std::move(sent));
    return 0;
  }
  void RestoreReleased(const lu_fid& fid) override { released.push_back(fid); }

  int fail = 0;
  std::vector<SentHal> hals;
  std::vector<lu_fid> released;
};

// A coordinator over a temp mount with a manual clock, enabled.
class CdtFixture : public ::testing::Test {
 protected:
  void SetUp() override {
    mount_ = dir_.path() + "/mnt";
    std::filesystem::create_directories(mount_ + "/.lustre/state");
    journal_ = std::make_unique<Journal>(mount_ + "/.lustre/state/journal",
                                         Journal::Options{});
    files_ = std::make_unique<FileTable>(mount_, journal_.get());
    ASSERT_EQ(files_->Init(), 0);
    cdt_ = std::make_unique<Coordinator>("lustre", files_.get(), journal_.get(),
                                         &clock_, &channel_);
    std::string warning;
    ASSERT_EQ(journal_->Open([](std::string_view) {}, &warning), 0);
    cdt_->FinishRecovery();
    ASSERT_EQ(cdt_->Control("enabled"), 0);
    cdt_->tunables().min_scan_interval_ms = 0;
  }

  // Creates MOUNT/name with `data` and returns its FID.
  lu_fid MakeFile(const std::string& name, const std::string& data = "data") {
    WriteFile(mount_ + "/" + name, data);
    int fd = open((mount_ + "/" + name).c_str(), O_RDONLY);
    EXPECT_GE(fd, 0);
    FileEntry* entry = nullptr;
    struct stat st;
    EXPECT_EQ(files_->Identify(fd, &entry, &st), 0);
    close(fd);
    return entry ? entry->fid : lu_fid{};
  }

  uint32_t Flags(const lu_fid& fid) {
    FileEntry* entry;
    struct stat st;
    if (files_->Stat(fid, &entry, &st) != 0) return 0xdead;
    return entry->hsm.flags;
  }

  static std::string Hur(uint32_t action, const std::vector<lu_fid>& fids,
                         uint32_t archive = 0, uint64_t flags = 0,
                         const std::string& data = "") {
    hsm_request hr{action, archive, flags, static_cast<uint32_t>(fids.size()),
                   static_cast<uint32_t>(data.size())};
    std::string out(reinterpret_cast<const char*>(&hr), sizeof(hr));
    for (const lu_fid& fid : fids) {
      hsm_user_item item{fid, {0, ~0ULL}};
      out.append(reinterpret_cast<const char*>(&item), sizeof(item));
    }
    return out + data;
  }

  int Request(uint32_t action, const std::vector<lu_fid>& fids,
              uint32_t archive = 0, uint64_t flags = 0,
              const std::string& data = "", Caller caller = {}) {
    return cdt_->Request(caller, Hur(action, fids, archive, flags, data));
  }

  // Lets the coordinator scan now.
  void Scan() { cdt_->RunDue(); }

  const Record& Rec(uint32_t idx) { return cdt_->log().records().at(idx); }
  uint32_t Status(uint32_t idx) { return Rec(idx).status; }

  hsm_copy Copy(const hsm_action_item& hai, uint16_t errval = 0,
                uint16_t flags = 0) {
    hsm_copy copy{};
    copy.hc_hai = hai;
    copy.hc_hai.hai_len = sizeof(hsm_action_item);
    copy.hc_errval = errval;
    copy.hc_flags = flags;
    return copy;
  }

  // Begins and ends an item as a no-op copytool would.
  int RunItem(const hsm_action_item& hai, uint16_t errval = 0,
              uint16_t flags = 0) {
    int rc = cdt_->CopyStart(Copy(hai));
    if (rc != 0) return rc;
    return cdt_->CopyEnd(Copy(hai, errval, flags), -1);
  }

  TempDir dir_;
  std::string mount_;
  common::ManualClock clock_;
  FakeChannel channel_;
  std::unique_ptr<Journal> journal_;
  std::unique_ptr<FileTable> files_;
  std::unique_ptr<Coordinator> cdt_;
};

}  // namespace sim::mdt::testing

#endif  // SIM_MDT_TEST_UTIL_H_
