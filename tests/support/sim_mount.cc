#include "tests/support/sim_mount.h"

#include <sys/stat.h>

#include <sstream>

#include "hsm/fid.h"
#include "hsm/lustreapi.h"
#include "tests/support/file_data.h"

namespace testing_support {
namespace {

std::string Tail(const std::string& text, size_t max) {
  return text.size() <= max ? text : "..." + text.substr(text.size() - max);
}

}  // namespace

std::string SimMdtBinary() { return SIM_MDT_BIN; }
std::string SimLfsBinary() { return SIM_LFS_BIN; }
std::string SimLctlBinary() { return SIM_LCTL_BIN; }
std::string CtPosixBinary() { return CT_POSIX_BIN; }

const std::string& ActionRecord::Get(const std::string& key) const {
  static const std::string kEmpty;
  auto it = fields.find(key);
  return it == fields.end() ? kEmpty : it->second;
}

std::vector<ActionRecord> ParseActions(const std::string& text) {
  std::vector<ActionRecord> records;
  std::istringstream lines(text);
  std::string line;
  while (std::getline(lines, line)) {
    if (line.find("action=") == std::string::npos) continue;
    ActionRecord r;
    r.line = line;
    std::istringstream words(line);
    std::string word;
    while (words >> word) {
      const size_t eq = word.find('=');
      if (eq != std::string::npos)
        r.fields[word.substr(0, eq)] = word.substr(eq + 1);
    }
    records.push_back(std::move(r));
  }
  return records;
}

std::vector<std::string> SimMount::DefaultSettings() {
  // Finished requests stay in hsm.actions for the whole test.
  return {"hsm.max_requests=10000", "hsm.min_scan_interval_ms=10",
          "hsm.loop_period=1", "hsm.grace_delay=3600"};
}

SimMode DefaultSimMode() {
  const char* v = getenv("COORDINATOOL_SIM_MODE");
  return v != nullptr && std::string(v) == "fuse" ? SimMode::kFuse
                                                  : SimMode::kDirectory;
}

SimMount::SimMount(std::string fsname, SimMode mode)
    : dir_("sim-mount"),
      fsname_(std::move(fsname)),
      mode_(mode),
      mount_(dir_.Join("mnt")),
      backing_(mode == SimMode::kFuse ? dir_.Join("backing") : ""),
      archive_(dir_.Join("archive")),
      logs_(dir_.Join("logs")),
      daemon_(SimMdtBinary(), mount_, fsname_, logs_) {
  for (const std::string& d : {mount_, archive_, logs_}) mkdir(d.c_str(), 0755);
  if (mode_ == SimMode::kFuse) daemon_.set_fuse_backing(backing_);
}

SimMount::~SimMount() {
  for (auto& ct : copytools_) ct->Kill();
  daemon_.Kill();
  if (::testing::Test::HasFailure()) {
    std::fprintf(stderr, "---- logs of %s ----\n%s\n", dir_.path().c_str(),
                 Logs().c_str());
  }
}

::testing::AssertionResult SimMount::StartDaemon(
    const std::vector<std::string>& settings) {
  std::vector<std::string> all = DefaultSettings();
  all.insert(all.end(), settings.begin(), settings.end());
  const std::string error = daemon_.Start(all);
  if (error.empty()) return ::testing::AssertionSuccess();
  return ::testing::AssertionFailure() << error << "; logs:\n" << Logs();
}

Process* SimMount::StartCopytool(const std::vector<std::string>& extra_args) {
  const size_t agents = AgentCount();
  std::vector<std::string> argv = {CtPosixBinary(), "-p", archive_, "-u", "1"};
  argv.insert(argv.end(), extra_args.begin(), extra_args.end());
  argv.push_back(mount_);
  SpawnOptions options;
  options.stdout_path = options.stderr_path =
      logs_ + "/ct-" + std::to_string(copytools_.size() + 1) + ".log";
  std::string error;
  auto ct = std::make_unique<Process>(Process::Spawn(argv, options, &error));
  if (ct->pid() < 0) {
    ADD_FAILURE() << error;
    return nullptr;
  }
  copytools_.push_back(std::move(ct));
  if (!WaitFor([&] { return AgentCount() > agents; })) {
    ADD_FAILURE() << "ct-posix did not register; logs:\n" << Logs();
    return nullptr;
  }
  return copytools_.back().get();
}

std::string SimMount::Logs() const {
  std::string out;
  std::vector<std::string> names = daemon_.LogNames();
  for (size_t i = 1; i <= copytools_.size(); ++i) {
    names.push_back("ct-" + std::to_string(i) + ".log");
  }
  for (const std::string& name : names) {
    out += "== " + name + " ==\n" +
           Tail(ReadWholeFile(logs_ + "/" + name), 4000) + "\n";
  }
  return out;
}

CommandResult SimMount::Lfs(const std::vector<std::string>& args) const {
  std::vector<std::string> argv = {SimLfsBinary()};
  argv.insert(argv.end(), args.begin(), args.end());
  return RunCommand(argv);
}

std::vector<std::string> SimMount::ArchiveNewFiles(
    const std::string& name, int count, const std::string& data) const {
  std::vector<std::string> paths;
  for (int i = 0; i < count; ++i) {
    std::string path = Path(name + std::to_string(i));
    EXPECT_TRUE(WriteTestFile(path, 20000 + i, i).has_value()) << path;
    paths.push_back(path);
  }
  std::vector<std::string> args = {"hsm_archive"};
  if (!data.empty()) args.insert(args.end(), {"--data", data});
  args.insert(args.end(), paths.begin(), paths.end());
  CommandResult r = Lfs(args);
  EXPECT_TRUE(r.ok()) << r.Describe();
  return paths;
}

CommandResult SimMount::Lctl(const std::vector<std::string>& args) const {
  std::vector<std::string> argv = {SimLctlBinary(), "--mount", mount_};
  argv.insert(argv.end(), args.begin(), args.end());
  return RunCommand(argv);
}

std::string SimMount::Param(const std::string& name) const {
  return "mdt." + fsname_ + "-MDT0000." + name;
}

std::string SimMount::GetParam(const std::string& name) const {
  CommandResult r = Lctl({"get_param", "-n", Param(name)});
  if (!r.ok()) {
    ADD_FAILURE() << "get_param " << name << ": " << r.Describe();
    return "";
  }
  return r.out;
}

::testing::AssertionResult SimMount::SetParam(const std::string& name,
                                              const std::string& value) const {
  CommandResult r = Lctl({"set_param", Param(name) + "=" + value});
  if (r.ok()) return ::testing::AssertionSuccess();
  return ::testing::AssertionFailure()
         << "set_param " << name << "=" << value << ": " << r.Describe();
}

std::string SimMount::StatusOf(const std::string& fid,
                               const std::string& action) const {
  std::string status;
  for (const ActionRecord& r : Actions()) {
    if (r.fid() == fid && r.action() == action) status = r.status();
  }
  return status;
}

::testing::AssertionResult SimMount::WaitForStatus(
    const std::string& fid, const std::string& action,
    const std::string& status, std::chrono::milliseconds timeout) const {
  if (WaitFor([&] { return StatusOf(fid, action) == status; }, timeout, 50ms)) {
    return ::testing::AssertionSuccess();
  }
  return ::testing::AssertionFailure()
         << action << " of " << fid << " is '" << StatusOf(fid, action)
         << "', not " << status << " after " << timeout.count()
         << " ms; hsm.actions:\n"
         << Tail(GetParam("hsm.actions"), 4000);
}

size_t SimMount::CountActions(const std::string& action,
                              const std::string& status) const {
  size_t n = 0;
  for (const ActionRecord& r : Actions()) {
    if (r.action() == action && r.status() == status) ++n;
  }
  return n;
}

size_t SimMount::AgentCount() const {
  CommandResult r = Lctl({"get_param", "-n", Param("hsm.agents")});
  size_t n = 0;
  std::istringstream lines(r.out);
  std::string line;
  while (std::getline(lines, line)) {
    if (line.rfind("uuid=", 0) == 0) ++n;
  }
  return n;
}

std::string FidOf(const std::string& path) {
  lu_fid fid{};
  const int rc = llapi_path2fid(path.c_str(), &fid);
  if (rc < 0) {
    ADD_FAILURE() << "llapi_path2fid(" << path << "): " << rc;
    return "";
  }
  return hsm::FormatFid(fid);
}

}  // namespace testing_support
