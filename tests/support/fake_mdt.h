// FakeMdt: a directory that passes for a simulated Lustre mount
// (.lustre/fsname, .lustre/fid/) with a fake daemon on .lustre/mdt.sock.
// It answers every request with status 0 and no payload, records the
// requests, and keeps each registration's connection as a KUC channel on
// which the test sends whatever bytes it wants: the way to feed a copytool
// (or the library's llapi_hsm_copytool_recv) malformed or unusual action
// lists that the real daemon never sends.
//
// Thread-safety: the server runs in its own thread; the public methods may
// be called from the test thread at any time.
#ifndef TESTS_SUPPORT_FAKE_MDT_H_
#define TESTS_SUPPORT_FAKE_MDT_H_

#include <chrono>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "common/unique_fd.h"
#include "sim/wire/messages.h"
#include "tests/support/temp_dir.h"

namespace testing_support {

class FakeMdt {
 public:
  struct Request {
    sim::wire::MsgType type;
    std::string payload;
  };

  FakeMdt();
  ~FakeMdt();
  FakeMdt(const FakeMdt&) = delete;
  FakeMdt& operator=(const FakeMdt&) = delete;

  // False if the socket could not be set up.
  bool ok() const { return ok_; }
  const std::string& mount() const { return dir_.path(); }

  // Waits until `n` registrations have been answered.
  bool WaitForRegistrations(size_t n, std::chrono::milliseconds timeout);
  // Sends `bytes` as one packet on the latest KUC channel. Returns 0 or
  // -errno.
  int SendKuc(const std::string& bytes);
  // The requests received so far, in order.
  std::vector<Request> Requests();

 private:
  void Serve();
  // Reads one request from connection `i`; false once it is closed.
  bool HandleOne(size_t i);

  TempDir dir_;
  common::UniqueFd listen_;
  common::UniqueFd stop_read_, stop_write_;
  bool ok_ = false;
  std::thread server_;

  std::mutex mu_;
  std::vector<common::UniqueFd> conns_;  // GUARDED_BY(mu_)
  std::vector<bool> is_kuc_;             // GUARDED_BY(mu_)
  int latest_kuc_ = -1;                  // GUARDED_BY(mu_)
  size_t registrations_ = 0;             // GUARDED_BY(mu_)
  std::vector<Request> requests_;        // GUARDED_BY(mu_)
};

}  // namespace testing_support

#endif  // TESTS_SUPPORT_FAKE_MDT_H_
