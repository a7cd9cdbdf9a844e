#include "bench/sim/noop_copytool.h"

#include <fcntl.h>
#include <poll.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace bench {

int NoopCopytool::Start(const std::string& mount, int workers) {
  if (pipe2(stop_pipe_, O_CLOEXEC) < 0) return -errno;
  const int rc =
      llapi_hsm_copytool_register(&ct_, mount.c_str(), 0, nullptr, O_NONBLOCK);
  if (rc < 0) return rc;
  receiver_ = std::thread([this] { Receive(); });
  for (int i = 0; i < workers; ++i) workers_.emplace_back([this] { Work(); });
  return 0;
}

void NoopCopytool::Stop() {
  if (ct_ == nullptr) return;
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
  }
  work_cv_.notify_all();
  const char byte = 1;
  if (write(stop_pipe_[1], &byte, 1) < 0) {
    // The receiver also stops at the next message.
  }
  receiver_.join();
  for (auto& t : workers_) t.join();
  workers_.clear();
  llapi_hsm_copytool_unregister(&ct_);
  close(stop_pipe_[0]);
  close(stop_pipe_[1]);
}

bool NoopCopytool::WaitForCompletions(uint64_t n,
                                      std::chrono::milliseconds timeout) {
  std::unique_lock lock(mu_);
  return done_cv_.wait_for(
      lock, timeout, [&] { return completed_.load() + failed_.load() >= n; });
}

void NoopCopytool::Receive() {
  const int fd = llapi_hsm_copytool_get_fd(ct_);
  for (;;) {
    pollfd fds[2] = {{fd, POLLIN, 0}, {stop_pipe_[0], POLLIN, 0}};
    if (poll(fds, 2, -1) < 0 && errno != EINTR) return;
    if (fds[1].revents != 0) return;
    hsm_action_list* hal = nullptr;
    int msgsize = 0;
    const int rc = llapi_hsm_copytool_recv(ct_, &hal, &msgsize);
    if (rc == -EAGAIN || rc == -EINTR) continue;
    if (rc < 0) return;
    const char* end = reinterpret_cast<const char*>(hal) + msgsize;
    std::vector<hsm_action_item> items;
    hsm_action_item* hai = hai_first(hal);
    const uint32_t count = hal->hal_count;
    for (uint32_t i = 0; i < count; ++i, hai = hai_next(hai)) {
      if (reinterpret_cast<const char*>(hai) + sizeof(*hai) > end) break;
      hsm_action_item item;
      std::memcpy(&item, hai, sizeof(item));
      items.push_back(item);
    }
    {
      std::lock_guard lock(mu_);
      queue_.insert(queue_.end(), items.begin(), items.end());
    }
    work_cv_.notify_all();
  }
}

void NoopCopytool::Work() {
  for (;;) {
    hsm_action_item hai;
    {
      std::unique_lock lock(mu_);
      work_cv_.wait(lock, [this] { return stopping_ || !queue_.empty(); });
      if (queue_.empty()) return;
      hai = queue_.front();
      queue_.pop_front();
    }
    hsm_copyaction_private* hcp = nullptr;
    int rc = llapi_hsm_action_begin(&hcp, ct_, &hai, -1, 0, false);
    if (rc == 0) rc = llapi_hsm_action_end(&hcp, &hai.hai_extent, 0, 0);
    (rc == 0 ? completed_ : failed_)++;
    {
      std::lock_guard lock(mu_);  // pairs with WaitForCompletions
    }
    done_cv_.notify_all();
  }
}

}  // namespace bench
