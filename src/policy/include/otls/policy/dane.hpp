// DANE: when it applies to a host, which TLSA records are usable, and how to connect
// (RFC 7672 §2.2 and §3 for SMTP; RFC 6698 and RFC 7671 for other services).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include <boost/asio/awaitable.hpp>
#include "otls/core/outcome.hpp"

#include "otls/dns/resolver.hpp"
#include "otls/tls/tls.hpp"

namespace otls::policy {

using boost::asio::awaitable;

// SMTP uses RFC 7672's rules (PKIX-TA/EE unusable, §3.1.3); other services RFC 6698/7671.
enum class dane_mode { smtp, generic };

struct tlsa_entry {
  dns::tlsa_record record;
  bool usable = false;
  std::string why_unusable;  // empty when usable
};

// RFC 6698 §2.1 parameters otls (through OpenSSL) can use, and for SMTP only DANE-TA(2) and
// DANE-EE(3) (RFC 7672 §3.1.3). Digest lengths must fit the matching type.
tlsa_entry classify_tlsa(const dns::tlsa_record& record, dane_mode mode);

enum class dane_verdict {
  authenticate,    // secure usable TLSA: TLS mandatory, the chain must match (level "dane")
  encrypt,         // secure TLSA RRset, nothing usable: TLS mandatory, unauthenticated (§2.2)
  not_applicable,  // insecure addresses or TLSA, or no TLSA records: DANE does not apply
  tempfail,        // bogus or failed lookups: the host must not be tried now (§2.1.1, §2.2)
};
const char* to_string(dane_verdict v) noexcept;

struct address_families {
  bool v4 = true;
  bool v6 = true;
};

// Everything DNS says about one destination host and its DANE status.
struct host_facts {
  std::string host;  // as given (an MX exchange or a URL host), fully qualified
  std::uint16_t port = 0;

  // Address records (A and AAAA) and the CNAME chain that led to them.
  dns::dnssec_status address_dnssec = dns::dnssec_status::indeterminate;
  std::vector<std::string> cname_chain;  // host first, canonical name last
  std::vector<dns::address> addresses;
  std::vector<std::string> warnings;

  // DANE. tlsa_name is where the TLSA RRset was found, or the last name asked.
  bool tlsa_looked_up = false;
  std::string tlsa_name;
  dns::dnssec_status tlsa_dnssec = dns::dnssec_status::indeterminate;
  std::vector<tlsa_entry> tlsa;
  int usable = 0;
  dane_verdict verdict = dane_verdict::not_applicable;
  // Why the host cannot be used now (tempfail), or tlsa_invalid with verdict encrypt.
  std::optional<core::outcome> problem;
  std::string detail;
  // The names a DANE-TA chain may match: the TLSA base domain (also the SNI, §8.1), then the
  // host as given when it differs (§2.2.2, §3.2.2). Never the next-hop domain: with an
  // insecure MX RRset only the MX hostname is trustworthy (§2.2.1).
  std::vector<std::string> reference_names;

  bool applies() const {
    return verdict == dane_verdict::authenticate || verdict == dane_verdict::encrypt;
  }
};

// Looks up a host's addresses and, when they are DNSSEC-secure and `want_dane` is set, its
// TLSA records at _PORT._tcp (RFC 7672 §2.2: TLSA only after a secure address answer, so
// broken name servers in unsigned zones never matter; the CNAME-expanded name first, then
// the original, §2.2.2). A bogus answer is checked against the resolver's ability to
// validate at all before it is called dnssec-invalid.
awaitable<host_facts> lookup_host(dns::resolver& resolver, std::string host, std::uint16_t port,
                                  dane_mode mode, address_families families, bool want_dane);

// True when the DNSKEY RRset of one of the resolver's trust-anchor zones validates as secure;
// false means the path to the resolver strips or breaks DNSSEC, so "bogus" says nothing.
awaitable<bool> resolver_validates(dns::resolver& resolver);

// What to do when DANE does not apply to a host: the level the user chose falls back to.
enum class dane_fallback { may, encrypt, verify, refuse };

struct connection_plan {
  bool connect = false;
  std::optional<core::outcome> refusal;  // when !connect: why not (tempfail, dane-required)
  std::string detail;
  bool require_tls = false;
  bool verify_pkix = false;
  std::optional<tls::dane_config> dane;   // authenticate with these records and names
  std::string servername;                 // SNI: the TLSA base domain under DANE
  std::vector<std::string> fingerprints;  // level fingerprint
  std::string pkix_report_name;           // also report PKIX for this name (MTA-STS beside DANE)
  bool report_only = false;               // failures are reported, delivery would go on
  std::vector<std::string> warnings;
};

// The pure decision: how to connect to a host given its facts. dane-only is
// fallback == refuse: DANE must apply with usable records (RFC 7672 §2.2).
connection_plan plan_connection(const host_facts& facts, dane_fallback fallback);

}  // namespace otls::policy
