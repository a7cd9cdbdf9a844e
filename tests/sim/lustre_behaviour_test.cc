// Behaviour of the simulator checked against Lustre's own code, seen from a
// copytool written the way a site writes one (llapi calls only, in this
// process) on a real sim-mdt: opening files as
// MOUNT/.lustre/fid/[seq:oid:ver], and the JSON lines of the event FIFO.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <lustre/lustreapi.h>
#include <sys/stat.h>
#include <unistd.h>

#include <boost/json.hpp>
#include <cerrno>
#include <climits>
#include <cstring>
#include <map>
#include <regex>
#include <string>
#include <vector>

#include "hsm/fid.h"
#include "tests/sim/hsm_test_util.h"
#include "tests/support/file_data.h"
#include "tests/support/sim_daemon.h"
#include "tests/support/sim_mount.h"
#include "tests/support/wait_for.h"

namespace testing_support {
namespace {

// The event FIFO of this process, read without blocking.
class EventReader {
 public:
  explicit EventReader(const std::string& path) : path_(path) {
    EXPECT_EQ(llapi_hsm_register_event_fifo(path_.c_str()), 0);
    fd_ = open(path_.c_str(), O_RDONLY | O_NONBLOCK | O_CLOEXEC);
    EXPECT_GE(fd_, 0);
  }
  ~EventReader() {
    if (fd_ >= 0) close(fd_);
    llapi_hsm_unregister_event_fifo(path_.c_str());
  }
  // The events written so far, parsed (a line that is not a JSON object
  // fails the test).
  std::vector<boost::json::object> Take() {
    char buf[4096];
    ssize_t n;
    while ((n = read(fd_, buf, sizeof(buf))) > 0) pending_.append(buf, n);
    std::vector<boost::json::object> out;
    for (size_t nl; (nl = pending_.find('\n')) != std::string::npos;) {
      std::string line = pending_.substr(0, nl);
      pending_.erase(0, nl + 1);
      boost::system::error_code ec;
      boost::json::value v = boost::json::parse(line, ec);
      EXPECT_FALSE(ec) << line;
      EXPECT_TRUE(v.is_object()) << line;
      if (!ec && v.is_object()) out.push_back(v.as_object());
      lines_.push_back(line);
    }
    return out;
  }
  const std::vector<std::string>& lines() const { return lines_; }

 private:
  std::string path_;
  int fd_ = -1;
  std::string pending_;
  std::vector<std::string> lines_;
};

std::vector<std::string> Keys(const boost::json::object& o) {
  std::vector<std::string> keys;
  for (const auto& kv : o) keys.push_back(kv.key());
  return keys;
}

std::string Str(const boost::json::object& o, const char* key) {
  const boost::json::value* v = o.if_contains(key);
  return v && v->is_string() ? std::string(v->as_string()) : "<missing>";
}

class LustreBehaviourTest : public ::testing::Test {
 protected:
  void SetUp() override { ASSERT_TRUE(sim_.StartDaemon()); }
  void TearDown() override {
    if (ct_) {
      EXPECT_EQ(llapi_hsm_copytool_unregister(&ct_), 0);
    }
  }

  void Register() {
    ASSERT_EQ(
        llapi_hsm_copytool_register(&ct_, sim_.mount().c_str(), 0, nullptr, 0),
        0);
  }

  // Receives one action list with one item.
  hsm_action_item ReceiveOne() {
    hsm_action_list* hal = nullptr;
    int size = 0;
    EXPECT_EQ(llapi_hsm_copytool_recv(ct_, &hal, &size), 0);
    if (hal == nullptr) return {};
    EXPECT_EQ(hal->hal_count, 1u);
    return *hai_first(hal);
  }

  SimMount sim_;
  hsm_copytool_private* ct_ = nullptr;
};

TEST_F(LustreBehaviourTest, CopytoolOpensTheBracketedFidName) {
  const std::string file = sim_.Path("dir/data");
  ASSERT_EQ(mkdir(sim_.Path("dir").c_str(), 0755), 0);
  ASSERT_TRUE(WriteTestFile(file, 70000, 3).has_value());
  const std::string data = ReadWholeFile(file);
  Register();
  ASSERT_TRUE(sim_.Lfs({"hsm_archive", file}).ok());
  hsm_action_item hai = ReceiveOne();
  ASSERT_EQ(hai.hai_action, uint32_t{HSMA_ARCHIVE});

  // As lhsmtool-style copytools do: open the data FID by its DFID name.
  const std::string by_fid =
      sim_.mount() + "/.lustre/fid/" + hsm::FormatFid(hai.hai_dfid);
  ASSERT_EQ(by_fid.back(), ']');
  int fd = open(by_fid.c_str(), O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
  ASSERT_GE(fd, 0) << by_fid << ": " << strerror(errno);
  std::string read_back(data.size() + 1, '\0');
  EXPECT_EQ(read(fd, read_back.data(), read_back.size()),
            static_cast<ssize_t>(data.size()));
  read_back.resize(data.size());
  EXPECT_EQ(read_back, data);
  close(fd);

  // The FID and path calls see the file, not the .lustre name.
  lu_fid fid{};
  ASSERT_EQ(llapi_path2fid(by_fid.c_str(), &fid), 0);
  EXPECT_EQ(hsm::FormatFid(fid), hsm::FormatFid(hai.hai_fid));
  char path[PATH_MAX];
  long long recno = -1;
  int linkno = 0;
  ASSERT_EQ(
      llapi_fid2path(sim_.mount().c_str(), hsm::FormatFid(hai.hai_fid).c_str(),
                     path, sizeof(path), &recno, &linkno),
      0);
  EXPECT_STREQ(path, "dir/data");
  hsm_user_state hus{};
  EXPECT_EQ(llapi_hsm_state_get(by_fid.c_str(), &hus), 0);

  hsm_copyaction_private* hcp = nullptr;
  ASSERT_EQ(llapi_hsm_action_begin(&hcp, ct_, &hai, -1, 0, false), 0);
  hsm_extent he{0, data.size()};
  ASSERT_EQ(llapi_hsm_action_end(&hcp, &he, 0, 0), 0);
  EXPECT_TRUE(sim_.WaitForStatus(FidOf(file), "ARCHIVE", "SUCCEED"));

  // Once the daemon sees the file deleted, both names go.
  ASSERT_EQ(unlink(file.c_str()), 0);
  EXPECT_EQ(
      llapi_fid2path(sim_.mount().c_str(), hsm::FormatFid(hai.hai_fid).c_str(),
                     path, sizeof(path), &recno, &linkno),
      -ENOENT);
  EXPECT_NE(access(by_fid.c_str(), F_OK), 0);
  EXPECT_NE(access((sim_.mount() + "/.lustre/fid/" +
                    hsm::FormatFidNoBrace(hai.hai_fid))
                       .c_str(),
                   F_OK),
            0);
}

// Lustre's llapi_hsm_log_ct_registration / _ct_progress, for an archive
// then a restore; each line compared with the keys Lustre writes, in its
// order.
TEST_F(LustreBehaviourTest, EventFifoCarriesLustresCopyEvents) {
  EventReader events(sim_.Path("../events"));
  const std::string file = sim_.Path("watched");
  ASSERT_TRUE(WriteTestFile(file, 5000, 9).has_value());
  const std::string data = ReadWholeFile(file);
  const std::string fid_text = FidOf(file);
  const std::string no_brace = fid_text.substr(1, fid_text.size() - 2);
  Register();

  ASSERT_TRUE(sim_.Lfs({"hsm_archive", file}).ok());
  hsm_action_item hai = ReceiveOne();
  hsm_copyaction_private* hcp = nullptr;
  ASSERT_EQ(llapi_hsm_action_begin(&hcp, ct_, &hai, -1, 0, false), 0);
  hsm_extent he{0, 4000};
  ASSERT_EQ(llapi_hsm_action_progress(hcp, &he, data.size(), 0), 0);
  he = {0, data.size()};
  ASSERT_EQ(llapi_hsm_action_end(&hcp, &he, 0, 0), 0);
  ASSERT_TRUE(sim_.WaitForStatus(fid_text, "ARCHIVE", "SUCCEED"));

  std::vector<boost::json::object> ev = events.Take();
  ASSERT_EQ(ev.size(), 4u) << testing::PrintToString(events.lines());
  EXPECT_EQ(Keys(ev[0]),
            (std::vector<std::string>{"event_time", "event_type", "archive",
                                      "mount_point", "uuid"}));
  EXPECT_EQ(Str(ev[0], "event_type"), "REGISTER");
  EXPECT_EQ(ev[0].at("archive").as_int64(), 0);  // the archive count
  EXPECT_TRUE(std::regex_match(
      Str(ev[0], "event_time"),
      std::regex(R"(\d{4}-\d\d-\d\d \d\d:\d\d:\d\d [+-]\d{4})")))
      << Str(ev[0], "event_time");

  EXPECT_EQ(Keys(ev[1]), (std::vector<std::string>{"event_time", "event_type",
                                                   "total_bytes", "lustre_path",
                                                   "source_fid", "data_fid"}));
  EXPECT_EQ(Str(ev[1], "event_type"), "ARCHIVE_START");
  EXPECT_EQ(ev[1].at("total_bytes").as_int64(), 0);
  EXPECT_EQ(Str(ev[1], "lustre_path"), "watched");
  EXPECT_EQ(Str(ev[1], "source_fid"), no_brace);
  EXPECT_EQ(Str(ev[1], "data_fid"), no_brace);

  EXPECT_EQ(Keys(ev[2]),
            (std::vector<std::string>{
                "event_time", "event_type", "current_bytes", "total_bytes",
                "lustre_path", "source_fid", "data_fid"}));
  EXPECT_EQ(Str(ev[2], "event_type"), "ARCHIVE_RUNNING");
  EXPECT_EQ(ev[2].at("current_bytes").as_int64(), 4000);
  EXPECT_EQ(ev[2].at("total_bytes").as_int64(), 5000);

  EXPECT_EQ(Keys(ev[3]), (std::vector<std::string>{"event_time", "event_type",
                                                   "source_fid", "data_fid"}));
  EXPECT_EQ(Str(ev[3], "event_type"), "ARCHIVE_FINISH");

  // A restore: RUNNING names the volatile as data_fid, FINISH has
  // source_fid = data_fid; an end with an error is an ERROR event with
  // errno and error.
  ASSERT_TRUE(sim_.Lfs({"hsm_release", file}).ok());
  ASSERT_TRUE(sim_.Lfs({"hsm_restore", file}).ok());
  hai = ReceiveOne();
  ASSERT_EQ(llapi_hsm_action_begin(&hcp, ct_, &hai, -1, 0, false), 0);
  he = {0, 100};
  ASSERT_EQ(llapi_hsm_action_progress(hcp, &he, data.size(), 0), 0);
  ASSERT_EQ(llapi_hsm_action_end(&hcp, &he, 0, EIO), 0);
  ASSERT_TRUE(sim_.WaitForStatus(fid_text, "RESTORE", "FAILED"));

  ev = events.Take();
  ASSERT_EQ(ev.size(), 3u) << testing::PrintToString(events.lines());
  EXPECT_EQ(Str(ev[0], "event_type"), "RESTORE_START");
  EXPECT_EQ(Str(ev[0], "data_fid"), no_brace);
  EXPECT_EQ(Str(ev[1], "event_type"), "RESTORE_RUNNING");
  EXPECT_EQ(Str(ev[1], "source_fid"), no_brace);
  EXPECT_NE(Str(ev[1], "data_fid"), no_brace);
  EXPECT_EQ(Str(ev[1], "lustre_path"), "watched");
  EXPECT_EQ(Keys(ev[2]),
            (std::vector<std::string>{"event_time", "event_type", "error",
                                      "errno", "source_fid", "data_fid"}));
  EXPECT_EQ(Str(ev[2], "event_type"), "RESTORE_ERROR");
  EXPECT_EQ(ev[2].at("errno").as_int64(), EIO);
  EXPECT_EQ(Str(ev[2], "error"), strerror(EIO));
  // After the end both FIDs are the data FID, as in Lustre.
  EXPECT_EQ(Str(ev[2], "source_fid"), Str(ev[2], "data_fid"));

  EXPECT_EQ(llapi_hsm_copytool_unregister(&ct_), 0);
  ev = events.Take();
  ASSERT_EQ(ev.size(), 1u);
  EXPECT_EQ(Str(ev[0], "event_type"), "UNREGISTER");
}

}  // namespace
}  // namespace testing_support
