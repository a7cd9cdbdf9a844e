#include "tests/support/test_pki.h"

#include <sys/stat.h>

#include <filesystem>
#include <fstream>
#include <system_error>

#include "tests/support/process.h"

namespace testing_support {
namespace {

constexpr auto kOpensslTimeout = std::chrono::seconds(30);

// Two CAs and six certificates take well under a second with P-256 keys.
const std::vector<std::string> kKeyArgs = {
    "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"};

bool WriteFile(const std::string& path, const std::string& text) {
  std::ofstream out(path, std::ios::trunc);
  out << text;
  return static_cast<bool>(out.flush());
}

std::string Subject(const std::string& cn) {
  return "/O=coordinatool tests/CN=" + cn;
}

std::string Join(const std::vector<std::string>& parts, const char* sep) {
  std::string out;
  for (const auto& p : parts) {
    if (!out.empty()) out += sep;
    out += p;
  }
  return out;
}

}  // namespace

std::string OpensslBinary() { return "/usr/bin/openssl"; }

TestPki::TestPki(std::string dir) : dir_(std::move(dir)) {
  if (!MakeCa("ca", "coordinatool test CA", &ca_) ||
      !MakeCa("other-ca", "unrelated test CA", &other_ca_))
    return;
  const CertRequest server{kServerName, {"DNS:localhost", "IP:127.0.0.1"}};
  const CertRequest client{kClientName,
                           {"DNS:mover-1.test", "email:mover-1@example.org",
                            "URI:spiffe://coordinatool.test/mover-1"}};
  CertRequest expired_server = server, expired_client = client;
  expired_server.expired = expired_client.expired = true;
  struct Job {
    const char* name;
    const CertRequest* request;
    Issuer issuer;
    CertAndKey* out;
  };
  const Job jobs[] = {
      {"server", &server, Issuer::kCa, &server_},
      {"client", &client, Issuer::kCa, &client_},
      {"expired-server", &expired_server, Issuer::kCa, &expired_server_},
      {"expired-client", &expired_client, Issuer::kCa, &expired_client_},
      {"other-server", &server, Issuer::kOtherCa, &other_server_},
      {"other-client", &client, Issuer::kOtherCa, &other_client_},
  };
  for (const Job& job : jobs) {
    std::string why;
    *job.out = Issue(job.name, *job.request, job.issuer, &why);
    if (job.out->cert.empty()) {
      error_ = why;
      return;
    }
  }
}

bool TestPki::Openssl(const std::vector<std::string>& args,
                      std::string* error) {
  std::vector<std::string> argv = {OpensslBinary()};
  argv.insert(argv.end(), args.begin(), args.end());
  const CommandResult r = RunCommand(argv, kOpensslTimeout);
  if (r.ok()) return true;
  if (error != nullptr)
    *error = "openssl " + Join(args, " ") + ": " + r.Describe();
  return false;
}

bool TestPki::MakeCa(const std::string& name, const std::string& cn,
                     CertAndKey* out) {
  const std::string cert = dir_ + "/" + name + ".pem";
  const std::string key = dir_ + "/" + name + ".key";
  const std::string db = dir_ + "/" + name + ".db";
  std::error_code ec;
  std::filesystem::create_directories(db, ec);
  // `openssl ca` (rather than `x509 -req`) is what can back-date a
  // certificate (-startdate/-enddate), for the expired ones.
  const std::string config =
      "[ca]\n"
      "default_ca = test_ca\n"
      "[test_ca]\n"
      "database = " +
      db +
      "/index.txt\n"
      "new_certs_dir = " +
      db +
      "\n"
      "serial = " +
      db +
      "/serial\n"
      "default_md = sha256\n"
      "policy = any\n"
      "unique_subject = no\n"
      "[any]\n"
      "commonName = supplied\n";
  if (ec || !WriteFile(db + "/ca.cnf", config) ||
      !WriteFile(db + "/index.txt", "") ||
      !WriteFile(db + "/serial", "1000\n")) {
    error_ = "cannot write the CA database in " + db;
    return false;
  }
  std::vector<std::string> args = {"req", "-x509"};
  args.insert(args.end(), kKeyArgs.begin(), kKeyArgs.end());
  args.insert(args.end(),
              {"-keyout", key, "-out", cert, "-days", "3650", "-subj",
               Subject(cn), "-addext", "basicConstraints=critical,CA:TRUE",
               "-addext", "keyUsage=critical,keyCertSign,cRLSign"});
  if (!Openssl(args, &error_)) return false;
  *out = {cert, key};
  return true;
}

CertAndKey TestPki::Issue(const std::string& name, const CertRequest& request,
                          Issuer issuer, std::string* error) {
  std::string why;
  const CertAndKey& ca = issuer == Issuer::kCa ? ca_ : other_ca_;
  const std::string ca_name = issuer == Issuer::kCa ? "ca" : "other-ca";
  const std::string base = dir_ + "/" + name;
  CertAndKey out{base + ".pem", base + ".key"};
  std::error_code ec;
  std::filesystem::remove(out.cert, ec);
  std::filesystem::remove(out.key, ec);

  std::string ext =
      "basicConstraints=critical,CA:FALSE\n"
      "keyUsage=critical,digitalSignature,keyEncipherment\n"
      "extendedKeyUsage=serverAuth,clientAuth\n";
  if (!request.sans.empty())
    ext += "subjectAltName=" + Join(request.sans, ",") + "\n";

  std::vector<std::string> req = {"req", "-new"};
  req.insert(req.end(), kKeyArgs.begin(), kKeyArgs.end());
  req.insert(req.end(), {"-keyout", out.key, "-out", base + ".csr", "-subj",
                         Subject(request.common_name)});
  std::vector<std::string> sign = {"ca",
                                   "-batch",
                                   "-notext",
                                   "-config",
                                   dir_ + "/" + ca_name + ".db/ca.cnf",
                                   "-cert",
                                   ca.cert,
                                   "-keyfile",
                                   ca.key,
                                   "-in",
                                   base + ".csr",
                                   "-out",
                                   out.cert,
                                   "-extfile",
                                   base + ".ext",
                                   "-preserveDN"};
  if (request.expired) {
    sign.insert(sign.end(), {"-startdate", "20200101000000Z", "-enddate",
                             "20200201000000Z"});
  } else {
    sign.insert(sign.end(), {"-days", "3650"});
  }
  if (ca.cert.empty()) {
    why = "the CA was not made: " + error_;
  } else if (!WriteFile(base + ".ext", ext)) {
    why = "cannot write " + base + ".ext";
  } else if (Openssl(req, &why) && Openssl(sign, &why)) {
    chmod(out.key.c_str(), 0600);
    return out;
  }
  if (error != nullptr) *error = why;
  return {};
}

std::string TestPki::Describe(const std::string& cert,
                              const std::vector<std::string>& what) const {
  std::vector<std::string> argv = {OpensslBinary(), "x509", "-noout", "-in",
                                   cert};
  for (const auto& w : what) {
    const auto space = w.find(' ');
    argv.push_back("-" + w.substr(0, space));
    if (space != std::string::npos) argv.push_back(w.substr(space + 1));
  }
  const CommandResult r = RunCommand(argv, kOpensslTimeout);
  return r.ok() ? r.out : r.Describe();
}

}  // namespace testing_support
