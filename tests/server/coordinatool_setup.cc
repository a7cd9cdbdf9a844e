#include "tests/server/coordinatool_setup.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <regex>
#include <sstream>

#include "client/session.h"
#include "tests/support/wait_for.h"

namespace testing_support {

namespace json = boost::json;

std::string CoordinatoolBinary() {
  // Another build's server, for before/after measurements by hand.
  const char* other = getenv("COORDINATOOL_TEST_SERVER_BIN");
  return other && *other ? other : COORDINATOOL_BIN;
}
std::string CoordinatoolClientBinary() { return COORDINATOOL_CLIENT_BIN; }
std::string PreloadLibrary() { return PRELOAD_LIB; }

void RunLfs(SimMount& sim, const std::string& command,
            const std::vector<std::string>& paths) {
  std::vector<std::string> args = {command};
  args.insert(args.end(), paths.begin(), paths.end());
  CommandResult r = sim.Lfs(args);
  ASSERT_TRUE(r.ok()) << r.Describe();
}

namespace {

std::string ReadFile(const std::string& path) {
  std::ifstream in(path);
  std::stringstream buffer;
  buffer << in.rdbuf();
  return buffer.str();
}

std::string Tail(const std::string& text, size_t bytes) {
  return text.size() <= bytes ? text : text.substr(text.size() - bytes);
}

}  // namespace

CoordinatoolSetup::~CoordinatoolSetup() {
  for (auto& mover : movers_) mover->Kill();
  server_.Kill();
  // Every store call of the server carries the handle its store gave the
  // request (store/store.h); one without it stops the journal's compaction
  // until a restart. No test may reach that, whatever it exercises.
  for (int i = 1; i <= server_starts_; ++i) {
    std::string log = ReadFile(sim_.archive() + "/../logs/coordinatool-" +
                               std::to_string(i) + ".log");
    size_t at = log.find("came without its handle");
    if (at != std::string::npos) {
      size_t begin = log.rfind('\n', at);
      begin = begin == std::string::npos ? 0 : begin + 1;
      ADD_FAILURE() << "coordinatool-" << i << ": "
                    << log.substr(begin, log.find('\n', at) - begin);
    }
  }
}

int FreeLoopbackPort() {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t length = sizeof(address);
  int port = -1;
  if (bind(fd, reinterpret_cast<sockaddr*>(&address), sizeof(address)) == 0 &&
      getsockname(fd, reinterpret_cast<sockaddr*>(&address), &length) == 0)
    port = ntohs(address.sin_port);
  close(fd);
  return port;
}

::testing::AssertionResult CoordinatoolSetup::StartServer(
    const std::vector<std::string>& args) {
  if (!http_) return StartServerOnce(args);
  for (int attempt = 0;; ++attempt) {
    if (http_port_ == 0) http_port_ = FreeLoopbackPort();
    std::vector<std::string> with_http = {"--http-port",
                                          std::to_string(http_port_)};
    with_http.insert(with_http.end(), args.begin(), args.end());
    ::testing::AssertionResult started = StartServerOnce(with_http);
    if (started || attempt == 3 ||
        ServerLogLines("http_port: cannot listen").empty())
      return started;
    http_port_ = 0;  // taken meanwhile by another process
  }
}

::testing::AssertionResult CoordinatoolSetup::StartServerOnce(
    const std::vector<std::string>& args) {
  ++server_starts_;
  std::string log = sim_.archive() + "/../logs/coordinatool-" +
                    std::to_string(server_starts_) + ".log";
  std::vector<std::string> argv = {CoordinatoolBinary()};
  if (!listen_from_config_)
    argv.insert(argv.end(), {"-H", "127.0.0.1", "-p", std::to_string(port_)});
  if (std::find(args.begin(), args.end(), "--state-dir") == args.end()) {
    argv.push_back("--state-dir");
    argv.push_back(state_dir());
  }
  argv.insert(argv.end(), args.begin(), args.end());
  argv.push_back(sim_.mount());
  SpawnOptions options;
  options.stdout_path = options.stderr_path = log;
  options.env = {{"COORDINATOOL_REDIS_HOST", ""},
                 {"COORDINATOOL_CONF", "/dev/null"}};
  if (tls()) {
    options.env.push_back({"COORDINATOOL_TLS_CERT", tls_.server_cert});
    options.env.push_back({"COORDINATOOL_TLS_KEY", tls_.server_key});
    if (!tls_.client_ca.empty()) {
      options.env.push_back({"COORDINATOOL_TLS_CA", tls_.client_ca});
      options.env.push_back({"COORDINATOOL_TLS_CLIENT_CERT", "required"});
    }
  }
  if (!auth_file_.empty())
    options.env.emplace_back("COORDINATOOL_AUTH_FILE", auth_file_);
  std::string error;
  server_ = Process::Spawn(argv, options, &error);
  if (server_.pid() < 0) return ::testing::AssertionFailure() << error;
  std::regex serving(R"(serving .* on 127\.0\.0\.1:(\d+))");
  int port = -1;
  bool exited = false;
  bool up = WaitFor([&] {
    // The match points into the text it was searched in, so the port is
    // taken out while that text is alive.
    const std::string text = ReadFile(log);
    std::smatch match;
    if (std::regex_search(text, match, serving)) {
      port = std::stoi(match[1]);
      return true;
    }
    // A server that refused to start is not waited for until the bound.
    exited = !server_.Running();
    return exited;
  });
  if (up && !exited) port_ = port;
  if (!up || exited)
    return ::testing::AssertionFailure() << "coordinatool did not start; log:\n"
                                         << Tail(ReadFile(log), 4000);
  return ::testing::AssertionSuccess();
}

void CoordinatoolSetup::EnableAuth() {
  const std::string dir = sim_.archive() + "/../auth";
  std::filesystem::create_directories(dir);
  const std::string admin = "setup-admin-token-0123456789";
  const std::string movers = "setup-movers-token-0123456789";
  auto write = [](const std::string& path, const std::string& text) {
    std::ofstream(path) << text;
    EXPECT_EQ(chmod(path.c_str(), 0600), 0) << path;
  };
  auth_file_ = dir + "/auth";
  write(auth_file_, "admin token admin " + admin + "\nmover token movers " +
                        movers + " *\n");
  admin_token_file_ = dir + "/admin.token";
  write(admin_token_file_, admin + "\n");
  movers_token_file_ = dir + "/movers.token";
  write(movers_token_file_, movers + "\n");
  status_token_ = admin;
}

std::string CoordinatoolSetup::state_dir() const {
  return sim_.archive() + "/../state";
}

std::vector<std::string> CoordinatoolSetup::ServerLogLines(
    const std::string& pattern) const {
  std::regex re(pattern);
  std::vector<std::string> lines;
  for (int i = 1; i <= server_starts_; ++i) {
    std::istringstream in(ReadFile(sim_.archive() + "/../logs/coordinatool-" +
                                   std::to_string(i) + ".log"));
    for (std::string line; std::getline(in, line);)
      if (std::regex_search(line, re)) lines.push_back(line);
  }
  return lines;
}

std::vector<std::pair<std::string, std::string>> CoordinatoolSetup::ClientEnv()
    const {
  std::vector<std::pair<std::string, std::string>> env = {
      {"COORDINATOOL_HOST", "127.0.0.1"},
      {"COORDINATOOL_PORT", std::to_string(client_port())},
      {"COORDINATOOL_CONF", "/dev/null"}};
  if (tls()) {
    env.push_back({"COORDINATOOL_CLIENT_TLS_CA", tls_.ca});
    if (!tls_.client_cert.empty()) {
      env.push_back({"COORDINATOOL_CLIENT_TLS_CERT", tls_.client_cert});
      env.push_back({"COORDINATOOL_CLIENT_TLS_KEY", tls_.client_key});
    }
  }
  return env;
}

Process* CoordinatoolSetup::StartMover(
    const std::string& id,
    const std::vector<std::pair<std::string, std::string>>& env,
    const std::vector<std::string>& ct_args) {
  if (!SpawnMover(id, env, ct_args)) return nullptr;
  if (!WaitFor([&] {
        std::string status = ClientField(id, "status");
        return !status.empty() && status != "disconnected";
      })) {
    ADD_FAILURE() << "mover " << id << " did not connect; logs:\n" << Logs();
    return nullptr;
  }
  return movers_.back().get();
}

Process* CoordinatoolSetup::SpawnMover(
    const std::string& id,
    const std::vector<std::pair<std::string, std::string>>& env,
    const std::vector<std::string>& ct_args) {
  std::vector<std::string> argv = {CtPosixBinary(), "-p", sim_.archive(), "-u",
                                   "1"};
  if (!mover_command_.empty()) argv = mover_command_;
  argv.insert(argv.end(), ct_args.begin(), ct_args.end());
  argv.push_back(sim_.mount());
  SpawnOptions options;
  std::string log = sim_.archive() + "/../logs/mover-" + id + "-" +
                    std::to_string(movers_.size()) + ".log";
  mover_logs_.push_back(log);
  mover_log_of_[id] = log;
  options.stdout_path = options.stderr_path = log;
  options.env = ClientEnv();
  options.env.emplace_back("COORDINATOOL_CLIENT_ID", id);
  options.env.emplace_back("LD_PRELOAD", PreloadLibrary());
  // Under AddressSanitizer the preloaded library comes before the ASan
  // runtime, which ASan refuses unless told this order is intended.
  const char* asan = getenv("ASAN_OPTIONS");
  options.env.emplace_back("ASAN_OPTIONS", std::string(asan ? asan : "") +
                                               (asan && *asan ? ":" : "") +
                                               "verify_asan_link_order=0");
  if (!movers_token_file_.empty())
    options.env.emplace_back("COORDINATOOL_TOKEN_FILE", movers_token_file_);
  options.env.insert(options.env.end(), env.begin(), env.end());
  std::string error;
  auto mover = std::make_unique<Process>(Process::Spawn(argv, options, &error));
  if (mover->pid() < 0) {
    ADD_FAILURE() << error;
    return nullptr;
  }
  movers_.push_back(std::move(mover));
  return movers_.back().get();
}

CommandResult CoordinatoolSetup::Client(const std::vector<std::string>& args,
                                        const std::string& stdin_text) const {
  std::vector<std::string> argv = {CoordinatoolClientBinary(), "-H",
                                   "127.0.0.1", "-p",
                                   std::to_string(client_port())};
  if (!admin_token_file_.empty()) {
    argv.push_back("--token-file");
    argv.push_back(admin_token_file_);
  }
  argv.insert(argv.end(), args.begin(), args.end());
  SpawnOptions options;
  if (tls()) options.env = ClientEnv();
  if (stdin_text.empty())
    return RunCommand(argv, std::chrono::seconds(60), options);
  // Feed stdin through a file: RunCommand inherits the test's stdin.
  std::string input = sim_.archive() + "/../logs/client-stdin.txt";
  std::ofstream(input) << stdin_text;
  std::vector<std::string> shell = {"/bin/sh", "-c",
                                    "exec \"$0\" \"$@\" < " + input};
  shell.insert(shell.end(), argv.begin(), argv.end());
  return RunCommand(shell, std::chrono::seconds(60), options);
}

json::object CoordinatoolSetup::Status() const {
  client::Session session;
  session.set_max_reply_bytes(SIZE_MAX);  // dumps of big queues
  if (tls()) {
    client::TlsOptions options;
    options.enabled = true;
    options.ca_file = tls_.ca;
    options.cert_file = tls_.client_cert;
    options.key_file = tls_.client_key;
    session.set_tls(options);
  }
  std::string error;
  json::object reply;
  if (!session.Connect("127.0.0.1", std::to_string(client_port()), &error) ||
      (!status_token_.empty() &&
       !session.Authenticate(status_token_, &error)) ||
      !session.Call({{"command", "ehlo"}}, &reply, 10'000, &error) ||
      !session.Call({{"command", "status"}, {"verbose", 6}}, &reply, 10'000,
                    &error)) {
    ADD_FAILURE() << "status: " << error;
    return {};
  }
  return reply;
}

json::object CoordinatoolSetup::ClientStatus(const std::string& id) const {
  json::object status = Status();
  const json::value* clients = status.if_contains("clients");
  if (!clients || !clients->is_array()) return {};
  for (const json::value& c : clients->get_array()) {
    if (c.is_object() && c.get_object().contains("client_id") &&
        c.get_object().at("client_id") == id.c_str())
      return c.get_object();
  }
  return {};
}

int64_t CoordinatoolSetup::Counter(const std::string& key) const {
  json::object status = Status();
  const json::value* v = status.if_contains(key);
  return v && v->is_int64() ? v->get_int64() : 0;
}

std::string CoordinatoolSetup::ClientField(const std::string& id,
                                           const std::string& key) const {
  json::object c = ClientStatus(id);
  const json::value* v = c.if_contains(key);
  if (!v) return "";
  return v->is_string() ? std::string(v->get_string()) : json::serialize(*v);
}

int64_t CoordinatoolSetup::ClientNumber(const std::string& id,
                                        const std::string& key) const {
  json::object c = ClientStatus(id);
  if (c.empty()) return -1;
  const json::value* v = c.if_contains(key);
  return v && v->is_int64() ? v->get_int64() : 0;
}

std::string CoordinatoolSetup::MoverLog(const std::string& id) const {
  auto it = mover_log_of_.find(id);
  return it == mover_log_of_.end() ? "" : ReadFile(it->second);
}

std::string CoordinatoolSetup::Logs() const {
  std::string out = sim_.Logs();
  for (int i = 1; i <= server_starts_; ++i) {
    std::string log =
        sim_.archive() + "/../logs/coordinatool-" + std::to_string(i) + ".log";
    out += "== coordinatool-" + std::to_string(i) + " ==\n" +
           Tail(ReadFile(log), 4000) + "\n";
  }
  for (const std::string& log : mover_logs_)
    out += "== " + log + " ==\n" + Tail(ReadFile(log), 3000) + "\n";
  return out;
}

}  // namespace testing_support
