// Who may read the HTTP listener: tokens as Bearer or Basic passwords,
// client certificate identities, 401 and 403.
#include "http/http_auth.h"

#include <gtest/gtest.h>

#include "auth/auth_file.h"
#include "protocol/byte_string.h"

namespace http {
namespace {

constexpr const char* kMonitorToken = "monitor-secret-0123456789";
constexpr const char* kAdminToken = "admin-secret-0123456789ab";
constexpr const char* kMoverToken = "mover-secret-0123456789ab";

auth::Authorizer Rules() {
  std::vector<auth::AuthRule> rules;
  std::string error;
  const std::string text = std::string("monitor token prom ") + kMonitorToken +
                           "\nadmin token ops " + kAdminToken +
                           "\nmover token movers " + kMoverToken + " *\n" +
                           "monitor cert CN=grafana\n" +
                           "mover cert CN=mover-1 mover-1\n";
  EXPECT_TRUE(auth::ParseAuthFile(text, "auth", &rules, &error)) << error;
  return auth::Authorizer(std::move(rules));
}

std::string Basic(const std::string& user, const std::string& password) {
  return "Basic " + protocol::Base64Encode(user + ":" + password);
}

TEST(HttpAuthTest, TokenOfBearerAndBasic) {
  bool malformed = true;
  EXPECT_EQ(TokenOf("Bearer abc", &malformed), "abc");
  EXPECT_FALSE(malformed);
  EXPECT_EQ(TokenOf("bearer   abc  ", &malformed), "abc");
  EXPECT_EQ(TokenOf(Basic("prometheus", "p:w"), &malformed), "p:w");
  EXPECT_EQ(TokenOf(Basic("", "tok"), &malformed), "tok");
  EXPECT_FALSE(TokenOf("", &malformed));
  EXPECT_FALSE(malformed);
  EXPECT_FALSE(TokenOf("Digest x=1", &malformed));
  EXPECT_FALSE(malformed);
  EXPECT_FALSE(TokenOf("Bearer a b", &malformed));
  EXPECT_TRUE(malformed);
  EXPECT_FALSE(TokenOf("Basic !!!notbase64", &malformed));
  EXPECT_TRUE(malformed);
  EXPECT_FALSE(
      TokenOf("Basic " + protocol::Base64Encode("nocolon"), &malformed));
  EXPECT_TRUE(malformed);
  EXPECT_FALSE(TokenOf(Basic("user", ""), &malformed));
  EXPECT_TRUE(malformed);
}

TEST(HttpAuthTest, NoAuthorizerLetsEveryoneIn) {
  EXPECT_EQ(CheckAccess(nullptr, {}, "").status, 0);
  EXPECT_EQ(CheckAccess(nullptr, {}, "Bearer whatever").status, 0);
}

TEST(HttpAuthTest, MonitorAndAdminTokensAreLetIn) {
  auth::Authorizer rules = Rules();
  Access access =
      CheckAccess(&rules, {}, std::string("Bearer ") + kMonitorToken);
  EXPECT_EQ(access.status, 0) << access.why;
  EXPECT_EQ(access.identity, "token prom");
  access = CheckAccess(&rules, {}, Basic("anyone", kAdminToken));
  EXPECT_EQ(access.status, 0) << access.why;
  EXPECT_EQ(access.identity, "token ops");
}

TEST(HttpAuthTest, MissingOrUnknownCredentialsAre401) {
  auth::Authorizer rules = Rules();
  EXPECT_EQ(CheckAccess(&rules, {}, "").status, 401);
  EXPECT_EQ(CheckAccess(&rules, {}, "Bearer not-a-known-token-at-all").status,
            401);
  EXPECT_EQ(CheckAccess(&rules, {}, Basic("u", "wrong-password-xxxxx")).status,
            401);
  EXPECT_EQ(CheckAccess(&rules, {}, "Bearer").status, 401);
  // A certificate nobody named: no credentials the file knows.
  EXPECT_EQ(CheckAccess(&rules, {"CN=stranger"}, "").status, 401);
}

TEST(HttpAuthTest, KnownWithoutTheRoleIs403) {
  auth::Authorizer rules = Rules();
  Access access = CheckAccess(&rules, {}, std::string("Bearer ") + kMoverToken);
  EXPECT_EQ(access.status, 403);
  EXPECT_NE(access.why.find("token movers"), std::string::npos) << access.why;
  EXPECT_NE(access.why.find("mover"), std::string::npos);
  EXPECT_EQ(CheckAccess(&rules, {"CN=mover-1"}, "").status, 403);
}

TEST(HttpAuthTest, CertificateRoles) {
  auth::Authorizer rules = Rules();
  Access access = CheckAccess(&rules, {"CN=grafana", "subject=CN=grafana"}, "");
  EXPECT_EQ(access.status, 0) << access.why;
  // A mover certificate with a monitor token: the token's role counts.
  EXPECT_EQ(CheckAccess(&rules, {"CN=mover-1"},
                        std::string("Bearer ") + kMonitorToken)
                .status,
            0);
}

TEST(HttpAuthTest, ChallengesNameBothSchemes) {
  std::vector<std::string> challenges = Challenges();
  ASSERT_EQ(challenges.size(), 2u);
  EXPECT_EQ(challenges[0].rfind("Bearer ", 0), 0u);
  EXPECT_EQ(challenges[1].rfind("Basic ", 0), 0u);
}

}  // namespace
}  // namespace http
