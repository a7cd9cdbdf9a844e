#include "policy/reporter.h"

#include <fcntl.h>
#include <fmt/format.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cctype>
#include <cerrno>

#include "hsm/fid.h"
#include "policy/tag.h"

namespace policy {

namespace {

constexpr size_t kMaxNameBytes = 64;
constexpr size_t kMaxLineBytes = 127;

bool ValidName(std::string_view name) {
  if (name.empty() || name.size() > kMaxNameBytes) return false;
  for (char c : name)
    if (!isalnum(static_cast<unsigned char>(c)) && c != '-' && c != '_')
      return false;
  return true;
}

// A client id as it goes in a line: ids are any JSON text, and a control
// character (a newline above all) would forge or break lines.
std::string Field(std::string_view text) {
  std::string out;
  for (char c : text) {
    const auto u = static_cast<unsigned char>(c);
    if (u < 0x20 || u == 0x7f || c == '\\')
      out += fmt::format("\\x{:02x}", u);
    else
      out.push_back(c);
  }
  return out;
}

}  // namespace

Reporter::Reporter(std::string dir, std::string hint)
    : dir_(std::move(dir)), tag_(std::move(hint) + "=") {}

std::optional<std::string> Reporter::NameOf(std::string_view data) const {
  auto value = TagValue(data, tag_);
  if (!value || !ValidName(*value)) return std::nullopt;
  return std::string(*value);
}

common::UniqueFd Reporter::Open(const std::string& name) const {
  const std::string path = dir_ + "/" + name;
  constexpr int kFlags = O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC;
  int fd = open(path.c_str(), kFlags, 0644);
  if (fd < 0 && errno == ENOENT && mkdir(dir_.c_str(), 0711) == 0)
    fd = open(path.c_str(), kFlags, 0644);
  return common::UniqueFd(fd);
}

void Reporter::Close(Name& n) {
  if (!n.fd) return;
  n.fd.Reset();
  --open_files_;
}

void Reporter::Write(std::string_view data, const std::string& line) {
  auto name = NameOf(data);
  if (!name || line.size() > kMaxLineBytes) return;
  const std::string text = line + "\n";
  auto it = names_.find(*name);
  Name* n = it == names_.end() ? nullptr : &it->second;
  common::UniqueFd once;  // no room to keep it open
  int fd = -1;
  if (n && n->fd) {
    fd = n->fd.get();
  } else {
    common::UniqueFd opened = Open(*name);
    if (!opened) {
      ++errors_;
      return;
    }
    if (n && n->live > 0 && open_files_ < kMaxOpenFiles) {
      n->fd = std::move(opened);
      ++open_files_;
      fd = n->fd.get();
    } else {
      once = std::move(opened);
      fd = once.get();
    }
  }
  // A line that cannot be written is lost (the report is a courtesy to
  // users, never a reason to stop serving): counted for the metrics.
  if (write(fd, text.data(), text.size()) != static_cast<ssize_t>(text.size()))
    ++errors_;
}

void Reporter::New(std::string_view data, const lu_fid& dfid) {
  auto name = NameOf(data);
  if (!name) return;
  Name& n = names_[*name];
  ++n.live;
  n.idle_ticks = -1;
  Write(data, fmt::format("new {}", hsm::FormatFid(dfid)));
}

void Reporter::Assign(std::string_view data, const lu_fid& dfid,
                      std::string_view client) {
  Write(data, fmt::format("assign {} {}", hsm::FormatFid(dfid), Field(client)));
}

void Reporter::Sent(std::string_view data, const lu_fid& dfid,
                    std::string_view client) {
  Write(data, fmt::format("sent {} {}", hsm::FormatFid(dfid), Field(client)));
}

void Reporter::Progress(std::string_view data, const lu_fid& dfid,
                        std::string_view client, size_t pos, size_t len) {
  Write(data, fmt::format("progress {} {} {}/{}", hsm::FormatFid(dfid),
                          Field(client), pos, len));
}

void Reporter::Done(std::string_view data, const lu_fid& dfid, int status) {
  Write(data, fmt::format("done {} {}", hsm::FormatFid(dfid), status));
  Ended(data);
}

void Reporter::Retry(std::string_view data, const lu_fid& dfid,
                     std::string_view client, uint32_t attempt) {
  Write(data, fmt::format("retry {} {} {}", hsm::FormatFid(dfid), Field(client),
                          attempt));
}

void Reporter::GiveUp(std::string_view data, const lu_fid& dfid,
                      uint32_t attempts, int status) {
  Write(data,
        fmt::format("giveup {} {} {}", hsm::FormatFid(dfid), attempts, status));
  Ended(data);
}

void Reporter::OverQueueCap(std::string_view data, const lu_fid& dfid,
                            std::string_view owner, uint32_t cap) {
  Write(data, fmt::format("quota {} {} {}", hsm::FormatFid(dfid),
                          owner.empty() ? "-" : owner, cap));
  Ended(data);
}

void Reporter::Cancel(std::string_view data, const lu_fid& dfid, bool ended) {
  Write(data, fmt::format("cancel {}", hsm::FormatFid(dfid)));
  if (ended) Ended(data);
}

void Reporter::Ended(std::string_view data) {
  auto name = NameOf(data);
  if (!name) return;
  auto it = names_.find(*name);
  if (it == names_.end() || it->second.live == 0) return;
  if (--it->second.live == 0) {
    it->second.idle_ticks = 0;
    Close(it->second);  // idle: no need to hold it
  }
}

void Reporter::Tick() {
  for (auto it = names_.begin(); it != names_.end();) {
    Name& n = it->second;
    if (n.live == 0 && ++n.idle_ticks >= 2) {
      Close(n);
      unlink((dir_ + "/" + it->first).c_str());
      it = names_.erase(it);
    } else {
      ++it;
    }
  }
}

int64_t Reporter::Live(const std::string& name) const {
  auto it = names_.find(name);
  return it == names_.end() ? 0 : it->second.live;
}

}  // namespace policy
