// Retries end to end (docs/policies.md, "Retries"): the simulator with NRA
// cleared, the server, and ct-posix movers under the preload library whose
// retry_errors turn a failed archive into HP_FLAG_RETRY. One mover cannot
// write its archive (its root is under a plain file: ENOTDIR); Lustre sends
// the failed request again and the server places it on the other mover;
// with no other mover left, the last attempt is failed at Lustre.
#include <gtest/gtest.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "tests/server/coordinatool_setup.h"
#include "tests/support/file_data.h"
#include "tests/support/process.h"
#include "tests/support/sim_mount.h"
#include "tests/support/wait_for.h"

namespace testing_support {
namespace {

namespace json = boost::json;

const std::vector<std::pair<std::string, std::string>> kRetryEnv = {
    {"COORDINATOOL_RETRY_ERRORS", "archive ENOTDIR EIO"}};

json::object Retries(const CoordinatoolSetup& cdt) {
  json::object status = cdt.Status();
  const json::value* r = status.if_contains("retries");
  return r && r->is_object() ? r->as_object() : json::object();
}

// Writes file NAME and asks for its archive; first blocks mover-a's copy
// of it: a plain file where its archive directory must go (ct-posix's
// layout: ROOT/<oid, 4 hex digits>/...), so its archive fails with
// ENOTDIR. Returns the file's FID.
std::string ArchiveBlockedOn(SimMount& sim, const std::string& name,
                             const std::string& root) {
  const std::string path = sim.Path(name);
  EXPECT_TRUE(WriteTestFile(path, 20000, 0).has_value()) << path;
  const std::string fid = FidOf(path);
  const size_t colon = fid.find(':');
  const unsigned long long oid = std::stoull(
      fid.substr(colon + 1, fid.find(':', colon + 1) - colon - 1), nullptr, 16);
  char hex4[8];
  std::snprintf(hex4, sizeof(hex4), "%04llx", oid & 0xFFFF);
  std::ofstream(root + "/" + hex4) << "x";
  RunLfs(sim, "hsm_archive", {path});
  return fid;
}

int64_t RetryCounter(const CoordinatoolSetup& cdt, const char* key) {
  json::object r = Retries(cdt);
  const json::value* v = r.if_contains(key);
  return v && v->is_number() ? v->to_number<int64_t>() : 0;
}

TEST(RetryTest, FailedArchiveGoesToAnotherMoverThenGivesUpAfterMaxAttempts) {
  SimMount sim;
  // Retries need NRA cleared. A long loop period first: the failed request
  // goes again at the next housekeeping pass, which the test triggers once
  // the second mover is there.
  ASSERT_TRUE(sim.StartDaemon({"hsm.policy=-NRA", "hsm.loop_period=3600"}));
  CoordinatoolSetup cdt(sim);
  const std::string config = sim.archive() + "/../coordinatool.conf";
  std::ofstream(config) << "retry_max_attempts 2\n";
  ASSERT_TRUE(cdt.StartServer({"-c", config, "--client-grace", "600000"}));
  const std::string root_a = sim.archive() + "/../archive-a";
  std::filesystem::create_directories(root_a);
  cdt.set_mover_command({CtPosixBinary(), "-p", root_a, "-u", "1"});
  ASSERT_NE(cdt.StartMover("mover-a", kRetryEnv), nullptr);
  cdt.set_mover_command({});

  // The first attempt fails on mover-a, retryable: remembered.
  const std::string fid = ArchiveBlockedOn(sim, "r", root_a);
  ASSERT_TRUE(WaitFor([&] { return RetryCounter(cdt, "remembered") == 1; }))
      << cdt.Logs();
  json::object retries = Retries(cdt);
  EXPECT_EQ(retries.at("max_attempts"), 2);
  const json::object& entry =
      retries.at("requests").as_array().at(0).as_object();
  EXPECT_EQ(entry.at("failed_attempts"), 1);
  EXPECT_EQ(entry.at("failed_on"), json::array({"mover-a"}));
  EXPECT_EQ(entry.at("last_error"), ENOTDIR);
  EXPECT_EQ(sim.StatusOf(fid, "ARCHIVE"), "WAITING");

  // mover-b comes; Lustre sends the request again: it goes to mover-b,
  // though mover-a is idle and asking.
  Process* mover_b = cdt.StartMover("mover-b", kRetryEnv);
  ASSERT_NE(mover_b, nullptr);
  ASSERT_TRUE(sim.SetParam("hsm.loop_period", "1"));
  ASSERT_TRUE(sim.WaitForStatus(fid, "ARCHIVE", "SUCCEED")) << cdt.Logs();
  EXPECT_EQ(RetryCounter(cdt, "returned"), 1);
  EXPECT_EQ(RetryCounter(cdt, "remembered"), 0);  // it succeeded
  EXPECT_EQ(cdt.ServerLogLines("request retry .*attempt=2 failed_on=mover-a "
                               ".*mover=mover-b")
                .size(),
            1u)
      << cdt.Logs();
  EXPECT_EQ(cdt.ServerLogLines("request done .*mover=mover-b status=0").size(),
            1u)
      << cdt.Logs();

  // mover-b goes: the only mover left failed it, so the returning request
  // waits in the global queues, mover-a fails it again, and the request
  // that comes back after that second attempt is failed at Lustre.
  mover_b->Kill();
  ASSERT_TRUE(WaitFor(
      [&] { return cdt.ClientField("mover-b", "status") == "disconnected"; }));
  const std::string fid2 = ArchiveBlockedOn(sim, "g", root_a);
  ASSERT_TRUE(sim.WaitForStatus(fid2, "ARCHIVE", "FAILED")) << cdt.Logs();
  EXPECT_EQ(RetryCounter(cdt, "given_up"), 1);
  EXPECT_EQ(RetryCounter(cdt, "remembered"), 0);
  EXPECT_EQ(cdt.ServerLogLines("request retry .*attempt=2 failed_on=mover-a "
                               ".*mover=any")
                .size(),
            1u)
      << cdt.Logs();
  EXPECT_EQ(cdt.ServerLogLines("request dropped .*reason=retries attempts=2 "
                               "status=" +
                               std::to_string(ENOTDIR))
                .size(),
            1u)
      << cdt.Logs();
  EXPECT_EQ(cdt.ServerLogLines("request done .*mover=mover-a status=" +
                               std::to_string(ENOTDIR) + ".* retry=yes")
                .size(),
            3u)
      << cdt.Logs();
}

// One action per file at a time across a retry (docs/policies.md): an
// archive ended with HP_FLAG_RETRY is back at Lustre, WAITING; a remove of
// the file that arrives meanwhile must wait for the archive's next attempt
// to end, not run in the gap (it would remove the copy the retry then
// writes, or race it). Lustre sends the archive again only at its next
// housekeeping pass, so the gap is wide open here.
TEST(RetryTest, ARemoveWaitsForTheRetryOfTheFilesArchive) {
  SimMount sim;
  ASSERT_TRUE(sim.StartDaemon({"hsm.policy=-NRA", "hsm.loop_period=3600"}));
  CoordinatoolSetup cdt(sim);
  ASSERT_TRUE(cdt.StartServer({"--client-grace", "600000"}));
  const std::string root_a = sim.archive() + "/../archive-a";
  std::filesystem::create_directories(root_a);
  cdt.set_mover_command({CtPosixBinary(), "-p", root_a, "-u", "1"});
  ASSERT_NE(cdt.StartMover("mover-a", kRetryEnv), nullptr);
  cdt.set_mover_command({});

  const std::string fid = ArchiveBlockedOn(sim, "f", root_a);
  ASSERT_TRUE(WaitFor([&] { return RetryCounter(cdt, "remembered") == 1; }))
      << cdt.Logs();
  EXPECT_EQ(RetryCounter(cdt, "awaiting"), 1) << cdt.Logs();
  RunLfs(sim, "hsm_remove", {sim.Path("f")});
  // The remove reaches the server and is held, though mover-a is idle.
  ASSERT_TRUE(WaitFor([&] { return cdt.Counter("held_same_fid") == 1; }))
      << cdt.Logs();
  EXPECT_TRUE(cdt.ServerLogLines("request sent .*action=REMOVE").empty())
      << cdt.Logs();

  // mover-b comes and Lustre sends the archive again: it runs there, then
  // the remove.
  ASSERT_NE(cdt.StartMover("mover-b", kRetryEnv), nullptr);
  ASSERT_TRUE(sim.SetParam("hsm.loop_period", "1"));
  ASSERT_TRUE(sim.WaitForStatus(fid, "ARCHIVE", "SUCCEED")) << cdt.Logs();
  ASSERT_TRUE(WaitFor([&] {
    const std::string st = sim.StatusOf(fid, "REMOVE");
    return st == "SUCCEED" || st == "FAILED";
  })) << cdt.Logs();
  EXPECT_EQ(RetryCounter(cdt, "awaiting"), 0);
  EXPECT_EQ(cdt.Counter("held_same_fid"), 0);
  // In the server's log, the remove is sent after the archive's success.
  const std::vector<std::string> events = cdt.ServerLogLines(
      "request (sent .*action=REMOVE|done .*action=ARCHIVE .*status=0)");
  ASSERT_EQ(events.size(), 2u) << cdt.Logs();
  EXPECT_NE(events[0].find("done"), std::string::npos) << events[0];
  EXPECT_NE(events[1].find("sent"), std::string::npos) << events[1];
}

}  // namespace
}  // namespace testing_support
