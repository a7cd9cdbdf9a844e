// Safe by default (issue 12): a server without TLS and authentication that
// is asked to listen on every address listens on loopback only and says
// why; with allow_insecure it listens where asked, with a warning. What
// the kernel bound is read from /proc/net/tcp, not from the server's log.
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <cstdio>
#include <fstream>
#include <regex>
#include <sstream>
#include <string>

#include "tests/server/coordinatool_setup.h"
#include "tests/support/process.h"
#include "tests/support/sim_mount.h"
#include "tests/support/temp_dir.h"
#include "tests/support/test_pki.h"
#include "tests/support/wait_for.h"

namespace testing_support {
namespace {

std::string Slurp(const std::string& path) {
  std::ifstream in(path);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

// The local address (hex, as /proc/net/tcp writes it) of the listening
// IPv4 socket on `port`, or "".
std::string ListeningAddress(int port) {
  std::istringstream in(Slurp("/proc/net/tcp"));
  char wanted[8];
  snprintf(wanted, sizeof(wanted), ":%04X", port);
  for (std::string line; std::getline(in, line);) {
    std::istringstream fields(line);
    std::string slot, local, remote, state;
    fields >> slot >> local >> remote >> state;
    if (state == "0A" && local.ends_with(wanted))
      return local.substr(0, local.size() - 5);
  }
  return "";
}

class ListenExposureTest : public ::testing::Test {
 protected:
  void SetUp() override { ASSERT_TRUE(sim_.StartDaemon()); }

  // Starts the server with `args`; the host and port of its "serving" line.
  void Start(const std::vector<std::string>& args) {
    log_ = dir_.Join("coordinatool.log");
    std::vector<std::string> argv = {CoordinatoolBinary(), "--no-store", "-p",
                                     "0"};
    argv.insert(argv.end(), args.begin(), args.end());
    argv.push_back(sim_.mount());
    SpawnOptions options;
    options.stdout_path = options.stderr_path = log_;
    options.env = {{"COORDINATOOL_CONF", "/dev/null"}};
    std::string error;
    server_ = Process::Spawn(argv, options, &error);
    ASSERT_GE(server_.pid(), 0) << error;
    std::regex serving(R"(serving .* on (\S+):(\d+))");
    std::smatch match;
    std::string text;
    ASSERT_TRUE(WaitFor([&] {
      text = Slurp(log_);
      return std::regex_search(text, match, serving);
    })) << text;
    host_ = match[1];
    port_ = std::stoi(match[2]);
  }

  SimMount sim_;
  TempDir dir_;
  Process server_;
  std::string log_, host_;
  int port_ = 0;
};

TEST_F(ListenExposureTest, NothingSecureConfinesToLoopbackAndSaysWhy) {
  Start({"-H", "0.0.0.0"});
  EXPECT_EQ(host_, "127.0.0.1");
  EXPECT_EQ(ListeningAddress(port_), "0100007F");  // 127.0.0.1
  const std::string log = Slurp(log_);
  EXPECT_NE(log.find("warning not listening on 0.0.0.0, not a loopback "
                     "address: with no TLS and no authentication"),
            std::string::npos)
      << log;
  EXPECT_NE(log.find("or set allow_insecure to listen on 0.0.0.0 anyway"),
            std::string::npos)
      << log;
  // Served there.
  CommandResult status = RunCommand({CoordinatoolClientBinary(), "-H",
                                     "127.0.0.1", "-p", std::to_string(port_)});
  EXPECT_TRUE(status.ok()) << status.Describe();
}

TEST_F(ListenExposureTest, AllowInsecureListensWhereAskedWithAWarning) {
  Start({"-H", "0.0.0.0", "--allow-insecure", "true"});
  EXPECT_EQ(host_, "0.0.0.0");
  EXPECT_EQ(ListeningAddress(port_), "00000000");  // every address
  const std::string log = Slurp(log_);
  EXPECT_NE(log.find("warning INSECURE: listening on 0.0.0.0 with no TLS and "
                     "no authentication (allow_insecure)"),
            std::string::npos)
      << log;
}

TEST_F(ListenExposureTest, LoopbackHostIsKeptAndNoted) {
  Start({"-H", "127.0.0.1"});
  EXPECT_EQ(host_, "127.0.0.1");
  EXPECT_EQ(ListeningAddress(port_), "0100007F");
  const std::string log = Slurp(log_);
  EXPECT_NE(log.find("info listening on loopback 127.0.0.1 with no TLS and "
                     "no authentication"),
            std::string::npos)
      << log;
  EXPECT_EQ(log.find(" warning "), std::string::npos) << log;
}

// TLS with client certificates required protects the port: the server
// listens where asked. TLS that lets any client in does not.
TEST_F(ListenExposureTest, TlsWithRequiredClientCertificatesListensWhereAsked) {
  TestPki pki(dir_.path());
  ASSERT_TRUE(pki.ok()) << pki.error();
  const std::vector<std::string> tls = {"--tls-cert", pki.server().cert,
                                        "--tls-key",  pki.server().key,
                                        "--tls-ca",   pki.ca()};
  std::vector<std::string> args = {"-H", "0.0.0.0", "--tls-client-cert",
                                   "required"};
  args.insert(args.end(), tls.begin(), tls.end());
  Start(args);
  EXPECT_EQ(host_, "0.0.0.0");
  EXPECT_EQ(ListeningAddress(port_), "00000000");
  std::string log = Slurp(log_);
  EXPECT_NE(log.find("info TLS on 0.0.0.0, peers authenticated by client "
                     "certificates"),
            std::string::npos)
      << log;
  server_.Kill();
  std::remove(log_.c_str());
  args = {"-H", "0.0.0.0", "--tls-client-cert", "optional"};
  args.insert(args.end(), tls.begin(), tls.end());
  Start(args);
  EXPECT_EQ(host_, "127.0.0.1");
  log = Slurp(log_);
  EXPECT_NE(log.find("with no authentication of its peers"), std::string::npos)
      << log;
}

// An auth file is the other way to authenticate peers: with TLS (client
// certificates optional) the server listens where asked; without TLS the
// tokens would cross the network in clear, so it keeps to loopback.
TEST_F(ListenExposureTest, TlsWithAnAuthFileListensWhereAsked) {
  TestPki pki(dir_.path());
  ASSERT_TRUE(pki.ok()) << pki.error();
  const std::string auth_file = dir_.Join("auth");
  {
    std::ofstream out(auth_file);
    out << "admin token ops 0123456789abcdef0123456789abcdef\n";
  }
  ASSERT_EQ(chmod(auth_file.c_str(), 0600), 0);
  std::vector<std::string> args = {
      "-H",         "0.0.0.0",         "--auth-file", auth_file,
      "--tls-cert", pki.server().cert, "--tls-key",   pki.server().key};
  Start(args);
  EXPECT_EQ(host_, "0.0.0.0");
  EXPECT_EQ(ListeningAddress(port_), "00000000");
  std::string log = Slurp(log_);
  EXPECT_NE(log.find("info TLS on 0.0.0.0, peers authenticated by the "
                     "auth_file"),
            std::string::npos)
      << log;
  server_.Kill();
  std::remove(log_.c_str());
  Start({"-H", "0.0.0.0", "--auth-file", auth_file});
  EXPECT_EQ(host_, "127.0.0.1");
  log = Slurp(log_);
  EXPECT_NE(log.find("with no TLS"), std::string::npos) << log;
}

}  // namespace
}  // namespace testing_support
