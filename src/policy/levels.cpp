// The table of security levels and the predicates derived from it (Postfix TLS_README's
// levels; RFC 7672 for dane and dane-only).
#include "otls/policy/levels.hpp"

#include <array>

namespace otls::policy {
namespace {

using sl = security_level;
using tr = tls_requirement;
using au = authentication;

constexpr std::array<level_properties, 8> table{{
    {sl::none, "none", tr::never, au::none, std::nullopt, "no TLS"},
    {sl::may, "may", tr::optional, au::none, std::nullopt,
     "TLS when offered, unauthenticated; plaintext otherwise"},
    {sl::encrypt, "encrypt", tr::required, au::none, std::nullopt, "TLS required, any certificate"},
    {sl::dane, "dane", tr::where_dane_applies, au::dane, sl::may,
     "DANE where DNSSEC-secure TLSA records exist, otherwise may"},
    {sl::dane_only, "dane-only", tr::required, au::dane, std::nullopt,
     "TLS authenticated by DANE, or no delivery"},
    {sl::fingerprint, "fingerprint", tr::required, au::fingerprint, std::nullopt,
     "TLS with a certificate or key whose SHA-256 digest is configured"},
    {sl::verify, "verify", tr::required, au::pkix, std::nullopt,
     "TLS with a PKIX-valid certificate for the MX host name"},
    {sl::secure, "secure", tr::required, au::pkix, std::nullopt,
     "TLS with a PKIX-valid certificate for the next-hop domain"},
}};

}  // namespace

const level_properties& properties(security_level l) noexcept {
  for (const auto& p : table)
    if (p.level == l) return p;
  return table[1];
}

std::string_view to_string(security_level l) noexcept {
  return properties(l).name;
}

std::optional<security_level> parse_security_level(std::string_view name) noexcept {
  for (const auto& p : table)
    if (p.name == name) return p.level;
  return std::nullopt;
}

bool tls_required(security_level l, bool dane_applies) noexcept {
  switch (properties(l).tls) {
    case tls_requirement::never:
    case tls_requirement::optional:
      return false;
    case tls_requirement::required:
      return true;
    case tls_requirement::where_dane_applies:
      return dane_applies;
  }
  return true;
}

bool authenticates(security_level l) noexcept {
  return properties(l).auth != authentication::none;
}

bool plaintext_allowed(security_level l, bool dane_applies) noexcept {
  return !tls_required(l, dane_applies);
}

}  // namespace otls::policy
