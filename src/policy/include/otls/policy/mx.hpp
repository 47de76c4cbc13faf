// Where a mail domain's mail goes: the MX RRset (RFC 5321 §5.1), the implicit MX, and the
// null MX (RFC 7505), with the DNSSEC status of the answer (RFC 7672 §2.2.1).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include <boost/asio/awaitable.hpp>
#include "otls/core/outcome.hpp"

#include "otls/dns/resolver.hpp"

namespace otls::policy {

using boost::asio::awaitable;

enum class mail_route {
  mx,           // the MX RRset names the hosts
  implicit_mx,  // no MX records, but the domain has addresses: itself, preference 0
  null_mx,      // "MX 0 ." (RFC 7505): the domain accepts no mail
  no_mail,      // the domain does not exist, or has neither MX nor address records
  failed,       // SERVFAIL, bogus, timeout: undecidable now (never a fall-back)
};
const char* to_string(mail_route r) noexcept;

struct mx_host {
  std::string exchange;  // fully qualified, trailing dot
  std::uint16_t preference = 0;
};

struct mx_facts {
  std::string domain;  // fully qualified
  dns::rcode rcode = dns::rcode::servfail;
  dns::dnssec_status dnssec = dns::dnssec_status::indeterminate;
  mail_route route = mail_route::failed;
  std::vector<mx_host> hosts;  // by preference, ties in DNS order
  std::optional<core::outcome> problem;
  std::string detail;
  std::vector<std::string> warnings;
};

// Interprets an MX answer (pure). `domain_has_addresses` matters only for NODATA: RFC 5321
// §5.1's implicit MX applies only when address records exist.
mx_facts interpret_mx(const std::string& domain, const dns::answer& mx_answer,
                      bool domain_has_addresses);

awaitable<mx_facts> lookup_mx(dns::resolver& resolver, std::string domain);

}  // namespace otls::policy
