// TestPki makes what the TLS tests rely on: each certificate verifies
// against its own CA only, the expired ones fail as expired, the names are
// in the subject and the SANs, keys are private.
#include "tests/support/test_pki.h"

#include <gtest/gtest.h>
#include <sys/stat.h>

#include "tests/support/process.h"
#include "tests/support/temp_dir.h"

namespace testing_support {
namespace {

// `openssl verify` of `cert` against `ca`.
CommandResult Verify(const std::string& ca, const std::string& cert) {
  return RunCommand({OpensslBinary(), "verify", "-CAfile", ca, cert});
}

class TestPkiTest : public ::testing::Test {
 protected:
  TempDir dir_{"test-pki"};
  TestPki pki_{dir_.path()};
};

TEST_F(TestPkiTest, EachCertificateVerifiesAgainstItsOwnCaOnly) {
  ASSERT_TRUE(pki_.ok()) << pki_.error();
  for (const CertAndKey* c : {&pki_.server(), &pki_.client()}) {
    EXPECT_TRUE(Verify(pki_.ca(), c->cert).ok()) << c->cert;
    EXPECT_FALSE(Verify(pki_.other_ca(), c->cert).ok()) << c->cert;
  }
  for (const CertAndKey* c : {&pki_.other_server(), &pki_.other_client()}) {
    EXPECT_TRUE(Verify(pki_.other_ca(), c->cert).ok()) << c->cert;
    EXPECT_FALSE(Verify(pki_.ca(), c->cert).ok()) << c->cert;
  }
}

TEST_F(TestPkiTest, ExpiredCertificatesFailAsExpired) {
  ASSERT_TRUE(pki_.ok()) << pki_.error();
  for (const CertAndKey* c : {&pki_.expired_server(), &pki_.expired_client()}) {
    const CommandResult r = Verify(pki_.ca(), c->cert);
    EXPECT_FALSE(r.ok()) << c->cert;
    EXPECT_NE((r.out + r.err).find("expired"), std::string::npos)
        << r.Describe();
  }
}

TEST_F(TestPkiTest, NamesAreInTheSubjectAndTheSans) {
  ASSERT_TRUE(pki_.ok()) << pki_.error();
  const std::string server =
      pki_.Describe(pki_.server().cert, {"subject", "ext subjectAltName"});
  EXPECT_NE(server.find("CN = localhost"), std::string::npos) << server;
  EXPECT_NE(server.find("DNS:localhost"), std::string::npos) << server;
  EXPECT_NE(server.find("IP Address:127.0.0.1"), std::string::npos) << server;
  const std::string client =
      pki_.Describe(pki_.client().cert, {"subject", "ext subjectAltName"});
  EXPECT_NE(client.find("CN = mover-1"), std::string::npos) << client;
  EXPECT_NE(client.find("email:mover-1@example.org"), std::string::npos)
      << client;
  EXPECT_NE(client.find("URI:spiffe://coordinatool.test/mover-1"),
            std::string::npos)
      << client;
}

TEST_F(TestPkiTest, KeysAreReadableByTheOwnerOnly) {
  ASSERT_TRUE(pki_.ok()) << pki_.error();
  for (const CertAndKey* c : {&pki_.server(), &pki_.client()}) {
    struct stat st {};
    ASSERT_EQ(stat(c->key.c_str(), &st), 0) << c->key;
    EXPECT_EQ(st.st_mode & 077, 0u) << c->key;
  }
}

TEST_F(TestPkiTest, IssueMakesAnotherCertificateOfThatName) {
  ASSERT_TRUE(pki_.ok()) << pki_.error();
  std::string error;
  const CertAndKey rotated = pki_.Issue(
      "rotated", {"rotated.test", {"DNS:rotated.test"}}, Issuer::kCa, &error);
  ASSERT_FALSE(rotated.cert.empty()) << error;
  EXPECT_TRUE(Verify(pki_.ca(), rotated.cert).ok());
  EXPECT_NE(pki_.Describe(rotated.cert, {"subject"}).find("rotated.test"),
            std::string::npos);
  // A bad request fails with openssl's reason, and makes nothing.
  const CertAndKey bad =
      pki_.Issue("bad", {"bad", {"NOT-A-SAN-TYPE:x"}}, Issuer::kCa, &error);
  EXPECT_TRUE(bad.cert.empty());
  EXPECT_NE(error.find("openssl"), std::string::npos) << error;
}

}  // namespace
}  // namespace testing_support
