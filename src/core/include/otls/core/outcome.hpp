// Named outcomes of a session, shared by probe, scan, proxy and reports. Names follow
// RFC 8460 §4.3 result types where one exists (starttls-not-supported, validation-failure, ...).
#pragma once

#include <optional>
#include <string_view>

namespace otls::core {

enum class outcome {
  ok,
  starttls_not_supported,     // no upgrade offered (or stripped by a meddler)
  starttls_rejected,          // upgrade command refused (454, 501, 5xx, ...)
  preauth_plaintext,          // IMAP PREAUTH greeting in cleartext: the upgrade is impossible
  response_injection,         // plaintext followed the go-ahead reply
  service_unavailable,        // the server turned us away in its greeting (421, 554)
  handshake_failure,          // TLS did not come up
  certificate_host_mismatch,  // chain trusted, name not in the certificate
  certificate_expired,        // chain contains an expired certificate
  certificate_not_trusted,    // no path to a trust anchor
  validation_failure,         // any other chain validation error
  connect_failure,            // no TCP connection to any address
  timeout,                    // a step did not finish in time
  protocol_error,             // the peer broke the protocol (garbage, oversize, early close)
  // FTP (RFC 4217) beyond the control channel's upgrade.
  data_protection_refused,  // PBSZ 0 / PROT P refused: data connections would be plaintext
  login_failed,             // the server refused the credentials (inside TLS)
  data_channel_failure,     // the data connection, its TLS or the transfer over it failed
  // DNS and DANE (RFC 7672, RFC 8460 §4.3.2): decided before or instead of a connection.
  tlsa_invalid,              // a secure TLSA RRset of which no record is usable
  dnssec_invalid,            // a bogus DNSSEC answer: the host is not tried (temporary)
  dane_required,             // level dane-only and no DNSSEC-validated TLSA records
  resolver_cannot_validate,  // the resolver path strips or breaks DNSSEC: nothing validates
  dns_failure,               // SERVFAIL, timeout or an indeterminate answer (temporary)
  no_mail,                   // the domain accepts no mail: null MX (RFC 7505) or no host
  // MTA-STS (RFC 8461, RFC 8460 §4.3.2).
  sts_policy_fetch_error,  // the policy could not be fetched (HTTP error, redirect, timeout)
  sts_policy_invalid,      // the policy (or its TXT record) is malformed
  sts_webpki_invalid,      // the policy host's certificate failed PKIX validation
  mx_not_in_policy,        // enforce: the MX host matches no "mx" pattern (RFC 8461 §4.1)
};

std::string_view to_string(outcome o) noexcept;
std::optional<outcome> outcome_from_string(std::string_view name) noexcept;

}  // namespace otls::core
