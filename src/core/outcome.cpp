// Names of session outcomes (RFC 8460 §4.3 result types where they exist).
#include "otls/core/outcome.hpp"

#include <array>
#include <utility>

namespace otls::core {
namespace {

constexpr std::array<std::pair<outcome, std::string_view>, 27> names{{
    {outcome::ok, "ok"},
    {outcome::starttls_not_supported, "starttls-not-supported"},
    {outcome::starttls_rejected, "starttls-rejected"},
    {outcome::preauth_plaintext, "preauth-plaintext"},
    {outcome::response_injection, "response-injection"},
    {outcome::service_unavailable, "service-unavailable"},
    {outcome::handshake_failure, "handshake-failure"},
    {outcome::certificate_host_mismatch, "certificate-host-mismatch"},
    {outcome::certificate_expired, "certificate-expired"},
    {outcome::certificate_not_trusted, "certificate-not-trusted"},
    {outcome::validation_failure, "validation-failure"},
    {outcome::connect_failure, "connect-failure"},
    {outcome::timeout, "timeout"},
    {outcome::protocol_error, "protocol-error"},
    {outcome::data_protection_refused, "data-protection-refused"},
    {outcome::login_failed, "login-failed"},
    {outcome::data_channel_failure, "data-channel-failure"},
    {outcome::tlsa_invalid, "tlsa-invalid"},
    {outcome::dnssec_invalid, "dnssec-invalid"},
    {outcome::dane_required, "dane-required"},
    {outcome::resolver_cannot_validate, "resolver-cannot-validate"},
    {outcome::dns_failure, "dns-failure"},
    {outcome::no_mail, "no-mail"},
    {outcome::sts_policy_fetch_error, "sts-policy-fetch-error"},
    {outcome::sts_policy_invalid, "sts-policy-invalid"},
    {outcome::sts_webpki_invalid, "sts-webpki-invalid"},
    {outcome::mx_not_in_policy, "mx-not-in-policy"},
}};

}  // namespace

std::string_view to_string(outcome o) noexcept {
  for (const auto& [value, name] : names)
    if (value == o) return name;
  return "unknown";
}

std::optional<outcome> outcome_from_string(std::string_view name) noexcept {
  for (const auto& [value, text] : names)
    if (text == name) return value;
  return std::nullopt;
}

}  // namespace otls::core
