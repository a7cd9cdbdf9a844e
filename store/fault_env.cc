#include "store/fault_env.h"

#include <algorithm>

namespace store {

class FaultEnv::FaultFile : public File {
 public:
  FaultFile(FaultEnv& env, std::unique_ptr<File> base)
      : env_(env), base_(std::move(base)) {}

  ssize_t ReadAt(uint64_t offset, char* out, size_t size) override {
    return base_->ReadAt(offset, out, size);
  }
  ssize_t WriteAt(uint64_t offset, std::string_view data) override {
    ssize_t allowed = env_.AllowWrite(data.size());
    if (allowed < 0) return allowed;
    return base_->WriteAt(offset, data.substr(0, static_cast<size_t>(allowed)));
  }
  int Sync() override {
    if (int error = env_.AllowSync()) return error;
    return base_->Sync();
  }
  int Truncate(uint64_t size) override { return base_->Truncate(size); }
  int Size(uint64_t* size) override { return base_->Size(size); }

 private:
  FaultEnv& env_;
  std::unique_ptr<File> base_;
};

void FaultEnv::FailWrites(int error, uint64_t budget) {
  common::MutexLock lock(&mu_);
  write_error_ = error;
  write_budget_ = budget;
}

void FaultEnv::FailSyncs(int error) {
  common::MutexLock lock(&mu_);
  sync_error_ = error;
}

void FaultEnv::Heal() {
  common::MutexLock lock(&mu_);
  write_error_ = 0;
  sync_error_ = 0;
}

ssize_t FaultEnv::AllowWrite(size_t size) {
  common::MutexLock lock(&mu_);
  if (write_error_ == 0) return static_cast<ssize_t>(size);
  if (write_budget_ == 0) {
    ++failed_writes_;
    return -write_error_;
  }
  uint64_t allowed = std::min<uint64_t>(size, write_budget_);
  write_budget_ -= allowed;
  return static_cast<ssize_t>(allowed);
}

int FaultEnv::AllowSync() {
  ++syncs_;
  common::MutexLock lock(&mu_);
  if (sync_error_ == 0) return 0;
  ++failed_syncs_;
  return sync_error_;
}

int FaultEnv::Open(const std::string& path, Mode mode,
                   std::unique_ptr<File>* file) {
  std::unique_ptr<File> base;
  if (int error = base_->Open(path, mode, &base)) return error;
  *file = std::make_unique<FaultFile>(*this, std::move(base));
  return 0;
}

int FaultEnv::SyncDir(const std::string& dir) {
  if (int error = AllowSync()) return error;
  return base_->SyncDir(dir);
}

}  // namespace store
