#include "client/upcall/upcall_client.h"

#include <gtest/gtest.h>

#include <cerrno>

namespace client::upcall {
namespace {

protocol::WireItem Upcalled(uint32_t action, uint32_t archive,
                            std::string data) {
  protocol::UpcallRequest r;
  r.action = action;
  r.fsname = "lustre";
  r.archive_id = archive;
  r.flags = 1;
  r.data = std::move(data);
  r.fids = {lu_fid{0x200000401, 5, 0}};
  return protocol::UpcallItems(r, 42, 0).front();
}

TEST(HsmUpcallCommandTest, TheDesignsCommandLinePerItem) {
  WorkerCommand command{"/usr/bin/lfs", "/mnt/lustre", "/usr/libexec/w"};
  std::vector<std::string> want = {"/usr/bin/lfs",
                                   "hsm_upcall",
                                   "--mntpath",
                                   "/mnt/lustre",
                                   "/usr/libexec/w",
                                   "ARCHIVE",
                                   "lustre",
                                   "3",
                                   "1",
                                   "tag=a",
                                   "[0x200000401:0x5:0x0]"};
  EXPECT_EQ(
      HsmUpcallCommand(command, "lustre",
                       Upcalled(HSMA_ARCHIVE, 3, std::string("tag=a\0x", 7))),
      want);
  command.mntpath.clear();
  std::vector<std::string> remove =
      HsmUpcallCommand(command, "lustre", Upcalled(HSMA_REMOVE, 1, ""));
  ASSERT_EQ(remove.size(), 9u);
  EXPECT_EQ(remove[3], "REMOVE");
  EXPECT_EQ(remove[5], "1");
}

TEST(HsmUpcallCommandTest, LustreItemsAreNeverRunThroughTheBypass) {
  WorkerCommand command{"lfs", "", "w"};
  protocol::WireItem item = Upcalled(HSMA_ARCHIVE, 1, "");
  item.item.hai.hai_cookie = 1767225601;  // a Lustre cookie
  EXPECT_TRUE(HsmUpcallCommand(command, "lustre", item).empty());
  item = Upcalled(HSMA_ARCHIVE, 1, "");
  item.archive_id = 1;  // not the upcalled queue space
  EXPECT_TRUE(HsmUpcallCommand(command, "lustre", item).empty());
  item = Upcalled(HSMA_RESTORE, 1, "");
  EXPECT_TRUE(HsmUpcallCommand(command, "lustre", item).empty());
}

TEST(QueueUpcallTest, NoServerIsECONNREFUSEDWithAMessage) {
  config::ClientSettings settings;
  settings.hosts = {"127.0.0.1"};
  settings.port = "1";  // nothing listens on port 1 here
  protocol::UpcallRequest r;
  r.action = HSMA_ARCHIVE;
  r.fsname = "lustre";
  r.archive_id = 1;
  r.fids = {lu_fid{0x200000401, 5, 0}};
  std::string error;
  EXPECT_EQ(QueueUpcall(settings, "", r, 1000, &error), ECONNREFUSED);
  EXPECT_NE(error.find("cannot connect to 127.0.0.1:1"), std::string::npos)
      << error;
}

}  // namespace
}  // namespace client::upcall
