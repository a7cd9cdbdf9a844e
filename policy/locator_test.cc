#include "policy/locator.h"

#include <fmt/format.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/wait.h>

#include <boost/asio/io_context.hpp>
#include <cerrno>
#include <fstream>
#include <functional>
#include <sstream>

#ifndef LOCATE_TABLE_PATH
#error "LOCATE_TABLE_PATH: the path of coordinatool-locate-table"
#endif

namespace policy {
namespace {

using std::chrono::milliseconds;

// Temporary files for the helpers.
class TempDir {
 public:
  TempDir() {
    char tmpl[] = "/tmp/locator-test-XXXXXX";
    if (mkdtemp(tmpl)) path_ = tmpl;
  }
  ~TempDir() {
    std::string cmd = "rm -rf '" + path_ + "'";
    if (system(cmd.c_str()) != 0) ADD_FAILURE() << cmd;
  }
  const std::string& path() const { return path_; }
  std::string Write(const std::string& name, const std::string& text) const {
    std::string file = path_ + "/" + name;
    std::ofstream(file) << text;
    return file;
  }
  std::string Read(const std::string& name) const {
    std::ifstream in(path_ + "/" + name);
    std::stringstream s;
    s << in.rdbuf();
    return s.str();
  }

 private:
  std::string path_;
};

// What a lookup's callback received.
struct Outcome {
  bool fired = false;
  std::optional<std::string> mover;
  Locality answer;
};

LocateRequest Restore(std::string data, std::vector<std::string> movers = {
                                            "mover1", "mover2", "mover3"}) {
  return LocateRequest{"[0x200000401:0x2a:0x0]", 1, std::move(data),
                       std::move(movers), "mover1"};
}

constexpr const char* kTable =
    "# tapes of the two libraries\n"
    "\n"
    "VOL001 mover1\n"
    "VOL002 mover2\n"
    "VOL009 mover9\n";

class LocatorTest : public ::testing::Test {
 protected:
  LocatorOptions TableHelper(const std::string& table = kTable) {
    LocatorOptions options;
    options.command = {LOCATE_TABLE_PATH, "--tag",
                       "tape=", dir_.Write("table", table)};
    options.restart_backoff = milliseconds(0);
    return options;
  }
  static LocatorOptions Shell(const std::string& script,
                              std::vector<std::string> args = {}) {
    LocatorOptions options;
    options.command = {"/bin/sh", "-c", script};
    for (std::string& arg : args) options.command.push_back(std::move(arg));
    options.restart_backoff = milliseconds(0);
    return options;
  }
  // A helper whose first run exits 3 at once and whose later runs answer
  // from kTable.
  LocatorOptions ExitsOnceThenRunsTable() {
    return Shell(
        "if [ -e \"$0\" ]; then exec \"$1\" --tag tape= \"$2\"; fi\n"
        "touch \"$0\"; exit 3",
        {dir_.path() + "/started", LOCATE_TABLE_PATH,
         dir_.Write("table", kTable)});
  }

  std::shared_ptr<Outcome> Start(Locator& locator,
                                 const LocateRequest& request) {
    auto outcome = std::make_shared<Outcome>();
    locator.Locate(request, [outcome](Locality answer) {
      EXPECT_FALSE(outcome->fired) << "callback called twice";
      outcome->fired = true;
      outcome->mover = answer.mover;
      outcome->answer = std::move(answer);
    });
    return outcome;
  }

  // Runs the loop until `done()`, for 30 s at most.
  void RunUntil(const std::function<bool()>& done) {
    const auto limit =
        std::chrono::steady_clock::now() + std::chrono::seconds(30);
    while (!done() && std::chrono::steady_clock::now() < limit) {
      io_.restart();
      io_.run_for(milliseconds(5));
    }
    ASSERT_TRUE(done()) << "still waiting after 30 s";
  }

  // One lookup, run to completion.
  std::optional<std::string> LocateNow(Locator& locator,
                                       const LocateRequest& request) {
    auto outcome = Start(locator, request);
    RunUntil([&] { return outcome->fired; });
    return outcome->mover;
  }

  // Every helper was reaped (call once the Locators are gone).
  static void ExpectNoChildren() {
    errno = 0;
    EXPECT_EQ(waitpid(-1, nullptr, WNOHANG), -1);
    EXPECT_EQ(errno, ECHILD);
  }

  boost::asio::io_context io_;
  TempDir dir_;
};

TEST_F(LocatorTest, AnswersTheMoverTheTableGivesForTheTape) {
  {
    Locator locator(io_, TableHelper());
    EXPECT_TRUE(locator.enabled());
    EXPECT_EQ(LocateNow(locator, Restore("tape=VOL002,user=alice")), "mover2");
    EXPECT_EQ(LocateNow(locator, Restore("user=alice,tape=VOL001")), "mover1");
    EXPECT_EQ(locator.in_flight(), 0u);
    EXPECT_EQ(locator.errors(), 0u);
  }
  ExpectNoChildren();
}

TEST_F(LocatorTest, AnswersCarryTheMediumAndPositionOfTheTable) {
  Locator locator(io_, TableHelper("VOL001 mover1\n"
                                   "f1 mover2 T7 4096\n"
                                   "f2 - T7\n"));
  auto old = Start(locator, Restore("tape=VOL001"));
  RunUntil([&] { return old->fired; });
  EXPECT_EQ(old->answer.mover, "mover1");
  EXPECT_EQ(old->answer.medium, "");
  auto f1 = Start(locator, Restore("tape=f1"));
  auto f2 = Start(locator, Restore("tape=f2"));
  RunUntil([&] { return f1->fired && f2->fired; });
  EXPECT_EQ(f1->answer.mover, "mover2");
  EXPECT_EQ(f1->answer.medium, "T7");
  EXPECT_EQ(f1->answer.position, 4096u);
  EXPECT_EQ(f2->answer.mover, std::nullopt);
  EXPECT_EQ(f2->answer.medium, "T7");
  EXPECT_EQ(f2->answer.position, 0u);
  EXPECT_EQ(locator.errors(), 0u);
}

TEST_F(LocatorTest, AnAnswerWithABadMediumOrPositionMeansNoPreference) {
  // Answers each lookup with the next of these lines, its id put in.
  const std::vector<std::string> answers = {
      R"("mover":"mover1","medium":7)",
      R"("mover":"mover1","medium":"T1","position":-1)",
      R"("mover":"mover1","medium":"T1","position":1.5)",
      R"("mover":"mover1","medium":"T1","position":"12")",
      R"("mover":"mover1","medium":"T1","position":18446744073709551616)",
      R"("mover":"mover1","position":12)",
      R"("mover":"mover1","medium":")" + std::string(257, 'x') + "\"",
      R"("mover":"mover1","medium":"T1","position":18446744073709551615)",
      R"("mover":"mover2","medium":null,"position":null)",
      R"("mover":"mover3","medium":"")",
  };
  std::string script = "for answer in";
  for (const std::string& answer : answers) script += " '" + answer + "'";
  script += R"(; do read -r line; id=${line#'{"id":'}; id=${id%%,*}
printf '{"id":%s,%s}\n' "$id" "$answer"; done; exec cat >/dev/null)";
  Locator locator(io_, Shell(script));
  std::vector<Locality> got;
  for (size_t i = 0; i < answers.size(); ++i) {
    auto outcome = Start(locator, Restore("tape=VOL001"));
    RunUntil([&] { return outcome->fired; });
    got.push_back(outcome->answer);
  }
  for (size_t i = 0; i < 7; ++i) {
    EXPECT_EQ(got[i].mover, std::nullopt) << answers[i];
    EXPECT_EQ(got[i].medium, "") << answers[i];
  }
  EXPECT_EQ(got[7].mover, "mover1");
  EXPECT_EQ(got[7].medium, "T1");
  EXPECT_EQ(got[7].position, UINT64_MAX);
  EXPECT_EQ(got[8].mover, "mover2");
  EXPECT_EQ(got[8].medium, "");
  EXPECT_EQ(got[9].mover, "mover3");
  EXPECT_EQ(got[9].medium, "");
  EXPECT_EQ(locator.errors(), 7u);
}

TEST_F(LocatorTest, NoPreferenceForAnUnknownTapeOrADisconnectedMover) {
  Locator locator(io_, TableHelper());
  EXPECT_EQ(LocateNow(locator, Restore("tape=VOL404")), std::nullopt);
  EXPECT_EQ(LocateNow(locator, Restore("user=alice")), std::nullopt);
  EXPECT_EQ(LocateNow(locator, Restore("xtape=VOL001")), std::nullopt);
  // VOL009 sits on mover9, which is not connected.
  EXPECT_EQ(LocateNow(locator, Restore("tape=VOL009")), std::nullopt);
  EXPECT_EQ(LocateNow(locator, Restore("tape=VOL002", {"mover1"})),
            std::nullopt);
  EXPECT_EQ(LocateNow(locator, Restore("tape=VOL002", {"mover1", "mover2"})),
            "mover2");
}

TEST_F(LocatorTest, DisabledLocatorAnswersNoPreferenceButNotInsideLocate) {
  Locator locator(io_, LocatorOptions{});
  EXPECT_FALSE(locator.enabled());
  auto outcome = Start(locator, Restore("tape=VOL001"));
  EXPECT_FALSE(outcome->fired);
  RunUntil([&] { return outcome->fired; });
  EXPECT_EQ(outcome->mover, std::nullopt);
}

TEST_F(LocatorTest, SilentHelperMeansNoPreferenceAfterTheTimeout) {
  {
    LocatorOptions options = Shell("exec cat >/dev/null");
    options.timeout = milliseconds(200);
    Locator locator(io_, options);
    auto outcome = Start(locator, Restore("tape=VOL001"));
    EXPECT_FALSE(outcome->fired);
    EXPECT_EQ(locator.in_flight(), 1u);
    RunUntil([&] { return outcome->fired; });
    EXPECT_EQ(outcome->mover, std::nullopt);
    EXPECT_EQ(locator.in_flight(), 0u);
    EXPECT_EQ(locator.errors(), 1u);  // the timeout
  }
  ExpectNoChildren();
}

TEST_F(LocatorTest, HelperExitFailsPendingLookupsAndNextLookupRestartsIt) {
  {
    Locator locator(io_, ExitsOnceThenRunsTable());
    auto a = Start(locator, Restore("tape=VOL001"));
    auto b = Start(locator, Restore("tape=VOL002"));
    RunUntil([&] { return a->fired && b->fired; });
    EXPECT_EQ(a->mover, std::nullopt);
    EXPECT_EQ(b->mover, std::nullopt);
    EXPECT_EQ(locator.errors(), 2u);  // both lookups lost with the helper
    EXPECT_EQ(LocateNow(locator, Restore("tape=VOL002")), "mover2");
    EXPECT_EQ(locator.errors(), 2u);
  }
  ExpectNoChildren();
}

TEST_F(LocatorTest, CallbackOfAFailedLookupMayLocateAgain) {
  Locator locator(io_, ExitsOnceThenRunsTable());
  std::shared_ptr<Outcome> retry;
  locator.Locate(Restore("tape=VOL001"), [&](Locality answer) {
    EXPECT_EQ(answer.mover, std::nullopt);
    retry = Start(locator, Restore("tape=VOL001"));
  });
  RunUntil([&] { return retry && retry->fired; });
  EXPECT_EQ(retry->mover, "mover1");
}

TEST_F(LocatorTest, HelperIsRestartedAtMostOncePerBackoff) {
  {
    LocatorOptions options =
        Shell("echo run >>\"$0\"; exit 3", {dir_.path() + "/runs"});
    options.restart_backoff = std::chrono::hours(1);
    Locator locator(io_, options);
    EXPECT_EQ(LocateNow(locator, Restore("tape=VOL001")), std::nullopt);
    // Down, and started less than the backoff ago: no preference at once.
    auto outcome = Start(locator, Restore("tape=VOL001"));
    EXPECT_EQ(locator.in_flight(), 0u);
    EXPECT_FALSE(outcome->fired);
    RunUntil([&] { return outcome->fired; });
    EXPECT_EQ(outcome->mover, std::nullopt);
    EXPECT_EQ(dir_.Read("runs"), "run\n");
  }
  ExpectNoChildren();
}

TEST_F(LocatorTest, HelperThatCannotStartMeansNoPreference) {
  LocatorOptions options;
  options.command = {dir_.path() + "/no-such-helper"};
  Locator locator(io_, options);
  EXPECT_EQ(LocateNow(locator, Restore("tape=VOL001")), std::nullopt);
  EXPECT_EQ(locator.errors(), 1u);
}

TEST_F(LocatorTest, GarbageIsSkippedAndAnswersMatchedByIdInAnyOrder) {
  // Reads two lookups, writes lines to skip, then answers the second before
  // the first. The long line would answer the first lookup with mover3 if
  // it were not skipped whole.
  Locator locator(io_, Shell(R"(
read -r a; read -r b
a=${a#'{"id":'}; a=${a%%,*}
b=${b#'{"id":'}; b=${b%%,*}
echo 'not json'
echo '[1,2]'
echo '{"id":"x","mover":"mover3"}'
echo '{"id":-1,"mover":"mover3"}'
echo '{"id":123456789,"mover":"mover3"}'
echo "{\"id\":$a}"
echo "{\"id\":$a,\"mover\":3}"
printf '{"id":%s,"mover":"mover3","pad":"' "$a"
head -c 70000 /dev/zero | tr '\0' x; echo '"}'
echo "{\"id\":$b,\"mover\":\"mover2\"}"
echo "{\"id\":$a,\"mover\":\"mover1\"}"
exec cat >/dev/null
)"));
  auto first = Start(locator, Restore("tape=VOL001"));
  auto second = Start(locator, Restore("tape=VOL002"));
  RunUntil([&] { return first->fired && second->fired; });
  EXPECT_EQ(first->mover, "mover1");
  EXPECT_EQ(second->mover, "mover2");
}

TEST_F(LocatorTest, ThousandLookupsInFlightAreAllAnswered) {
  std::string table;
  for (int i = 0; i < 100; ++i) {
    table += fmt::format("VOL{:03} mover{}\n", i, i % 3 + 1);
  }
  LocatorOptions options = TableHelper(table);
  options.timeout = std::chrono::seconds(60);
  Locator locator(io_, options);
  std::vector<std::shared_ptr<Outcome>> outcomes;
  for (int i = 0; i < 1000; ++i) {
    outcomes.push_back(Start(
        locator, Restore(fmt::format("user=u{},tape=VOL{:03}", i, i % 120))));
  }
  EXPECT_EQ(locator.in_flight(), 1000u);
  RunUntil([&] { return locator.in_flight() == 0; });
  for (int i = 0; i < 1000; ++i) {
    ASSERT_TRUE(outcomes[i]->fired) << i;
    if (i % 120 < 100) {
      EXPECT_EQ(outcomes[i]->mover, fmt::format("mover{}", i % 120 % 3 + 1))
          << i;
    } else {
      EXPECT_EQ(outcomes[i]->mover, std::nullopt) << i;
    }
  }
}

TEST_F(LocatorTest, BeyondMaxInFlightNoPreferenceAtOnce) {
  std::shared_ptr<Outcome> a, b, c;
  {
    LocatorOptions options = Shell("exec cat >/dev/null");
    options.timeout = std::chrono::seconds(60);
    options.max_in_flight = 2;
    Locator locator(io_, options);
    a = Start(locator, Restore("tape=VOL001"));
    b = Start(locator, Restore("tape=VOL001"));
    c = Start(locator, Restore("tape=VOL001"));
    EXPECT_FALSE(c->fired);
    EXPECT_EQ(locator.in_flight(), 2u);
    RunUntil([&] { return c->fired; });
    EXPECT_EQ(c->mover, std::nullopt);
    EXPECT_FALSE(a->fired);
    EXPECT_FALSE(b->fired);
  }
  // Destroying the Locator drops pending callbacks.
  io_.restart();
  io_.run_for(milliseconds(50));
  EXPECT_FALSE(a->fired);
  EXPECT_FALSE(b->fired);
  ExpectNoChildren();
}

TEST_F(LocatorTest, CallbackMayDestroyTheLocator) {
  LocatorOptions options = Shell("exec cat >/dev/null");
  options.timeout = milliseconds(100);
  auto locator = std::make_unique<Locator>(io_, options);
  int calls = 0;
  auto destroy = [&](Locality) {
    ++calls;
    locator.reset();
  };
  locator->Locate(Restore("tape=VOL001"), destroy);
  locator->Locate(Restore("tape=VOL001"), destroy);
  RunUntil([&] { return calls > 0; });
  io_.restart();
  io_.run_for(milliseconds(200));
  EXPECT_EQ(calls, 1);
  ExpectNoChildren();
}

// The helper's input is a socket written with MSG_NOSIGNAL: writing to a
// helper that closed it fails the write instead of raising SIGPIPE, whatever
// SIGPIPE's disposition. (The server ignores SIGPIPE anyway.)
TEST_F(LocatorTest, WritingToAHelperThatClosedItsInputRaisesNoSigpipe) {
  auto old = signal(SIGPIPE, SIG_DFL);
  {
    // More than the socket buffers hold, so that the write is still going
    // when the helper closes its end.
    Locator locator(io_, Shell("sleep 0.2; exec 0<&- 1>&-; exec sleep 30"));
    EXPECT_EQ(LocateNow(locator, Restore(std::string(8 << 20, 'x'))),
              std::nullopt);
  }
  signal(SIGPIPE, old);
  ExpectNoChildren();
}

// coordinatool-locate-table on its own, as a real process.
class LocateTableTest : public ::testing::Test {
 protected:
  // Runs the program with `args`, stdin from `input`; returns the exit
  // status, or -1 if it did not exit.
  int Run(const std::string& args, const std::string& input) {
    const std::string cmd =
        fmt::format("'{}' {} <'{}' >'{}/out' 2>'{}/err'", LOCATE_TABLE_PATH,
                    args, dir_.Write("in", input), dir_.path(), dir_.path());
    const int status = system(cmd.c_str());
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  }
  TempDir dir_;
};

TEST_F(LocateTableTest, AnswersEachLookupAndExitsZeroAtEndOfInput) {
  const std::string table = dir_.Write("table", kTable);
  EXPECT_EQ(
      Run("--tag tape= " + table,
          R"({"id":1,"fid":"[0x1:0x2:0x0]","archive_id":1,"data":"tape=VOL001,user=a","movers":["mover1","mover2"],"suggested":"mover2"})"
          "\n"
          R"({"id":2,"fid":"[0x1:0x3:0x0]","archive_id":1,"data":"user=a,tape=VOL009","movers":["mover1"],"suggested":""})"
          "\n"
          "not json\n"
          R"({"id":3,"fid":"[0x1:0x4:0x0]","archive_id":2,"data":"user=a","movers":["mover1"],"suggested":"mover1"})"
          "\n"
          R"({"id":4,"data":"tape=VOL002","movers":["mover2"]})"
          "\n"),
      0);
  EXPECT_EQ(dir_.Read("out"),
            "{\"id\":1,\"mover\":\"mover1\"}\n"
            "{\"id\":2,\"mover\":null}\n"
            "{\"id\":3,\"mover\":null}\n"
            "{\"id\":4,\"mover\":\"mover2\"}\n");
  EXPECT_EQ(dir_.Read("err"),
            "coordinatool-locate-table: request ignored: syntax error\n");
}

TEST_F(LocateTableTest, TagMayBeGivenWithoutItsEqualSign) {
  const std::string table = dir_.Write("table", kTable);
  EXPECT_EQ(Run("--tag tape " + table,
                R"({"id":7,"data":"tape=VOL002","movers":["mover2"]})"
                "\n"),
            0);
  EXPECT_EQ(dir_.Read("out"), "{\"id\":7,\"mover\":\"mover2\"}\n");
}

TEST_F(LocateTableTest, MalformedTableLineExitsTwoNamingFileAndLine) {
  const std::string table =
      dir_.Write("table", "VOL001 mover1\n\nVOL002\nVOL003 mover3\n");
  EXPECT_EQ(Run("--tag tape= " + table, ""), 2);
  EXPECT_EQ(dir_.Read("err"), "coordinatool-locate-table: " + table +
                                  ":3: expected 'VALUE MOVER [MEDIUM "
                                  "[POSITION]]'\n");
  EXPECT_EQ(dir_.Read("out"), "");

  dir_.Write("table", "VOL001 mover1 T1 5 x\n");
  EXPECT_EQ(Run("--tag tape= " + table, ""), 2);
  EXPECT_EQ(dir_.Read("err"), "coordinatool-locate-table: " + table +
                                  ":1: expected 'VALUE MOVER [MEDIUM "
                                  "[POSITION]]'\n");

  for (const char* position : {"-1", "18446744073709551616", "1e3", "x"}) {
    dir_.Write("table", fmt::format("f1 - T1 {}\n", position));
    EXPECT_EQ(Run("--tag tape= " + table, ""), 2);
    EXPECT_EQ(dir_.Read("err"),
              fmt::format("coordinatool-locate-table: {}:1: position '{}' is "
                          "not an integer from 0 to 2^64-1\n",
                          table, position));
  }

  dir_.Write("table", "VOL001 mover1\n# again\nVOL001 mover2\n");
  EXPECT_EQ(Run("--tag tape= " + table, ""), 2);
  EXPECT_EQ(dir_.Read("err"), "coordinatool-locate-table: " + table +
                                  ":3: duplicate value 'VOL001'\n");
}

TEST_F(LocateTableTest, AnswersMediumAndPositionWhenTheTableGivesThem) {
  const std::string table = dir_.Write("table",
                                       "# VALUE MOVER [MEDIUM [POSITION]]\n"
                                       "f1 mover1 T1 300\n"
                                       "f2 - T1 18446744073709551615\n"
                                       "f3 mover9 T2\n"
                                       "f4 mover1\n");
  EXPECT_EQ(Run("--tag file= " + table,
                R"({"id":1,"data":"file=f1","movers":["mover1"]})"
                "\n"
                R"({"id":2,"data":"file=f2","movers":["mover1"]})"
                "\n"
                R"({"id":3,"data":"file=f3","movers":["mover1"]})"
                "\n"
                R"({"id":4,"data":"file=f4","movers":["mover1"]})"
                "\n"),
            0);
  EXPECT_EQ(
      dir_.Read("out"),
      "{\"id\":1,\"mover\":\"mover1\",\"medium\":\"T1\",\"position\":300}\n"
      "{\"id\":2,\"mover\":null,\"medium\":\"T1\",\"position\":"
      "18446744073709551615}\n"
      "{\"id\":3,\"mover\":null,\"medium\":\"T2\"}\n"
      "{\"id\":4,\"mover\":\"mover1\"}\n");
}

TEST_F(LocateTableTest, MissingTableExitsTwo) {
  const std::string table = dir_.path() + "/none";
  EXPECT_EQ(Run("--tag tape= " + table, ""), 2);
  EXPECT_EQ(dir_.Read("err"), "coordinatool-locate-table: " + table +
                                  ": No such file or directory\n");
}

}  // namespace
}  // namespace policy
