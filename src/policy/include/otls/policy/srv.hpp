// Service location by SRV records (RFC 2782) as XMPP uses it (RFC 6120 §3.2, XEP-0368): the
// targets in the order to try them, with the answer's DNSSEC status. The certificate is still
// checked against the service domain, never an SRV target (RFC 6120 §13.7.2.1).
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include <boost/asio/awaitable.hpp>

#include "otls/dns/resolver.hpp"

namespace otls::policy {

using boost::asio::awaitable;

enum class service_route {
  srv,         // SRV records name the targets
  fallback,    // no SRV records (NXDOMAIN or NODATA): the domain on the default port (§3.2.2)
  no_service,  // a lone "SRV 0 0 0 ." record: the service is decidedly not offered (RFC 2782)
  failed,      // SERVFAIL, bogus, timeout: the fall-back is tried, with a warning (§3.2.1)
};
const char* to_string(service_route r) noexcept;

struct srv_target {
  std::string host;  // fully qualified, trailing dot
  std::uint16_t port = 0;
  std::uint16_t priority = 0;
  std::uint16_t weight = 0;
};

struct service_facts {
  std::string name;  // "_xmpps-client._tcp.example.org."
  dns::dnssec_status dnssec = dns::dnssec_status::indeterminate;
  service_route route = service_route::failed;
  std::vector<srv_target> targets;  // in the order to try them
  std::string detail;               // why the route is fallback, no_service or failed
};

// Returns a number in [0, total], uniformly; the weighted order's only source of chance.
using weight_pick = std::function<std::uint32_t(std::uint32_t total)>;
weight_pick random_weight_pick();

// RFC 2782's order: lowest priority first; within one priority, repeatedly the first target
// whose running weight sum reaches pick(sum of the remaining weights), zero weights first.
std::vector<srv_target> order_targets(std::vector<srv_target> targets, const weight_pick& pick);

// Interprets an SRV answer for `name` (pure apart from `pick`).
service_facts interpret_srv(const std::string& name, const dns::answer& srv_answer,
                            const weight_pick& pick);

// Asks for SRV at SERVICE.DOMAIN (service: "_xmpp-client._tcp").
awaitable<service_facts> lookup_service(dns::resolver& resolver, std::string_view service,
                                        std::string_view domain, weight_pick pick);

}  // namespace otls::policy
