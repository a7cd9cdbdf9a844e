// FaultEnv: an Env for tests that passes everything to a real one (POSIX by
// default) and injects the faults a real disk has: writes failing with
// ENOSPC, EIO or EFBIG, possibly after part of a write went through (a short
// write), and syncs failing. Faults apply to every file opened through it,
// until Heal().
//
// Thread-safe: the journal's writer thread does the I/O while a test
// switches faults on and off.
#ifndef STORE_FAULT_ENV_H_
#define STORE_FAULT_ENV_H_

#include <atomic>

#include "common/mutex.h"
#include "common/thread_annotations.h"
#include "store/env.h"

namespace store {

class FaultEnv : public Env {
 public:
  explicit FaultEnv(Env* base = PosixEnv()) : base_(base) {}

  // Writes fail with `error` once `budget` more bytes have been written; the
  // write that crosses the budget is cut short there.
  void FailWrites(int error, uint64_t budget = 0);
  // Syncs (of files and directories) fail with `error`.
  void FailSyncs(int error);
  void Heal();

  uint64_t failed_writes() const { return failed_writes_; }
  uint64_t failed_syncs() const { return failed_syncs_; }
  uint64_t syncs() const { return syncs_; }

  int Open(const std::string& path, Mode mode,
           std::unique_ptr<File>* file) override;
  int MakeDirs(const std::string& dir) override { return base_->MakeDirs(dir); }
  int Lock(const std::string& path, std::unique_ptr<File>* lock) override {
    return base_->Lock(path, lock);
  }
  int Rename(const std::string& from, const std::string& to) override {
    return base_->Rename(from, to);
  }
  int Link(const std::string& from, const std::string& to) override {
    return base_->Link(from, to);
  }
  int Remove(const std::string& path) override { return base_->Remove(path); }
  int SyncDir(const std::string& dir) override;

 private:
  class FaultFile;
  // How many of `size` bytes a write may pass, or -errno.
  ssize_t AllowWrite(size_t size);
  int AllowSync();

  Env* const base_;
  common::Mutex mu_;
  int write_error_ GUARDED_BY(mu_) = 0;
  uint64_t write_budget_ GUARDED_BY(mu_) = 0;
  int sync_error_ GUARDED_BY(mu_) = 0;
  std::atomic<uint64_t> failed_writes_{0};
  std::atomic<uint64_t> failed_syncs_{0};
  std::atomic<uint64_t> syncs_{0};
};

}  // namespace store

#endif  // STORE_FAULT_ENV_H_
