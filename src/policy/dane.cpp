// DANE applicability, TLSA usability and the connection plan (RFC 7672 §2.2, §3; RFC 6698
// §2.1; RFC 7671 §5). Lookups go through dns::resolver; decisions are pure functions.
#include "otls/policy/dane.hpp"

#include <algorithm>

#include "otls/core/text.hpp"

namespace otls::policy {
namespace {

using dns::dnssec_status;
using dns::rcode;

bool same_name(std::string_view a, std::string_view b) {
  return dns::fully_qualified(core::to_lower(a)) == dns::fully_qualified(core::to_lower(b));
}

// A bogus answer means dnssec-invalid only if the resolver path can validate at all.
awaitable<void> record_bogus(dns::resolver& resolver, const dns::answer& a, host_facts& f) {
  f.verdict = dane_verdict::tempfail;
  // Named, not in the condition: GCC 12 miscompiles a co_await inside an if condition.
  const bool validates = co_await resolver_validates(resolver);
  if (!validates) {
    f.problem = core::outcome::resolver_cannot_validate;
    f.detail =
        "no answer validates, not even the trust anchor's own DNSKEY RRset: the resolver "
        "(or something on the way) strips or breaks DNSSEC; use a validating-capable "
        "resolver (--resolver)";
    co_return;
  }
  f.problem = core::outcome::dnssec_invalid;
  f.detail = std::string(dns::to_string(a.type)) + " records of " + a.qname +
             " failed DNSSEC validation (bogus" + (a.why_bogus.empty() ? "" : ": " + a.why_bogus) +
             "); the host is not tried (RFC 7672 §2.1.1)";
}

void record_failure(const std::string& what, const std::string& why, host_facts& f) {
  f.verdict = dane_verdict::tempfail;
  f.problem = core::outcome::dns_failure;
  f.detail = what + " failed (" + why + "); the host is not tried now";
}

// Finds a DNSSEC-secure TLSA RRset: the CNAME-expanded name first, then the original
// (RFC 7672 §2.2.2). Returns false when the host was marked tempfail.
awaitable<bool> find_tlsa(dns::resolver& resolver, host_facts& f, std::string& base,
                          std::vector<dns::tlsa_record>& found) {
  std::vector<std::string> candidates;
  const std::string canonical = f.cname_chain.empty() ? f.host : f.cname_chain.back();
  if (!same_name(canonical, f.host)) candidates.push_back(canonical);
  candidates.push_back(f.host);
  for (const auto& candidate : candidates) {
    const std::string name =
        "_" + std::to_string(f.port) + "._tcp." + dns::fully_qualified(candidate);
    f.tlsa_looked_up = true;
    f.tlsa_name = name;
    auto r = co_await resolver.query(name, dns::rr_type::tlsa);
    if (!r) {
      record_failure("the TLSA lookup of " + name, r.error().message(), f);
      co_return false;
    }
    f.tlsa_dnssec = r->dnssec;
    if (r->dnssec == dnssec_status::bogus) {
      co_await record_bogus(resolver, *r, f);
      co_return false;
    }
    if (r->outcome == rcode::servfail) {
      // The address records were secure, so this zone is signed: a failure here is not the
      // broken-insecure-zone case, and falling back to plaintext would hand an attacker the
      // downgrade (RFC 7672 §2.2).
      record_failure("the TLSA lookup of " + name, "SERVFAIL", f);
      co_return false;
    }
    if (r->outcome != rcode::noerror || !r->secure()) continue;
    for (const auto& rec : r->records) {
      if (const auto* t = std::get_if<dns::tlsa_record>(&rec)) found.push_back(*t);
    }
    if (found.empty()) continue;
    base = candidate;
    co_return true;
  }
  co_return true;
}

}  // namespace

const char* to_string(dane_verdict v) noexcept {
  switch (v) {
    case dane_verdict::authenticate:
      return "dane";
    case dane_verdict::encrypt:
      return "encrypt";
    case dane_verdict::not_applicable:
      return "not-applicable";
    case dane_verdict::tempfail:
      return "tempfail";
  }
  return "?";
}

tlsa_entry classify_tlsa(const dns::tlsa_record& record, dane_mode mode) {
  tlsa_entry e{record, false, {}};
  const bool pkix = record.usage == 0 || record.usage == 1;
  if (record.usage > 3) {
    e.why_unusable = "unknown certificate usage " + std::to_string(record.usage);
  } else if (pkix && mode == dane_mode::smtp) {
    e.why_unusable = "PKIX-TA(0) and PKIX-EE(1) are not used for SMTP (RFC 7672 §3.1.3)";
  } else if (record.selector > 1) {
    e.why_unusable = "unknown selector " + std::to_string(record.selector);
  } else if (record.matching_type > 2) {
    e.why_unusable = "unknown matching type " + std::to_string(record.matching_type);
  } else if (record.matching_type == 1 && record.data.size() != 32) {
    e.why_unusable =
        "a SHA2-256 digest must be 32 bytes, not " + std::to_string(record.data.size());
  } else if (record.matching_type == 2 && record.data.size() != 64) {
    e.why_unusable =
        "a SHA2-512 digest must be 64 bytes, not " + std::to_string(record.data.size());
  } else if (record.data.empty()) {
    e.why_unusable = "empty association data";
  } else {
    e.usable = true;
  }
  return e;
}

awaitable<bool> resolver_validates(dns::resolver& resolver) {
  for (const auto& zone : resolver.trust_anchor_zones()) {
    auto r = co_await resolver.query(zone, dns::rr_type::dnskey);
    if (r && r->secure()) co_return true;
  }
  co_return false;
}

awaitable<host_facts> lookup_host(dns::resolver& resolver, std::string host, std::uint16_t port,
                                  dane_mode mode, address_families families, bool want_dane) {
  host_facts f;
  f.host = dns::fully_qualified(std::move(host));
  f.port = port;

  std::vector<dns::rr_type> types;
  if (families.v4) types.push_back(dns::rr_type::a);
  if (families.v6) types.push_back(dns::rr_type::aaaa);
  std::vector<dns::answer> answers;
  std::string failure;
  for (const auto type : types) {
    auto r = co_await resolver.query(f.host, type);
    if (!r) {
      failure = std::string(dns::to_string(type)) + ": " + r.error().message();
      continue;
    }
    if (r->dnssec == dnssec_status::bogus) {
      // Bogus address records make the host unusable, whatever the other family says.
      f.address_dnssec = dnssec_status::bogus;
      co_await record_bogus(resolver, *r, f);
      co_return f;
    }
    if (r->outcome == rcode::servfail) {
      failure = std::string(dns::to_string(type)) + ": SERVFAIL";
      continue;
    }
    for (const auto& rec : r->records) {
      if (const auto* a = std::get_if<dns::address>(&rec)) f.addresses.push_back(*a);
    }
    if (f.cname_chain.empty() || !r->records.empty()) f.cname_chain = r->cname_chain;
    answers.push_back(std::move(*r));
  }
  if (!failure.empty()) {
    if (f.addresses.empty()) {
      record_failure("the address lookup of " + f.host, failure, f);
      co_return f;
    }
    f.warnings.push_back("address lookup of " + f.host + " partly failed (" + failure +
                         "); using the addresses that resolved");
  }
  if (f.cname_chain.empty()) f.cname_chain = {f.host};
  if (!answers.empty()) {
    const bool all_secure = std::all_of(answers.begin(), answers.end(),
                                        [](const dns::answer& a) { return a.secure(); });
    f.address_dnssec = all_secure ? dnssec_status::secure : dnssec_status::insecure;
  }
  if (f.addresses.empty()) {
    f.detail = f.host + " has no address records";
    co_return f;
  }
  if (!want_dane) co_return f;
  if (f.address_dnssec != dnssec_status::secure) {
    f.detail = "the address records of " + f.host +
               " are not DNSSEC-signed, so DANE does not apply (RFC 7672 §2.2)";
    co_return f;
  }

  std::string base;
  std::vector<dns::tlsa_record> found;
  const bool decided = co_await find_tlsa(resolver, f, base, found);
  if (!decided) co_return f;
  if (found.empty()) {
    f.detail = "no DNSSEC-secure TLSA records at " + f.tlsa_name + ", so DANE does not apply";
    co_return f;
  }
  for (const auto& t : found) {
    f.tlsa.push_back(classify_tlsa(t, mode));
    if (f.tlsa.back().usable) ++f.usable;
  }
  f.reference_names.push_back(dns::without_root_dot(base));
  if (!same_name(base, f.host)) f.reference_names.push_back(dns::without_root_dot(f.host));
  if (f.usable > 0) {
    f.verdict = dane_verdict::authenticate;
  } else {
    f.verdict = dane_verdict::encrypt;
    f.problem = core::outcome::tlsa_invalid;
    f.detail = "the TLSA RRset at " + f.tlsa_name +
               " is DNSSEC-secure but none of its records is usable: TLS is mandatory, the "
               "server cannot be authenticated (RFC 7672 §2.2)";
  }
  co_return f;
}

connection_plan plan_connection(const host_facts& f, dane_fallback fallback) {
  connection_plan p;
  if (f.verdict == dane_verdict::tempfail) {
    p.refusal = f.problem.value_or(core::outcome::dns_failure);
    p.detail = f.detail;
    return p;
  }
  if (f.addresses.empty()) {
    p.refusal = core::outcome::connect_failure;
    p.detail = f.detail.empty() ? f.host + " has no address records" : f.detail;
    return p;
  }
  switch (f.verdict) {
    case dane_verdict::authenticate: {
      p.connect = true;
      p.require_tls = true;
      tls::dane_config dane;
      for (const auto& e : f.tlsa) {
        if (e.usable)
          dane.records.push_back(
              {e.record.usage, e.record.selector, e.record.matching_type, e.record.data});
      }
      dane.reference_names = f.reference_names;
      p.servername = f.reference_names.front();
      p.dane = std::move(dane);
      return p;
    }
    case dane_verdict::encrypt:
      if (fallback == dane_fallback::refuse) {
        p.refusal = core::outcome::tlsa_invalid;
        p.detail = f.detail;
        return p;
      }
      p.connect = true;
      p.require_tls = true;
      p.servername = f.reference_names.front();
      p.warnings.push_back(f.detail);
      return p;
    case dane_verdict::not_applicable:
    case dane_verdict::tempfail:
      break;
  }
  switch (fallback) {
    case dane_fallback::refuse:
      p.refusal = core::outcome::dane_required;
      p.detail = "level dane-only: " + f.detail;
      return p;
    case dane_fallback::may:
      p.connect = true;
      return p;
    case dane_fallback::encrypt:
      p.connect = true;
      p.require_tls = true;
      return p;
    case dane_fallback::verify:
      p.connect = true;
      p.require_tls = true;
      p.verify_pkix = true;
      return p;
  }
  return p;
}

}  // namespace otls::policy
