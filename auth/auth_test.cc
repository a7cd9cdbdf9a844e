// The auth file, grants, certificate identity matching, what each command
// needs and who holds a mover id.
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <set>
#include <string>
#include <vector>

#include "auth/auth_file.h"
#include "auth/authorizer.h"
#include "auth/id_holders.h"
#include "auth/roles.h"

namespace auth {
namespace {

// A fresh directory, removed with its contents at the end.
struct ScratchDir {
  ScratchDir() {
    std::string pattern =
        (std::filesystem::temp_directory_path() / "coordinatool_XXXXXX")
            .string();
    path_ = mkdtemp(pattern.data()) ? pattern : "";
    EXPECT_FALSE(path_.empty());
  }
  ~ScratchDir() { std::filesystem::remove_all(path_); }
  const std::string& path() const { return path_; }
  std::string Join(const std::string& name) const { return path_ + "/" + name; }
  std::string path_;
};

constexpr const char* kAdminToken = "admin-secret-0123456789";
constexpr const char* kMoverToken = "mover-secret-0123456789";

std::vector<AuthRule> Parse(const std::string& text) {
  std::vector<AuthRule> rules;
  std::string error;
  EXPECT_TRUE(ParseAuthFile(text, "auth", &rules, &error)) << error;
  return rules;
}

std::string ParseError(const std::string& text) {
  std::vector<AuthRule> rules;
  std::string error;
  EXPECT_FALSE(ParseAuthFile(text, "auth", &rules, &error)) << text;
  return error;
}

Credentials Token(const std::string& token) {
  return Credentials{{}, DigestOf(token)};
}

Credentials Cert(std::vector<std::string> identities) {
  return Credentials{std::move(identities), std::nullopt};
}

const std::string kFile = std::string(R"(# roles of the site
admin   token ops   )") + kAdminToken +
                          R"(
monitor cert  "subject=CN=nagios,O=Example Org"
mover   token movers )" + kMoverToken +
                          R"( mover-a mover-b
mover   cert  DNS:*.movers.example  m-*
mover   cert  CN=tape1 tape1

)";

TEST(AuthFileTest, ParsesEveryKindOfLine) {
  std::vector<AuthRule> rules = Parse(kFile);
  ASSERT_EQ(rules.size(), 5u);
  EXPECT_EQ(rules[0].role, Role::kAdmin);
  EXPECT_EQ(rules[0].kind, AuthRule::Kind::kToken);
  EXPECT_EQ(rules[0].token_name, "ops");
  EXPECT_EQ(rules[0].token_digest, DigestOf(kAdminToken));
  EXPECT_EQ(rules[0].line, 2);
  EXPECT_EQ(rules[1].role, Role::kMonitor);
  EXPECT_EQ(rules[1].identity, "subject=CN=nagios,O=Example Org");
  EXPECT_EQ(rules[2].mover_ids,
            (std::vector<std::string>{"mover-a", "mover-b"}));
  EXPECT_EQ(rules[3].identity, "DNS:*.movers.example");
  EXPECT_EQ(rules[4].line, 6);
}

TEST(AuthFileTest, BadLinesAreRefusedWithFileAndLine) {
  EXPECT_EQ(ParseError("\nroot token x 0123456789abcdefgh\n"),
            "auth:2: unknown role 'root' (mover, monitor or admin)");
  EXPECT_NE(ParseError("mover token m 0123456789abcdefgh\n")
                .find("auth:1: a mover line names the mover ids"),
            std::string::npos);
  EXPECT_EQ(ParseError("admin cert CN=x some-mover\n"),
            "auth:1: only mover lines name mover ids, not admin lines");
  EXPECT_EQ(ParseError("admin token short 0123456789\n"),
            "auth:1: token short: a token needs at least 16 characters");
  EXPECT_NE(ParseError("admin token bad/name 0123456789abcdefgh\n")
                .find("token name 'bad/name'"),
            std::string::npos);
  EXPECT_EQ(ParseError("admin token\n"),
            "auth:1: expected: ROLE token NAME SECRET [MOVER-ID...]");
  EXPECT_EQ(ParseError("admin password x\n"),
            "auth:1: expected 'token' or 'cert' after the role");
  EXPECT_EQ(ParseError("monitor cert \"CN=x\n"), "auth:1: unterminated quote");
  EXPECT_EQ(ParseError("# nothing\n\n"),
            "auth: no rule: every peer would be refused");
  // One name, one secret; one secret, one name.
  EXPECT_EQ(ParseError("admin token a 0123456789abcdefgh\n"
                       "monitor token a 0123456789abcdefgX\n"),
            "auth:2: token a has another secret on an earlier line");
  EXPECT_EQ(ParseError("admin token a 0123456789abcdefgh\n"
                       "monitor token b 0123456789abcdefgh\n"),
            "auth:2: token b has the secret of token a");
  // The same token on two lines: two roles.
  EXPECT_EQ(Parse("admin token a 0123456789abcdefgh\n"
                  "monitor token a 0123456789abcdefgh\n")
                .size(),
            2u);
}

class AuthFileLoadTest : public ::testing::Test {
 protected:
  std::string Write(const std::string& text, mode_t mode) {
    std::string path = dir_.Join("auth");
    std::ofstream(path) << text;
    EXPECT_EQ(chmod(path.c_str(), mode), 0);
    return path;
  }
  ScratchDir dir_;
};

TEST_F(AuthFileLoadTest, OnlyAFileOfTheServersUserWithoutGroupOrOtherAccess) {
  std::vector<AuthRule> rules;
  std::string error;
  std::string path = Write(kFile, 0600);
  EXPECT_TRUE(LoadAuthFile(path, geteuid(), &rules, &error)) << error;
  EXPECT_EQ(rules.size(), 5u);

  for (mode_t mode : {0640, 0604, 0620, 0610}) {
    rules.clear();
    Write(kFile, mode);
    EXPECT_FALSE(LoadAuthFile(path, geteuid(), &rules, &error)) << mode;
    EXPECT_NE(error.find("gives group or other users access"),
              std::string::npos)
        << error;
    EXPECT_TRUE(rules.empty());
  }
  Write(kFile, 0600);
  EXPECT_FALSE(LoadAuthFile(path, geteuid() + 1, &rules, &error));
  EXPECT_NE(error.find("not by the server's user"), std::string::npos) << error;
  EXPECT_FALSE(LoadAuthFile(dir_.path(), geteuid(), &rules, &error));
  EXPECT_FALSE(LoadAuthFile(dir_.Join("missing"), geteuid(), &rules, &error));
  EXPECT_NE(error.find("No such file"), std::string::npos) << error;
}

TEST(AuthorizerTest, TokensGiveTheirRolesAndIds) {
  Authorizer authorizer(Parse(kFile));
  EXPECT_TRUE(authorizer.has_tokens());
  Grant admin = authorizer.GrantFor(Token(kAdminToken));
  EXPECT_EQ(admin.roles, Roles(Role::kAdmin));
  EXPECT_EQ(admin.name, "token ops");
  EXPECT_FALSE(admin.MayUseMoverId("mover-a"));  // not a mover

  Grant mover = authorizer.GrantFor(Token(kMoverToken));
  EXPECT_EQ(mover.roles, Roles(Role::kMover));
  EXPECT_EQ(mover.name, "token movers");
  EXPECT_TRUE(mover.MayUseMoverId("mover-a"));
  EXPECT_TRUE(mover.MayUseMoverId("mover-b"));
  EXPECT_FALSE(mover.MayUseMoverId("mover-c"));
  EXPECT_FALSE(mover.MayUseMoverId("m-1"));

  EXPECT_TRUE(authorizer.KnowsToken(DigestOf(kAdminToken)));
  EXPECT_FALSE(authorizer.KnowsToken(DigestOf("admin-secret-012345678")));
  EXPECT_FALSE(authorizer.KnowsToken(DigestOf("")));
  Grant none = authorizer.GrantFor(Token("admin-secret-0123456789x"));
  EXPECT_TRUE(none.roles.empty());
  EXPECT_EQ(none.name, "");
  EXPECT_TRUE(authorizer.GrantFor(Credentials{}).roles.empty());
}

TEST(AuthorizerTest, CertificateIdentitiesMatchWholeStrings) {
  Authorizer authorizer(Parse(kFile));
  // The subject, spaces and all, gives monitor.
  Grant nagios = authorizer.GrantFor(
      Cert({"CN=nagios", "subject=CN=nagios,O=Example Org"}));
  EXPECT_EQ(nagios.roles, Roles(Role::kMonitor));
  EXPECT_EQ(nagios.name, "cert CN=nagios,O=Example Org");
  // The common name alone does not: the rule names the subject.
  EXPECT_TRUE(authorizer.GrantFor(Cert({"CN=nagios"})).roles.empty());
  EXPECT_TRUE(
      authorizer.GrantFor(Cert({"subject=CN=nagios,O=Example Org,OU=x"}))
          .roles.empty());

  // A SAN under the movers' domain: mover ids m-*.
  Grant m1 = authorizer.GrantFor(
      Cert({"CN=host1", "subject=CN=host1", "DNS:host1.movers.example"}));
  EXPECT_EQ(m1.roles, Roles(Role::kMover));
  EXPECT_TRUE(m1.MayUseMoverId("m-1"));
  EXPECT_FALSE(m1.MayUseMoverId("tape1"));
  EXPECT_FALSE(m1.MayUseMoverId("mover-a"));
  for (const char* other :
       {"DNS:host1.movers.example.evil", "DNS:movers.example",
        "DNS:host1.MOVERS.example", "URI:host1.movers.example",
        "CN=host1.movers.example"})
    EXPECT_TRUE(authorizer.GrantFor(Cert({other})).roles.empty()) << other;
  // A NUL inside an identity never matches by its prefix.
  EXPECT_TRUE(
      authorizer
          .GrantFor(Cert({std::string("DNS:a.movers.example\0.evil", 26)}))
          .roles.empty());
  EXPECT_FALSE(IdentityMatches("CN=tape1", std::string("CN=tape1\0x", 10)));

  // Only the exact common name.
  EXPECT_TRUE(authorizer.GrantFor(Cert({"CN=tape1"})).MayUseMoverId("tape1"));
  EXPECT_TRUE(authorizer.GrantFor(Cert({"CN=tape10"})).roles.empty());
  EXPECT_TRUE(authorizer.GrantFor(Cert({"CN=Tape1"})).roles.empty());
}

TEST(AuthorizerTest, TokenAndCertificateAddUp) {
  Authorizer authorizer(Parse(kFile));
  Credentials both{{"CN=tape1", "subject=CN=tape1"}, DigestOf(kAdminToken)};
  Grant grant = authorizer.GrantFor(both);
  EXPECT_EQ(grant.roles.Names(), "mover,admin");
  EXPECT_EQ(grant.name, "token ops");
  EXPECT_TRUE(grant.MayUseMoverId("tape1"));
}

TEST(AuthorizerTest, AReloadRegrantsOpenConnections) {
  Authorizer before(Parse(kFile));
  // The new file: mover1's token gone, tape1 keeps its role but not its id,
  // the admin token becomes a monitor.
  Authorizer after(Parse(std::string("monitor token ops ") + kAdminToken +
                         "\nmover cert CN=tape1 tape2\n"));
  Regrant admin = RegrantFor(after, Token(kAdminToken), std::nullopt);
  EXPECT_EQ(admin.grant.roles, Roles(Role::kMonitor));
  EXPECT_FALSE(admin.close);
  Regrant mover = RegrantFor(after, Token(kMoverToken), "mover-a");
  EXPECT_TRUE(mover.grant.roles.empty());
  EXPECT_TRUE(mover.close);
  Regrant tape = RegrantFor(after, Cert({"CN=tape1"}), "tape1");
  EXPECT_EQ(tape.grant.roles, Roles(Role::kMover));
  EXPECT_TRUE(tape.close);
  // Still allowed: kept.
  Regrant kept = RegrantFor(before, Cert({"CN=tape1"}), "tape1");
  EXPECT_FALSE(kept.close);
  // A token-only connection that never claimed an id is never closed.
  EXPECT_FALSE(RegrantFor(after, Token(kMoverToken), std::nullopt).close);
}

TEST(AuthorizerTest, NoAuthFileMeansEverything) {
  Grant all = FullGrant();
  EXPECT_EQ(all.roles.Names(), "mover,monitor,admin");
  EXPECT_TRUE(all.MayUseMoverId("anything"));
}

TEST(RolesTest, WhatEachCommandNeeds) {
  EXPECT_EQ(NeedOf("auth", false, false), Need::kNothing);
  EXPECT_EQ(NeedOf("ehlo", false, false), Need::kAnyRole);
  EXPECT_EQ(NeedOf("ehlo", true, false), Need::kMover);
  EXPECT_EQ(NeedOf("recv", false, true), Need::kMover);
  EXPECT_EQ(NeedOf("done", false, true), Need::kMover);
  EXPECT_EQ(NeedOf("progress", false, true), Need::kMover);
  EXPECT_EQ(NeedOf("heartbeat", false, true), Need::kMover);
  // Work taken without a mover id (the client's debug receive and drain).
  EXPECT_EQ(NeedOf("recv", false, false), Need::kAdmin);
  EXPECT_EQ(NeedOf("done", false, false), Need::kAdmin);
  EXPECT_EQ(NeedOf("status", false, false), Need::kMonitor);
  // Where a file's requests are, and pages of requests: read-only.
  EXPECT_EQ(NeedOf("show", false, false), Need::kMonitor);
  EXPECT_EQ(NeedOf("list", false, false), Need::kMonitor);
  EXPECT_EQ(NeedOf("lock", false, true), Need::kAdmin);
  EXPECT_EQ(NeedOf("queue", false, true), Need::kAdmin);
  EXPECT_EQ(NeedOf("reconcile", false, false), Need::kAdmin);
  // Upcalled requests are never checked at Lustre (docs/upcall.md): even
  // an identified mover may not queue them.
  EXPECT_EQ(NeedOf("upcall", false, true), Need::kAdmin);
  EXPECT_EQ(NeedOf("cancel", false, false), Need::kAdmin);
  EXPECT_EQ(NeedOf("reload", false, false), Need::kAdmin);
  // A mover cannot drain or resume itself nor its neighbours.
  for (bool identified : {false, true}) {
    EXPECT_EQ(NeedOf("drain", false, identified), Need::kAdmin);
    EXPECT_EQ(NeedOf("resume", false, identified), Need::kAdmin);
  }

  const Roles none, mover = Role::kMover, monitor = Role::kMonitor,
                    admin = Role::kAdmin;
  EXPECT_TRUE(Satisfies(none, Need::kNothing));
  EXPECT_FALSE(Satisfies(none, Need::kAnyRole));
  EXPECT_TRUE(Satisfies(monitor, Need::kAnyRole));
  EXPECT_TRUE(Satisfies(monitor, Need::kMonitor));
  EXPECT_TRUE(Satisfies(admin, Need::kMonitor));
  EXPECT_FALSE(Satisfies(mover, Need::kMonitor));
  EXPECT_FALSE(Satisfies(monitor, Need::kAdmin));
  EXPECT_FALSE(Satisfies(admin, Need::kMover));
  EXPECT_FALSE(Satisfies(mover, Need::kAdmin));
  EXPECT_EQ(Describe(Need::kAdmin), "the admin role");
  EXPECT_EQ(ParseRole("monitor"), Role::kMonitor);
  EXPECT_EQ(ParseRole("Admin"), std::nullopt);
  EXPECT_EQ(none.Names(), "none");
}

TEST(MoverIdHoldersTest, AnIdKnownToTheServerStaysWithItsIdentity) {
  std::set<std::string> known;
  MoverIdHolders holders(
      [&](const std::string& id) { return known.contains(id); });
  EXPECT_TRUE(holders.MayClaim("m1", "token a"));
  holders.Claim("m1", "token a");
  known.insert("m1");
  EXPECT_EQ(holders.HolderOf("m1"), "token a");
  EXPECT_TRUE(holders.MayClaim("m1", "token a"));
  EXPECT_FALSE(holders.MayClaim("m1", "token b"));
  EXPECT_FALSE(holders.MayClaim("m1", "cert CN=m1"));
  // The server forgot it (grace over): free again.
  known.erase("m1");
  EXPECT_TRUE(holders.MayClaim("m1", "token b"));
  EXPECT_EQ(holders.HolderOf("m1"), "");
}

TEST(MoverIdHoldersTest, ForgottenIdsAreDropped) {
  std::set<std::string> known;
  MoverIdHolders holders(
      [&](const std::string& id) { return known.contains(id); });
  known.insert("kept");
  holders.Claim("kept", "token k");
  for (int i = 0; i < 1000; ++i)
    holders.Claim("gone" + std::to_string(i), "token g");
  EXPECT_LT(holders.size(), 130u);
  EXPECT_EQ(holders.HolderOf("kept"), "token k");
}

}  // namespace
}  // namespace auth
