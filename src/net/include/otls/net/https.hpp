// A small, strict HTTPS GET for fetching MTA-STS policies (RFC 8461 §3.3): Boost.Beast over
// the tls layer, PKIX-verified with SNI, no redirects followed, no caching, bounded body and
// time. The caller supplies the addresses (resolved through the dns layer).
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <vector>

#include "otls/net/client.hpp"
#include "otls/tls/tls.hpp"

namespace otls::net {

struct https_settings {
  std::vector<tcp::endpoint> endpoints;  // tried in turn (connect_first)
  duration timeout{10'000};              // the whole fetch: connect, handshake, response
  std::size_t body_limit = 64 * 1024;    // RFC 8461 §3.3 suggests 64 KiB
  tls::client_config tls;                // servername = the host; ca_file e.g. --sts-cafile
};

struct https_response {
  unsigned status = 0;
  std::string content_type;             // the Content-Type header as sent, "" when absent
  std::optional<std::string> location;  // a redirect's Location (never followed)
  std::string body;                     // empty unless status == 200 (other bodies go unread)
};

// GET https://HOST/TARGET. Errors: errc::connect_failure / timeout (settings.timeout bounds the
// whole fetch, so a server trickling bytes still times out); tls::errc::* from the handshake or
// verification (the certificate must be trusted and match the host: the caller maps these to
// sts-webpki-invalid); errc::http_failure for a malformed, truncated or oversized response
// (diag.detail says which; diag.peer_text holds the start of a reply that was not HTTP);
// errc::connection_lost for a reset mid-exchange. Any status is a result, not an error.
awaitable<result<https_response>> https_get(std::string host, std::string target,
                                            https_settings settings, diagnostics& diag);

}  // namespace otls::net
