#include "server/exposure.h"

#include <fmt/format.h>

#include <boost/asio/ip/address.hpp>

namespace server {

namespace {

// The host as written, and the address when it differs.
std::string HostText(const ExposureInput& in) {
  if (in.address.empty() || in.address == in.host) return in.host;
  return fmt::format("{} ({})", in.host, in.address);
}

bool IsIpv6(std::string_view address) {
  boost::system::error_code ec;
  auto parsed = boost::asio::ip::make_address(std::string(address), ec);
  return !ec && parsed.is_v6() && !parsed.to_v6().is_v4_mapped();
}

}  // namespace

bool IsLoopbackAddress(std::string_view address) {
  boost::system::error_code ec;
  auto parsed = boost::asio::ip::make_address(std::string(address), ec);
  if (ec) return false;
  if (parsed.is_v6() && parsed.to_v6().is_v4_mapped())
    return boost::asio::ip::make_address_v4(boost::asio::ip::v4_mapped,
                                            parsed.to_v6())
        .is_loopback();
  return parsed.is_loopback();
}

Exposure DecideExposure(const ExposureInput& in) {
  Exposure out;
  out.listen_host = in.host;
  const bool authenticated = in.auth || in.client_certs_required;
  if (in.tls && authenticated) {
    out.lines.push_back(
        {false,
         fmt::format("TLS on {}, peers authenticated by {}", HostText(in),
                     in.auth && in.client_certs_required
                         ? "client certificates and the auth_file"
                     : in.auth ? "the auth_file"
                               : "client certificates")});
    return out;
  }
  const std::string missing = !in.tls && !authenticated
                                  ? "no TLS and no authentication"
                              : !in.tls ? "no TLS"
                                        : "no authentication of its peers";
  // What an open port gives away.
  const std::string risk =
      !authenticated
          ? "anyone who reaches the port can stop the server, read every "
            "queue (FIDs, cookies, hsm data), take or end movers' work and "
            "queue removals"
          : "tokens, FIDs and hsm data cross the network in clear: anyone "
            "who can watch it can take a token and act with its role";
  if (IsLoopbackAddress(in.address)) {
    out.lines.push_back(
        {false, fmt::format("listening on loopback {} with {}: only users "
                            "of this host reach the port",
                            HostText(in), missing)});
    return out;
  }
  if (in.allow_insecure) {
    out.lines.push_back(
        {true, fmt::format("INSECURE: listening on {} with {} "
                           "(allow_insecure): {} (docs/security.md)",
                           HostText(in), missing, risk)});
    return out;
  }
  out.confined = true;
  out.listen_host = IsIpv6(in.address) ? "::1" : "127.0.0.1";
  out.lines.push_back(
      {true,
       fmt::format("not listening on {}, not a loopback address: with {}, "
                   "{}. Listening on {} only. Configure TLS (tls_cert, "
                   "tls_key) and authentication (auth_file, or "
                   "tls_client_cert required), see docs/security.md, or set "
                   "allow_insecure to listen on {} anyway",
                   HostText(in), missing, risk, out.listen_host, in.host)});
  return out;
}

}  // namespace server
