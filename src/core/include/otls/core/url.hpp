// Target URLs: scheme://host[:port] with DNS names, IPv4 and [IPv6] literals (RFC 3986 §3.2).
// Which schemes exist and their default ports is the protocol registry's business (proto/).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "otls/core/error.hpp"

namespace otls::core {

enum class host_kind { dns_name, ipv4, ipv6 };

struct url {
  std::string scheme;  // lower-cased
  std::string host;    // without brackets; DNS names lower-cased, no trailing dot
  host_kind kind = host_kind::dns_name;
  std::optional<std::uint16_t> port;

  // host as written in a URL or host:port pair: IPv6 literals in brackets.
  std::string host_for_display() const;
};

// Parses "scheme://host[:port][/]". No user info, path, query or fragment.
result<url> parse_url(std::string_view text);

// Classifies a host: DNS name (LDH labels, <= 253 octets), IPv4 or IPv6 literal.
result<host_kind> classify_host(std::string_view host);

}  // namespace otls::core
