// MX resolution for a mail domain (RFC 5321 §5.1, RFC 7505 null MX), keeping the DNSSEC
// status of the MX RRset (RFC 7672 §2.2.1). A failed or bogus lookup is never a fall-back.
#include "otls/policy/mx.hpp"

#include <algorithm>

#include "otls/policy/dane.hpp"

namespace otls::policy {
const char* to_string(mail_route r) noexcept {
  switch (r) {
    case mail_route::mx:
      return "mx";
    case mail_route::implicit_mx:
      return "implicit-mx";
    case mail_route::null_mx:
      return "null-mx";
    case mail_route::no_mail:
      return "no-mail";
    case mail_route::failed:
      return "failed";
  }
  return "?";
}

mx_facts interpret_mx(const std::string& domain, const dns::answer& a, bool domain_has_addresses) {
  mx_facts f;
  f.domain = dns::fully_qualified(domain);
  f.rcode = a.outcome;
  f.dnssec = a.dnssec;
  if (a.dnssec == dns::dnssec_status::bogus) {
    f.problem = core::outcome::dnssec_invalid;
    f.detail = "the MX records of " + f.domain + " failed DNSSEC validation (bogus" +
               (a.why_bogus.empty() ? "" : ": " + a.why_bogus) + ")";
    return f;
  }
  switch (a.outcome) {
    case dns::rcode::servfail:
      f.problem = core::outcome::dns_failure;
      f.detail = "the MX lookup of " + f.domain + " failed (SERVFAIL); try again later";
      return f;
    case dns::rcode::nxdomain:
      f.route = mail_route::no_mail;
      f.problem = core::outcome::no_mail;
      f.detail = f.domain + " does not exist (NXDOMAIN)";
      return f;
    case dns::rcode::nodata:
      if (domain_has_addresses) {
        // RFC 5321 §5.1: the domain itself, as if by "MX 0 domain".
        f.route = mail_route::implicit_mx;
        f.hosts.push_back({f.domain, 0});
      } else {
        f.route = mail_route::no_mail;
        f.problem = core::outcome::no_mail;
        f.detail = f.domain + " has neither MX nor address records";
      }
      return f;
    case dns::rcode::noerror:
      break;
  }
  std::size_t null_mx = 0;
  for (const auto& rec : a.records) {
    const auto* mx = std::get_if<dns::mx_record>(&rec);
    if (!mx) continue;
    if (mx->exchange == ".") {
      ++null_mx;
    } else {
      f.hosts.push_back({dns::fully_qualified(mx->exchange), mx->preference});
    }
  }
  if (f.hosts.empty() && null_mx > 0) {
    f.route = mail_route::null_mx;
    f.problem = core::outcome::no_mail;
    f.detail = f.domain + " publishes a null MX (RFC 7505): it accepts no mail";
    return f;
  }
  if (null_mx > 0) {
    // RFC 7505 §3: a null MX must be the only MX; the other records still name real hosts.
    f.warnings.push_back(
        "a null MX is published next to other MX records (RFC 7505 §3 says "
        "it must be alone); the other MX hosts are used");
  }
  std::stable_sort(f.hosts.begin(), f.hosts.end(),
                   [](const mx_host& x, const mx_host& y) { return x.preference < y.preference; });
  f.route = mail_route::mx;
  return f;
}

awaitable<mx_facts> lookup_mx(dns::resolver& resolver, std::string domain) {
  domain = dns::fully_qualified(std::move(domain));
  auto r = co_await resolver.query(domain, dns::rr_type::mx);
  if (!r) {
    mx_facts f;
    f.domain = domain;
    f.problem = core::outcome::dns_failure;
    f.detail = "the MX lookup of " + domain + " failed: " + r.error().message();
    co_return f;
  }
  // Named, not in the condition: GCC 12 miscompiles a co_await inside an if condition.
  bool validates = true;
  if (r->dnssec == dns::dnssec_status::bogus) validates = co_await resolver_validates(resolver);
  if (!validates) {
    auto f = interpret_mx(domain, *r, false);
    f.problem = core::outcome::resolver_cannot_validate;
    f.detail =
        "no answer validates, not even the trust anchor's own DNSKEY RRset: the "
        "resolver (or something on the way) strips or breaks DNSSEC";
    co_return f;
  }
  bool has_addresses = false;
  if (r->outcome == dns::rcode::nodata) {
    // The implicit MX needs a clean answer: a failed or bogus address lookup decides nothing.
    for (const auto type : {dns::rr_type::a, dns::rr_type::aaaa}) {
      auto addr = co_await resolver.query(domain, type);
      if (!addr || addr->outcome == dns::rcode::servfail) {
        mx_facts f = interpret_mx(domain, *r, false);
        f.route = mail_route::failed;
        f.problem = addr && addr->dnssec == dns::dnssec_status::bogus
                        ? core::outcome::dnssec_invalid
                        : core::outcome::dns_failure;
        f.detail = "no MX records, and the address lookup of " + domain +
                   " failed, so the implicit MX cannot be decided";
        co_return f;
      }
      if (addr->outcome == dns::rcode::noerror && !addr->records.empty()) has_addresses = true;
    }
  }
  co_return interpret_mx(domain, *r, has_addresses);
}

}  // namespace otls::policy
