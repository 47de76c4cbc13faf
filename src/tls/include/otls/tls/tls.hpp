// The only layer that sees OpenSSL: client/server contexts, PKIX verification with separate
// trust and name checks (RFC 6125 via OpenSSL's X509_check_host/ip), DANE authentication
// through OpenSSL's own support (RFC 6698, 7671; RFC 7672 for SMTP), and session facts.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <boost/asio/ssl/context.hpp>

#include "otls/core/error.hpp"

typedef struct ssl_st SSL;
typedef struct ssl_session_st SSL_SESSION;

namespace otls::tls {

enum class errc {
  handshake_failure = 1,      // TLS did not come up (alert, reset, no shared cipher, ...)
  legacy_tls_only,            // the server speaks only TLS 1.0/1.1 below our --tls-min
  certificate_not_trusted,    // no path to a trust anchor (self-signed, unknown issuer)
  certificate_expired,        // a certificate in the chain has expired
  certificate_host_mismatch,  // chain is trusted but the reference name is not in the cert
  validation_failure,         // any other chain validation error
  no_peer_certificate,        // the server sent no certificate
  bad_ca_file,                // --cafile could not be loaded
  bad_certificate,            // our own certificate or key could not be loaded
  bad_version,                // not one of 1.0, 1.1, 1.2, 1.3
  no_usable_tlsa,             // DANE asked for, but OpenSSL accepted none of the TLSA records
};

const boost::system::error_category& category() noexcept;
inline error_code make_error_code(errc e) noexcept {
  return {static_cast<int>(e), category()};
}

enum class version { tls1_0, tls1_1, tls1_2, tls1_3 };

// "1.0", "1.1", "1.2", "1.3" (also "tls1.2", "TLSv1.2").
result<version> parse_version(std::string_view text);
std::string_view to_string(version v) noexcept;

// A TLSA record as OpenSSL's DANE code takes it (RFC 6698 §2.1; the tls layer does not see
// the dns layer, so it has its own copy of the four fields).
struct tlsa {
  std::uint8_t usage = 0;
  std::uint8_t selector = 0;
  std::uint8_t matching_type = 0;
  std::vector<std::uint8_t> data;
  friend bool operator==(const tlsa&, const tlsa&) = default;
};

// DANE authentication instead of PKIX. Callers pass only records they consider usable: for
// SMTP that excludes PKIX-TA(0) and PKIX-EE(1) (RFC 7672 §3.1.3); other services keep them,
// and OpenSSL then also requires a PKIX-valid chain for those (RFC 6698 §2.1.1).
struct dane_config {
  std::vector<tlsa> records;
  // The names a DANE-TA (or PKIX-*) chain must match, no partial wildcards (RFC 7672 §3.2.2,
  // RFC 7671 §5.2). DANE-EE ignores names (RFC 7672 §3.1.1, RFC 7671 §5.1). The first name
  // is the TLSA base domain, which is also sent as SNI (RFC 7672 §8.1).
  std::vector<std::string> reference_names;
};

struct client_config {
  std::string ca_file;     // empty: the system trust store
  std::string servername;  // SNI and the reference identity; an IP literal is checked against
                           // IP SANs and is never sent as SNI (RFC 6066 §3)
  version min_version = version::tls1_2;  // below 1.2 also drops OpenSSL's security level to 0
  std::optional<dane_config> dane;        // set: the chain is judged by these TLSA records
  // Non-empty: the leaf is judged by these SHA-256 digests (of the certificate or of its
  // SubjectPublicKeyInfo, hex), names and CAs ignored, like Postfix's fingerprint level.
  std::vector<std::string> fingerprints;
  // Non-empty: also judge the chain by PKIX against the trust store and this name, for the
  // report only (MTA-STS's view where DANE decides, RFC 8461 §2).
  std::string pkix_report_name;
  // ALPN protocols offered, in order (RFC 7301), e.g. "xmpp-client" for XEP-0368 direct TLS.
  std::vector<std::string> alpn;
};

struct server_config {
  std::string certificate_chain_pem;  // leaf first, then intermediates
  std::string private_key_pem;
  version min_version = version::tls1_2;
  // ALPN protocols this server speaks: the first the client offers is selected; a client
  // offering none of them gets no ALPN answer rather than an alert (RFC 7301 §3.2 allows both).
  std::vector<std::string> alpn;
};

// Contexts for asio's ssl::stream. Errors carry errc::bad_ca_file / bad_certificate.
result<boost::asio::ssl::context> make_client_context(const client_config& config);
result<boost::asio::ssl::context> make_server_context(const server_config& config);

// Per-connection client set-up before the handshake: SNI (unless an IP literal).
// Verification never aborts the handshake; inspect() reports trust and name separately.
error_code prepare_client(SSL* ssl, const client_config& config);

struct certificate_info {
  std::string subject;  // RFC 2253
  std::string issuer;
  std::vector<std::string> dns_names;     // subjectAltName dNSName
  std::vector<std::string> ip_addresses;  // subjectAltName iPAddress, textual
  std::string not_before;                 // ISO 8601 UTC, e.g. 2026-11-28T15:00:00Z
  std::string not_after;
  std::string key_type;  // "EC", "RSA", "ED25519", ...
  int key_bits = 0;
  std::string signature_algorithm;  // e.g. "ecdsa-with-SHA256"
  std::string sha256_fingerprint;   // lower-case hex, no separators
  std::string spki_sha256;          // SHA-256 of the DER SubjectPublicKeyInfo, hex
};

struct verification {
  bool trusted = false;         // chain verified to a trust anchor (expiry included); under
                                // DANE: a TLSA record matched the chain
  bool hostname_match = false;  // reference name found among the SAN DNS-IDs (never the CN)
  long x509_code = 0;           // OpenSSL X509_V_* code, 0 when trusted
  std::string error;            // OpenSSL's reason, e.g. "certificate has expired"; empty if ok
  bool fingerprint = false;     // judged by client_config::fingerprints
  // DANE only: which of dane_config::records matched, at which chain depth (0 = the leaf).
  bool dane = false;
  int dane_record = -1;
  int dane_depth = -1;
};

struct session_facts {
  std::string version;  // "TLSv1.3"
  std::string cipher;   // "TLS_AES_256_GCM_SHA384"
  std::string group;    // key-exchange group, e.g. "x25519"; empty if unknown
  bool forward_secrecy = false;
  bool resumed = false;                 // an earlier session was resumed (no full handshake)
  std::string alpn;                     // the ALPN protocol the server selected; empty when none
  std::vector<certificate_info> chain;  // as sent by the peer, leaf first
  verification verify;
  std::optional<verification> pkix_report;  // when client_config::pkix_report_name is set
};

// After a completed client handshake: what was negotiated and what the chain proves.
session_facts inspect(SSL* ssl, const client_config& config);

// A finished client handshake's session, to resume on a second connection to the same server
// (FTP's data connection, RFC 4217 §10.2). With TLS 1.3 the resumable session arrives after
// the handshake in a NewSessionTicket, so take it once the connection has read something.
// Null when the connection holds no resumable session.
using session_handle = std::shared_ptr<SSL_SESSION>;
session_handle resumable_session(SSL* ssl);
// Offers `session` in the next client handshake on `ssl` (after prepare_client).
error_code offer_session(SSL* ssl, const session_handle& session);

// The failure a client at a verifying level reports for these facts, or {} when the chain is
// trusted and the name matches. Precedence: expired, not trusted, other, host mismatch.
error_code verification_error(const verification& v);

// Turns a failed handshake's asio error into errc::legacy_tls_only or handshake_failure,
// with OpenSSL's reason appended to detail (e.g. "tlsv1 alert protocol version").
error_code classify_handshake_error(const error_code& asio_error, std::string& detail);

}  // namespace otls::tls

template <>
struct boost::system::is_error_code_enum<otls::tls::errc> : std::true_type {};
