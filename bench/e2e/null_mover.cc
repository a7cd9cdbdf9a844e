#include "bench/e2e/null_mover.h"

#include <fcntl.h>
#include <fmt/format.h>
#include <unistd.h>

#include <boost/json.hpp>
#include <cstdlib>
#include <cstring>
#include <ctime>

#include "client/session.h"
#include "hsm/lustreapi.h"
#include "protocol/action_item.h"
#include "protocol/done_items.h"
#include "protocol/messages.h"

// The leading fields of Lustre's copytool handle, which the (simulated)
// llapi_hsm_action_begin reads: the preload library builds its handle the
// same way. The magic is not checked by action_begin.
struct hsm_copytool_private {
  int magic;
  char* mnt;
  struct kuc_hdr* kuch;
  int mnt_fd;
  int open_by_fid_fd;
  void* kuc;
};

namespace bench {

namespace json = boost::json;

namespace {

int64_t RealtimeNanos() {
  timespec ts{};
  clock_gettime(CLOCK_REALTIME, &ts);
  return int64_t{ts.tv_sec} * 1'000'000'000 + ts.tv_nsec;
}

// A handle for llapi_hsm_action_begin on `mount`, or nullptr.
hsm_copytool_private* OpenHandle(const std::string& mount) {
  auto* ct = new hsm_copytool_private{};
  ct->mnt = realpath(mount.c_str(), nullptr);
  ct->mnt_fd = open(mount.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  ct->open_by_fid_fd =
      ct->mnt_fd < 0 ? -1
                     : openat(ct->mnt_fd, ".lustre/fid", O_RDONLY | O_CLOEXEC);
  if (ct->mnt == nullptr || ct->open_by_fid_fd < 0) {
    if (ct->mnt_fd >= 0) close(ct->mnt_fd);
    free(ct->mnt);
    delete ct;
    return nullptr;
  }
  return ct;
}

void CloseHandle(hsm_copytool_private* ct) {
  if (ct == nullptr) return;
  close(ct->open_by_fid_fd);
  close(ct->mnt_fd);
  free(ct->mnt);
  delete ct;
}

// Begins and ends `item` on the mount at once. False if either fails.
bool EndOnLustre(const hsm_copytool_private* ct,
                 const protocol::WireItem& wire) {
  // action_begin reads hai_len bytes: the item and its data, contiguous.
  std::vector<char> buffer(sizeof(hsm_action_item) + wire.item.data.size());
  auto* hai = reinterpret_cast<hsm_action_item*>(buffer.data());
  std::memcpy(hai, &wire.item.hai, sizeof(hsm_action_item));
  std::memcpy(hai->hai_data, wire.item.data.data(), wire.item.data.size());
  hai->hai_len = static_cast<uint32_t>(buffer.size());
  hsm_copyaction_private* hcp = nullptr;
  if (llapi_hsm_action_begin(&hcp, ct, hai, -1, 0, false) < 0) return false;
  hsm_extent extent = hai->hai_extent;
  return llapi_hsm_action_end(&hcp, &extent, 0, 0) == 0;
}

}  // namespace

struct NullMovers::Mover {
  client::Session session;
  bool done_items = false;  // the server takes many dones per message
  std::vector<int64_t> latencies;
};

void NullMovers::AppendDones(const Mover& mover,
                             const std::vector<protocol::ItemId>& items,
                             std::string* out) {
  if (!mover.done_items || items.size() < 2) {
    for (const protocol::ItemId& id : items) {
      protocol::DoneRequest done;
      done.id = id;
      *out += json::serialize(protocol::ToJson(done));
    }
    return;
  }
  for (size_t at = 0; at < items.size(); at += protocol::kDoneItemsPerMessage) {
    protocol::DoneItemsRequest request;
    const size_t end =
        std::min(items.size(), at + protocol::kDoneItemsPerMessage);
    for (size_t i = at; i < end; ++i) {
      protocol::DoneRequest done;
      done.id = items[i];
      request.items.push_back({std::string(), done});
    }
    *out += json::serialize(protocol::ToJson(request));
  }
}

NullMovers::NullMovers(NullMoverOptions options)
    : options_(std::move(options)) {}

NullMovers::~NullMovers() { Stop(); }

bool NullMovers::Start(int count, std::string* error) {
  for (int i = 0; i < count; ++i) {
    auto mover = std::make_unique<Mover>();
    json::object reply;
    protocol::EhloRequest ehlo;
    ehlo.id = fmt::format("null-{}", i);
    mover->session.set_tls(options_.tls);
    if (!mover->session.Connect(options_.host, options_.port, error) ||
        !mover->session.Call(protocol::ToJson(ehlo), &reply, 10'000, error))
      return false;
    if (client::ReplyStatus(reply) != 0) {
      *error = fmt::format("ehlo refused: {}", json::serialize(reply));
      return false;
    }
    mover->done_items =
        options_.done_items && protocol::AnnouncesDoneItems(reply);
    movers_.push_back(std::move(mover));
  }
  for (auto& mover : movers_)
    threads_.emplace_back([this, m = mover.get()] { Run(m); });
  return true;
}

void NullMovers::Stop() {
  stop_ = true;
  for (auto& thread : threads_) thread.join();
  threads_.clear();
  for (auto& mover : movers_) mover->session.Close();
}

bool NullMovers::WaitForCompleted(uint64_t n,
                                  std::chrono::milliseconds timeout) {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  while (completed_.load() < n) {
    if (failed_ || std::chrono::steady_clock::now() > deadline) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  return true;
}

std::string NullMovers::error() const {
  std::lock_guard lock(mu_);
  return error_;
}

std::vector<int64_t> NullMovers::Latencies() const {
  std::vector<int64_t> all;
  for (const auto& mover : movers_)
    all.insert(all.end(), mover->latencies.begin(), mover->latencies.end());
  return all;
}

void NullMovers::Fail(const std::string& why) {
  std::lock_guard lock(mu_);
  if (error_.empty()) error_ = why;
  failed_ = true;
}

void NullMovers::Run(Mover* mover) {
  hsm_copytool_private* ct = nullptr;
  if (!options_.end_on_mount.empty()) {
    ct = OpenHandle(options_.end_on_mount);
    if (ct == nullptr)
      return Fail("cannot open " + options_.end_on_mount + "/.lustre/fid");
  }
  const int64_t max = options_.max_running;
  const std::string recv = json::serialize(protocol::ToJson(
      protocol::RecvRequest{max, max, max, options_.max_bytes}));
  std::string out = recv, error;
  if (!mover->session.SendText(out, &error)) return Fail(error);
  while (!stop_) {
    json::object m;
    if (!mover->session.Receive(&m, 50, &error)) {
      if (error == "timed out") continue;
      if (!stop_) Fail(error);
      break;
    }
    protocol::Command command;
    std::string name;
    if (client::ReplyStatus(m) != 0 ||
        protocol::ReadCommand(m, &command, &name, &error) ==
            protocol::CommandRead::kMissing) {
      Fail(fmt::format("server replied {}", json::serialize(m)));
      break;
    }
    if (name == protocol::CommandName(protocol::Command::kDone)) {
      // A batch's reply counts its entries ("done"); a single one, one.
      protocol::DoneItemsReply done;
      protocol::Parse(m, &done);
      completed_ += m.contains("done") ? static_cast<uint64_t>(done.done) : 1;
      continue;
    }
    if (name != protocol::CommandName(protocol::Command::kRecv)) continue;
    const int64_t now = RealtimeNanos();
    out.clear();
    protocol::RecvReply reply;
    if (!protocol::Parse(m, &reply, &error)) {
      Fail(fmt::format("unreadable recv reply: {}", error));
      break;
    }
    bool unreadable = false;
    std::vector<protocol::ItemId> ids;
    ids.reserve(reply.list.size());
    for (const protocol::ListEntry& entry : reply.list) {
      if (!entry.ok()) {
        Fail(fmt::format("unreadable item: {}", entry.error));
        unreadable = true;
        break;
      }
      const protocol::WireItem& item = entry.item;
      if (item.timestamp_ns != 0)
        mover->latencies.push_back(now - item.timestamp_ns);
      if (ct && !EndOnLustre(ct, item)) ++end_failures_;
      ids.push_back(protocol::ItemId::Of(item.item.hai));
    }
    if (unreadable) break;
    AppendDones(*mover, ids, &out);
    out += recv;
    if (!mover->session.SendText(out, &error)) {
      if (!stop_) Fail(error);
      break;
    }
  }
  CloseHandle(ct);
}

}  // namespace bench
