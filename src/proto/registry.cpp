// Protocol registry: schemes, default ports (IANA; RFC 8314 for implicit-TLS mail ports) and
// factories. LMTP (RFC 2033) has no assigned port; 24 is the common convention. ManageSieve
// (RFC 5804) has no implicit-TLS port. Implicit FTPS on 990 is IANA-registered practice, not an
// RFC.
#include "otls/proto/registry.hpp"

#include <array>

#include "otls/proto/ftp/client.hpp"
#include "otls/proto/ftp/offer_stripper.hpp"
#include "otls/proto/ftp/server.hpp"
#include "otls/proto/http/client.hpp"
#include "otls/proto/http/server.hpp"
#include "otls/proto/imap/client.hpp"
#include "otls/proto/imap/offer_stripper.hpp"
#include "otls/proto/imap/server.hpp"
#include "otls/proto/irc/client.hpp"
#include "otls/proto/irc/offer_stripper.hpp"
#include "otls/proto/irc/server.hpp"
#include "otls/proto/ldap/client.hpp"
#include "otls/proto/ldap/offer_stripper.hpp"
#include "otls/proto/ldap/server.hpp"
#include "otls/proto/mysql/client.hpp"
#include "otls/proto/mysql/offer_stripper.hpp"
#include "otls/proto/mysql/server.hpp"
#include "otls/proto/nntp/client.hpp"
#include "otls/proto/nntp/offer_stripper.hpp"
#include "otls/proto/nntp/server.hpp"
#include "otls/proto/pop3/client.hpp"
#include "otls/proto/pop3/offer_stripper.hpp"
#include "otls/proto/pop3/server.hpp"
#include "otls/proto/postgres/client.hpp"
#include "otls/proto/postgres/offer_stripper.hpp"
#include "otls/proto/postgres/server.hpp"
#include "otls/proto/sieve/client.hpp"
#include "otls/proto/sieve/offer_stripper.hpp"
#include "otls/proto/sieve/server.hpp"
#include "otls/proto/smtp/client.hpp"
#include "otls/proto/smtp/offer_stripper.hpp"
#include "otls/proto/smtp/server.hpp"
#include "otls/proto/xmpp/client.hpp"
#include "otls/proto/xmpp/offer_stripper.hpp"
#include "otls/proto/xmpp/server.hpp"
// -- new dialect includes above this line (one block per protocol)

namespace otls::proto {
namespace {

std::unique_ptr<dialect> smtp_client(const client_options& o) {
  return std::make_unique<smtp::client>(o, smtp::variant::smtp);
}
std::unique_ptr<dialect> lmtp_client(const client_options& o) {
  return std::make_unique<smtp::client>(o, smtp::variant::lmtp);
}
std::unique_ptr<dialect> smtp_server(const server_options& o) {
  return std::make_unique<smtp::server>(o, smtp::variant::smtp);
}
std::unique_ptr<dialect> lmtp_server(const server_options& o) {
  return std::make_unique<smtp::server>(o, smtp::variant::lmtp);
}
std::unique_ptr<offer_stripper> smtp_stripper() {
  return std::make_unique<smtp::offer_stripper>();
}

// Every other dialect takes the options alone; one template makes their factories.
template <class Client>
std::unique_ptr<dialect> make_client(const client_options& o) {
  return std::make_unique<Client>(o);
}
template <class Server>
std::unique_ptr<dialect> make_server(const server_options& o) {
  return std::make_unique<Server>(o);
}
template <class Stripper>
std::unique_ptr<offer_stripper> make_stripper() {
  return std::make_unique<Stripper>();
}

constexpr std::array registry{
    protocol{"smtp", "smtp", 25, false, "SMTP relay with STARTTLS (RFC 5321, RFC 3207)",
             smtp_client, smtp_server, smtp_stripper},
    protocol{"submission", "smtp", 587, false, "mail submission with STARTTLS (RFC 6409)",
             smtp_client, smtp_server, smtp_stripper},
    protocol{"smtps", "smtp", 465, true, "SMTP submission over implicit TLS (RFC 8314)",
             smtp_client, smtp_server, nullptr},
    protocol{"submissions", "smtp", 465, true, "mail submission over implicit TLS (RFC 8314)",
             smtp_client, smtp_server, nullptr},
    protocol{"lmtp", "lmtp", 24, false, "LMTP with STARTTLS (RFC 2033; port 24 by convention)",
             lmtp_client, lmtp_server, smtp_stripper},
    protocol{"imap", "imap", 143, false, "IMAP with STARTTLS (RFC 9051, RFC 2595)",
             make_client<imap::client>, make_server<imap::server>,
             make_stripper<imap::offer_stripper>},
    protocol{"imaps", "imap", 993, true, "IMAP over implicit TLS (RFC 8314)",
             make_client<imap::client>, make_server<imap::server>, nullptr},
    protocol{"pop3", "pop3", 110, false, "POP3 with STLS (RFC 1939, RFC 2449, RFC 2595)",
             make_client<pop3::client>, make_server<pop3::server>,
             make_stripper<pop3::offer_stripper>},
    protocol{"pop3s", "pop3", 995, true, "POP3 over implicit TLS (RFC 8314)",
             make_client<pop3::client>, make_server<pop3::server>, nullptr},
    protocol{"sieve", "sieve", 4190, false, "ManageSieve with STARTTLS (RFC 5804; no implicit TLS)",
             make_client<sieve::client>, make_server<sieve::server>,
             make_stripper<sieve::offer_stripper>},
    protocol{"nntp", "nntp", 119, false, "Netnews with STARTTLS (RFC 3977, RFC 4642)",
             make_client<nntp::client>, make_server<nntp::server>,
             make_stripper<nntp::offer_stripper>},
    protocol{"nntps", "nntp", 563, true, "Netnews over implicit TLS (RFC 4642, RFC 8143)",
             make_client<nntp::client>, make_server<nntp::server>, nullptr},
    protocol{"postgres", "postgres", 5432, false, "PostgreSQL with SSLRequest (protocol 3.0)",
             make_client<postgres::client>, make_server<postgres::server>,
             make_stripper<postgres::offer_stripper>},
    protocol{"mysql", "mysql", 3306, false, "MySQL/MariaDB with the SSLRequest packet",
             make_client<mysql::client>, make_server<mysql::server>,
             make_stripper<mysql::offer_stripper>},
    protocol{"irc", "irc", 6667, false,
             "IRC with STARTTLS (IRCv3 tls extension, deprecated for STS; RFC 2812)",
             make_client<irc::client>, make_server<irc::server>,
             make_stripper<irc::offer_stripper>},
    protocol{"ircs", "irc", 6697, true, "IRC over implicit TLS (RFC 7194)",
             make_client<irc::client>, make_server<irc::server>, nullptr},
    protocol{"xmpp", "xmpp", 5222, false, "XMPP client-to-server with STARTTLS (RFC 6120 §5)",
             make_client<xmpp::client>, make_server<xmpp::server>,
             make_stripper<xmpp::offer_stripper>, "_xmpp-client._tcp"},
    protocol{"xmpp-server", "xmpp", 5269, false,
             "XMPP server-to-server with STARTTLS (RFC 6120 §5)", xmpp::make_s2s_client,
             xmpp::make_s2s_server, make_stripper<xmpp::offer_stripper>, "_xmpp-server._tcp"},
    protocol{"xmpps", "xmpp", 5223, true,
             "XMPP client-to-server over direct TLS (XEP-0368: SRV _xmpps-client, ALPN "
             "xmpp-client; 5223 is the legacy port)",
             make_client<xmpp::client>, make_server<xmpp::server>, nullptr, "_xmpps-client._tcp",
             "xmpp-client"},
    protocol{"ldap", "ldap", 389, false, "LDAP with StartTLS (RFC 4511 §4.14, RFC 4513 §3)",
             make_client<ldap::client>, make_server<ldap::server>,
             make_stripper<ldap::offer_stripper>},
    protocol{"ldaps", "ldap", 636, true, "LDAP over implicit TLS (ldaps, port 636)",
             make_client<ldap::client>, make_server<ldap::server>, nullptr},
    // The scheme always means the RFC 2817 upgrade; there is no stripper (no offer to strip).
    protocol{"http", "http", 80, false, "HTTP Upgrade to TLS (RFC 2817: OPTIONS * and 101)",
             make_client<http::client>, make_server<http::server>, nullptr},
    protocol{"ftp", "ftp", 21, false, "FTP with AUTH TLS, PBSZ 0 and PROT P (RFC 4217)",
             make_client<ftp::client>, make_server<ftp::server>,
             make_stripper<ftp::offer_stripper>},
    protocol{"ftps", "ftp", 990, true, "FTP over implicit TLS (port 990; no RFC, common practice)",
             make_client<ftp::client>, make_server<ftp::server>, nullptr},
    // -- new protocols above this line (one block per protocol)
};

}  // namespace

std::span<const protocol> protocols() noexcept {
  return registry;
}

const protocol* find_protocol(std::string_view scheme) noexcept {
  for (const auto& p : registry)
    if (p.scheme == scheme) return &p;
  return nullptr;
}

std::string target::to_string() const {
  return std::string(proto ? proto->scheme : url.scheme) + "://" + url.host_for_display() + ":" +
         std::to_string(port);
}

result<target> resolve_target(std::string_view text) {
  auto parsed = core::parse_url(text);
  if (!parsed) return parsed.error();
  const protocol* p = find_protocol(parsed->scheme);
  if (!p) return core::errc::unsupported_scheme;
  target t{std::move(*parsed), p, 0};
  t.port = t.url.port.value_or(p->default_port);
  return t;
}

}  // namespace otls::proto
