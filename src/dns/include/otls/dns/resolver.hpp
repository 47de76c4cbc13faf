// The DNS resolver interface of otls: typed answers (RFC 1035, 3596, 2782, 6698) with the
// rcode outcome and the DNSSEC status of each answer (RFC 4033-4035).
#pragma once

#include <cstdint>
#include <string>
#include <variant>
#include <vector>

#include <boost/asio/awaitable.hpp>
#include <boost/asio/ip/address.hpp>

#include "otls/core/error.hpp"

namespace otls::dns {

using boost::asio::awaitable;

// Only the types otls looks up; the values are the IANA RR type codes.
enum class rr_type : std::uint16_t {
  a = 1,
  cname = 5,
  mx = 15,
  txt = 16,
  aaaa = 28,
  srv = 33,
  dnskey = 48,
  tlsa = 52,
};
const char* to_string(rr_type t) noexcept;

// How the lookup ended. NODATA (the name exists, the type does not) is kept apart from
// NXDOMAIN because RFC 5321 §5.1's implicit-MX fallback and RFC 7672 §2.2 depend on it.
enum class rcode { noerror, nxdomain, nodata, servfail };
const char* to_string(rcode r) noexcept;

// RFC 4033 §5 / RFC 4035 §4.3 security status as reported by the validator.
// indeterminate: no validated outcome at all (e.g. SERVFAIL without a bogus verdict).
enum class dnssec_status { secure, insecure, bogus, indeterminate };
const char* to_string(dnssec_status s) noexcept;

// Names in presentation form: answers carry them fully qualified ("mx.example."); reports,
// SNI and certificate checks want them without the root dot (RFC 6066 §3).
inline std::string fully_qualified(std::string name) {
  if (name.empty() || name.back() != '.') name += '.';
  return name;
}
inline std::string without_root_dot(std::string name) {
  if (name.size() > 1 && name.back() == '.') name.pop_back();
  return name;
}

using address = boost::asio::ip::address;  // A (RFC 1035 §3.4.1) and AAAA (RFC 3596)

struct mx_record {  // RFC 1035 §3.3.9; exchange "." is a null MX (RFC 7505)
  std::uint16_t preference = 0;
  std::string exchange;
  friend bool operator==(const mx_record&, const mx_record&) = default;
};

// RFC 1035 §3.3.14. The character-strings stay separate; RFC 7208 §3.3 and RFC 8461 §3.1
// readers concatenate them without separators (joined()).
struct txt_record {
  std::vector<std::string> strings;
  std::string joined() const;
  friend bool operator==(const txt_record&, const txt_record&) = default;
};

struct tlsa_record {  // RFC 6698 §2.1
  std::uint8_t usage = 0;
  std::uint8_t selector = 0;
  std::uint8_t matching_type = 0;
  std::vector<std::uint8_t> data;
  friend bool operator==(const tlsa_record&, const tlsa_record&) = default;
};

struct srv_record {  // RFC 2782
  std::uint16_t priority = 0;
  std::uint16_t weight = 0;
  std::uint16_t port = 0;
  std::string target;
  friend bool operator==(const srv_record&, const srv_record&) = default;
};

struct cname_record {  // RFC 1035 §3.3.1
  std::string target;
  friend bool operator==(const cname_record&, const cname_record&) = default;
};

struct dnskey_record {  // RFC 4034 §2.1; asked for only to see whether validation works
  std::uint16_t flags = 0;
  std::uint8_t protocol = 0;
  std::uint8_t algorithm = 0;
  std::vector<std::uint8_t> public_key;
  friend bool operator==(const dnskey_record&, const dnskey_record&) = default;
};

using record = std::variant<address, mx_record, txt_record, tlsa_record, srv_record, cname_record,
                            dnskey_record>;

// Names are in presentation form, fully qualified with the trailing dot ("mx.example.").
struct answer {
  std::string qname;
  rr_type type = rr_type::a;
  rcode outcome = rcode::servfail;
  dnssec_status dnssec = dnssec_status::indeterminate;
  std::string why_bogus;  // the validator's own explanation when dnssec == bogus
  // The name the records belong to after following CNAMEs, and the aliases on the way
  // (qname first, canonical name last; just qname without aliases). RFC 7672 §2.2.2
  // needs both the original and the expanded name.
  std::string canonical_name;
  std::vector<std::string> cname_chain;
  // Empty unless outcome == noerror. A bogus answer is always servfail without records:
  // data that failed validation is never handed to policy code (RFC 4035 §5.5).
  std::vector<record> records;
  std::uint32_t ttl = 0;

  bool secure() const { return dnssec == dnssec_status::secure; }
};

// Failures to get any answer at all; DNS-level failures (SERVFAIL, bogus) are answers.
enum class errc {
  bad_config = 1,    // resolver address or trust anchor file could not be used
  timeout,           // no answer within the per-query time limit
  resolver_failure,  // the resolver library failed (out of memory, pipe, thread)
  malformed_rdata,   // a record's data was truncated or inconsistent
  bad_name,          // the query name is not a valid DNS name
};

const boost::system::error_category& category() noexcept;
inline error_code make_error_code(errc e) noexcept {
  return {static_cast<int>(e), category()};
}

// Implementations: unbound_resolver (real), tests/support/fake_resolver.hpp (tables).
class resolver {
 public:
  virtual ~resolver() = default;
  virtual awaitable<result<answer>> query(std::string name, rr_type type) = 0;
  // The zones whose keys the validator trusts ("." for the root anchor). Asking for their
  // DNSKEY RRset tells whether the resolver path can deliver DNSSEC at all.
  virtual std::vector<std::string> trust_anchor_zones() const { return {"."}; }
};

}  // namespace otls::dns

template <>
struct boost::system::is_error_code_enum<otls::dns::errc> : std::true_type {};
