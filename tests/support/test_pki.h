// TestPki: certificates made at test time with the `openssl` command, in a
// directory the test owns: a CA, a server and a client certificate it
// signed (with subject alternative names), an expired server and client
// certificate from the same CA, and a second, unrelated CA with a server
// and a client certificate of its own (the "wrong CA" cases). Issue() makes
// more (a rotated server certificate, one identity per mover).
//
// Keys are P-256 (fast to make); files are PEM; keys are mode 0600.
// Subjects are "/O=coordinatool tests/CN=<common name>", so a certificate's
// RFC 2253 subject reads "CN=<common name>,O=coordinatool tests".
//
// Thread-compatible.
#ifndef TESTS_SUPPORT_TEST_PKI_H_
#define TESTS_SUPPORT_TEST_PKI_H_

#include <string>
#include <vector>

namespace testing_support {

std::string OpensslBinary();  // /usr/bin/openssl

// Paths of a certificate and its private key.
struct CertAndKey {
  std::string cert;
  std::string key;
};

struct CertRequest {
  std::string common_name;
  // In openssl's subjectAltName syntax: "DNS:host", "IP:127.0.0.1",
  // "email:a@example.org", "URI:spiffe://site/mover".
  std::vector<std::string> sans;
  // Valid only during January 2020: expired at any date a test runs.
  bool expired = false;
};

enum class Issuer { kCa, kOtherCa };

class TestPki {
 public:
  // Subject alternative names of server(): the name a client checks.
  static constexpr const char* kServerName = "localhost";
  // client(): CN=mover-1, DNS:mover-1.test, email:mover-1@example.org,
  // URI:spiffe://coordinatool.test/mover-1.
  static constexpr const char* kClientName = "mover-1";

  // Makes everything under `dir` (which must exist). On failure error()
  // says which openssl command failed and what it printed.
  explicit TestPki(std::string dir);

  const std::string& error() const { return error_; }
  bool ok() const { return error_.empty(); }
  const std::string& dir() const { return dir_; }

  // The CA certificates, each alone in a PEM file (the CA bundles).
  const std::string& ca() const { return ca_.cert; }
  const std::string& other_ca() const { return other_ca_.cert; }

  // CN=localhost, DNS:localhost, IP:127.0.0.1, by the CA.
  const CertAndKey& server() const { return server_; }
  // kClientName with the SANs above, by the CA.
  const CertAndKey& client() const { return client_; }
  // The same names, by the CA, expired.
  const CertAndKey& expired_server() const { return expired_server_; }
  const CertAndKey& expired_client() const { return expired_client_; }
  // The same names, by the other CA.
  const CertAndKey& other_server() const { return other_server_; }
  const CertAndKey& other_client() const { return other_client_; }

  // Makes `name`.pem and `name`.key in dir() (replacing any of that name),
  // signed by `issuer`. Returns empty paths and sets *error on failure.
  CertAndKey Issue(const std::string& name, const CertRequest& request,
                   Issuer issuer = Issuer::kCa, std::string* error = nullptr);

  // A certificate's fields as openssl prints them ("subject", "enddate",
  // "ext subjectAltName"...), for checks and messages: the output of
  // `openssl x509 -noout -<what>`.
  std::string Describe(const std::string& cert,
                       const std::vector<std::string>& what) const;

 private:
  // A self-signed CA named `cn` in `name`.pem/.key, with its signing
  // database in `name`.db/.
  bool MakeCa(const std::string& name, const std::string& cn, CertAndKey* out);
  // Runs openssl with `args`; false and error_ set on failure.
  bool Openssl(const std::vector<std::string>& args, std::string* error);

  const std::string dir_;
  std::string error_;
  CertAndKey ca_, other_ca_;
  CertAndKey server_, client_, expired_server_, expired_client_;
  CertAndKey other_server_, other_client_;
};

}  // namespace testing_support

#endif  // TESTS_SUPPORT_TEST_PKI_H_
