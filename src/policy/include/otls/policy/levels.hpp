// Security levels as data, Postfix-style (none, may, encrypt, dane, dane-only, fingerprint,
// verify, secure): each is described by its properties, not ranked, because they trust
// different things (RFC 7672 for dane; RFC 8461 §4 uses verify's PKIX rules).
#pragma once

#include <optional>
#include <string_view>

namespace otls::policy {

enum class security_level { none, may, encrypt, dane, dane_only, fingerprint, verify, secure };

enum class tls_requirement {
  never,               // none: TLS is not even tried
  optional,            // may: TLS when offered, plaintext otherwise
  required,            // TLS or no delivery
  where_dane_applies,  // dane: required only for hosts with usable DNSSEC-secure TLSA records
};

enum class authentication {
  none,         // any certificate (encrypt, may)
  pkix,         // a chain to a trusted CA and a matching name (verify, secure)
  dane,         // TLSA records (dane, dane-only)
  fingerprint,  // a configured certificate or public-key digest (fingerprint)
};

struct level_properties {
  security_level level;
  std::string_view name;
  tls_requirement tls;
  authentication auth;
  // What the level becomes for a host where its own rule cannot apply: dane falls back to may
  // (no TLSA) or encrypt (only unusable TLSA); dane-only has no fall-back (nullopt).
  std::optional<security_level> fallback;
  std::string_view summary;
};

const level_properties& properties(security_level l) noexcept;
std::string_view to_string(security_level l) noexcept;
std::optional<security_level> parse_security_level(std::string_view name) noexcept;

// The predicates policy code asks; each follows from the properties above.
bool tls_required(security_level l, bool dane_applies) noexcept;
bool authenticates(security_level l) noexcept;
bool plaintext_allowed(security_level l, bool dane_applies) noexcept;

}  // namespace otls::policy
