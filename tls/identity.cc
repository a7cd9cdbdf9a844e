#include "tls/identity.h"

#include <arpa/inet.h>
#include <fmt/format.h>
#include <openssl/asn1.h>
#include <openssl/bio.h>
#include <openssl/x509v3.h>

#include <memory>

namespace tls {
namespace {

std::string_view View(const ASN1_STRING* s) {
  return {reinterpret_cast<const char*>(ASN1_STRING_get0_data(s)),
          static_cast<size_t>(ASN1_STRING_length(s))};
}

// The common name (the last one, the most specific, if there are several),
// as UTF-8; "" without one.
std::string CommonName(X509_NAME* name) {
  int last = -1;
  for (int i = -1;
       (i = X509_NAME_get_index_by_NID(name, NID_commonName, i)) >= 0;)
    last = i;
  if (last < 0) return "";
  ASN1_STRING* data = X509_NAME_ENTRY_get_data(X509_NAME_get_entry(name, last));
  unsigned char* utf8 = nullptr;
  const int n = ASN1_STRING_to_UTF8(&utf8, data);
  if (n < 0) return "";
  std::string out(reinterpret_cast<char*>(utf8), static_cast<size_t>(n));
  OPENSSL_free(utf8);
  return out;
}

// RFC 2253 ("CN=mover-1,O=site"), with control characters escaped by
// OpenSSL itself.
std::string Rfc2253(X509_NAME* name) {
  std::unique_ptr<BIO, decltype(&BIO_free)> bio(BIO_new(BIO_s_mem()), BIO_free);
  if (!bio || X509_NAME_print_ex(bio.get(), name, 0, XN_FLAG_RFC2253) < 0)
    return "";
  char* data = nullptr;
  const long n = BIO_get_mem_data(bio.get(), &data);
  return n > 0 ? std::string(data, static_cast<size_t>(n)) : "";
}

std::string Address(const ASN1_OCTET_STRING* ip) {
  const std::string_view raw = View(ip);
  char text[INET6_ADDRSTRLEN] = {};
  if (raw.size() == 4 && inet_ntop(AF_INET, raw.data(), text, sizeof(text)))
    return text;
  if (raw.size() == 16 && inet_ntop(AF_INET6, raw.data(), text, sizeof(text)))
    return text;
  return "";
}

}  // namespace

std::string EscapeIdentity(std::string_view bytes) {
  std::string out;
  out.reserve(bytes.size());
  for (const char ch : bytes) {
    const auto byte = static_cast<unsigned char>(ch);
    if (byte == '\\')
      out += "\\\\";
    else if (byte < 0x20 || byte > 0x7e)
      out += fmt::format("\\x{:02x}", byte);
    else
      out += ch;
  }
  return out;
}

std::vector<std::string> IdentitiesOf(X509* cert) {
  std::vector<std::string> out;
  if (cert == nullptr) return out;
  X509_NAME* subject = X509_get_subject_name(cert);
  if (const std::string cn = CommonName(subject); !cn.empty())
    out.push_back("CN=" + EscapeIdentity(cn));
  if (const std::string dn = Rfc2253(subject); !dn.empty())
    out.push_back("subject=" + EscapeIdentity(dn));
  auto* names = static_cast<GENERAL_NAMES*>(
      X509_get_ext_d2i(cert, NID_subject_alt_name, nullptr, nullptr));
  if (names == nullptr) return out;
  for (int i = 0; i < sk_GENERAL_NAME_num(names); ++i) {
    const GENERAL_NAME* name = sk_GENERAL_NAME_value(names, i);
    switch (name->type) {
      case GEN_DNS:
        out.push_back("DNS:" + EscapeIdentity(View(name->d.dNSName)));
        break;
      case GEN_IPADD:
        if (std::string ip = Address(name->d.iPAddress); !ip.empty())
          out.push_back("IP:" + ip);
        break;
      case GEN_EMAIL:
        out.push_back("email:" + EscapeIdentity(View(name->d.rfc822Name)));
        break;
      case GEN_URI:
        out.push_back("URI:" +
                      EscapeIdentity(View(name->d.uniformResourceIdentifier)));
        break;
      default:
        break;
    }
  }
  GENERAL_NAMES_free(names);
  return out;
}

}  // namespace tls
