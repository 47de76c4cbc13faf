// The protocol registry: one line per URL scheme (name, default port, implicit TLS or not,
// dialect factories). Adding a protocol is a proto/ folder plus a line here (DESIGN.md).
#pragma once

#include <cstdint>
#include <memory>
#include <span>
#include <string_view>

#include "otls/core/url.hpp"
#include "otls/proto/dialect.hpp"
#include "otls/proto/meddler.hpp"

namespace otls::proto {

struct protocol {
  std::string_view scheme;     // URL scheme, e.g. "smtp"
  std::string_view family;     // protocol family shown in reports, e.g. "smtp"
  std::uint16_t default_port;  // IANA port, or the convention where none is assigned
  bool implicit_tls;           // TLS from the first byte (RFC 8314) instead of an upgrade
  std::string_view summary;    // one line for --help and docs
  std::unique_ptr<dialect> (*make_client)(const client_options&);
  std::unique_ptr<dialect> (*make_server)(const server_options&);
  // Rewrites server-to-client bytes to remove the upgrade offer (the demo's STRIPTLS attacker).
  std::unique_ptr<offer_stripper> (*make_stripper)();
  // Where the service is located by SRV records when the URL names no port (RFC 2782), e.g.
  // "_xmpp-client._tcp" (RFC 6120 §3.2.1); empty: the URL's host and default port.
  std::string_view srv_service = {};
  // The ALPN protocol a client offers in the TLS handshake (RFC 7301), e.g. "xmpp-client"
  // for XMPP's direct TLS (XEP-0368); empty: none.
  std::string_view alpn = {};
};

std::span<const protocol> protocols() noexcept;
const protocol* find_protocol(std::string_view scheme) noexcept;

// A URL resolved against the registry: protocol known, port defaulted.
struct target {
  core::url url;
  const protocol* proto = nullptr;
  std::uint16_t port = 0;

  std::string to_string() const;  // canonical "scheme://host:port"
};

// Parses a URL and resolves its scheme; errors: core::errc::{bad_url, bad_host, bad_port,
// unsupported_scheme}.
result<target> resolve_target(std::string_view text);

}  // namespace otls::proto
