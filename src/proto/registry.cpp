// Protocol registry: schemes, default ports (IANA; RFC 8314 for implicit-TLS mail ports) and
// factories. LMTP (RFC 2033) has no assigned port; 24 is the common convention.
#include "otls/proto/registry.hpp"

#include <array>

#include "otls/proto/smtp/client.hpp"
#include "otls/proto/smtp/offer_stripper.hpp"
#include "otls/proto/smtp/server.hpp"

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
