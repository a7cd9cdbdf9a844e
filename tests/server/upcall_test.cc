// The LU-10968 upcall path end to end (docs/upcall.md): the simulated MDT
// with hsm.upcall_mask=ARCHIVE runs coordinatool-upcall instead of queueing
// archives in its coordinator; the upcall queues them into the server
// (exit 0 once durable); coordinatool-upcall-worker takes them and runs
// `sim-lfs hsm_upcall WORKER ...`, whose bypass calls mark the files
// archived at the MDT. With the server down, the upcall fails with a
// message and so does the request at Lustre's side.
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <fstream>
#include <string>
#include <vector>

#include "tests/server/coordinatool_setup.h"
#include "tests/support/file_data.h"
#include "tests/support/process.h"
#include "tests/support/sim_mount.h"
#include "tests/support/temp_dir.h"
#include "tests/support/wait_for.h"

namespace testing_support {
namespace {

std::string WriteScript(const TempDir& dir, const std::string& name,
                        const std::string& text) {
  std::string path = dir.Join(name);
  std::ofstream(path) << text;
  EXPECT_EQ(chmod(path.c_str(), 0755), 0);
  return path;
}

std::string ReadAll(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

TEST(UpcallTest, ArchivesGoThroughTheUpcallTheServerAndTheWorker) {
  SimMount sim;
  ASSERT_TRUE(sim.StartDaemon());
  CoordinatoolSetup cdt(sim);
  ASSERT_TRUE(cdt.StartServer());
  TempDir dir("upcall-test");
  const std::string archive = dir.Join("archive");
  ASSERT_EQ(mkdir(archive.c_str(), 0755), 0);

  // The MDT gives the upcall no environment: its settings come from a file.
  const std::string conf = dir.Join("coordinatool.conf");
  std::ofstream(conf) << "host 127.0.0.1\nport " << cdt.port() << "\n";
  const std::string upcall = WriteScript(
      dir, "upcall",
      "#!/bin/sh\nexec " UPCALL_BIN " --config " + conf + " \"$@\"\n");
  // The site's worker: knows the archive only (ACTION FSNAME ARCHIVE_ID
  // FLAGS DATA FID, the file on stdin for an archive).
  const std::string worker =
      WriteScript(dir, "worker",
                  "#!/bin/sh\ncase \"$1\" in\n  ARCHIVE) exec cat > '" +
                      archive + "/'\"$6\" ;;\n  REMOVE) exec rm -f '" +
                      archive + "/'\"$6\" ;;\nesac\nexit 95\n");

  SpawnOptions options;
  options.env = cdt.ClientEnv();
  options.stderr_path = dir.Join("worker.log");
  std::string error;
  Process worker_process = Process::Spawn(
      {UPCALL_WORKER_BIN, "--id", "upcall-worker", "--lfs", SimLfsBinary(),
       "--mntpath", sim.mount(), "--parallel", "3", worker},
      options, &error);
  ASSERT_GT(worker_process.pid(), 0) << error;
  ASSERT_TRUE(WaitFor([&] {
    return cdt.ClientField("upcall-worker", "status") == "waiting";
  })) << cdt.Logs();

  ASSERT_TRUE(sim.SetParam("hsm.upcall_path", upcall));
  ASSERT_TRUE(sim.SetParam("hsm.upcall_mask", "ARCHIVE"));
  std::vector<std::string> files;
  for (int i = 0; i < 8; ++i) {
    files.push_back(sim.Path("f" + std::to_string(i)));
    ASSERT_TRUE(WriteTestFile(files.back(), 4000 + i, i));
  }
  std::vector<std::string> args = {"hsm_archive", "--data", "tag=up"};
  args.insert(args.end(), files.begin(), files.end());
  CommandResult archived = sim.Lfs(args);
  ASSERT_TRUE(archived.ok()) << archived.Describe() << sim.Logs();

  // Each file archived at the MDT, its copy in the archive, and no record
  // in the coordinator's log: the coordinator was bypassed.
  for (const std::string& file : files) {
    const std::string fid = FidOf(file);
    ASSERT_TRUE(WaitFor([&] {
      CommandResult state = sim.Lfs({"hsm_state", file});
      return state.out.find("exists archived") != std::string::npos;
    })) << file
        << "\n"
        << ReadAll(dir.Join("worker.log")) << cdt.Logs();
    EXPECT_EQ(DigestFile(archive + "/" + fid), DigestFile(file)) << fid;
  }
  EXPECT_EQ(sim.CountActions("ARCHIVE", "WAITING") +
                sim.CountActions("ARCHIVE", "STARTED") +
                sim.CountActions("ARCHIVE", "SUCCEED"),
            0u);
  EXPECT_TRUE(WaitFor([&] { return cdt.Counter("done_archive") == 8; }))
      << cdt.Counter("done_archive");
  EXPECT_EQ(cdt.Counter("failed_archive"), 0);

  // The server down: the upcall fails with a message, and so does the
  // request at Lustre's side; nothing is archived.
  cdt.KillServer();
  const std::string late = sim.Path("late");
  ASSERT_TRUE(WriteTestFile(late, 100, 99));
  CommandResult refused = sim.Lfs({"hsm_archive", late});
  EXPECT_NE(refused.exit_code, 0) << refused.Describe();
  EXPECT_NE(refused.err.find("Connection refused"), std::string::npos)
      << refused.Describe();
  EXPECT_TRUE(WaitFor([&] {
    return sim.Logs().find(
               "coordinatool-upcall: ARCHIVE of 1 files not "
               "queued: cannot connect to 127.0.0.1:") != std::string::npos;
  })) << sim.Logs();
  EXPECT_EQ(sim.Lfs({"hsm_state", late}).out.find("archived"),
            std::string::npos);
  worker_process.Kill();
}

}  // namespace
}  // namespace testing_support
