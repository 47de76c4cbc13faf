// Network-layer errors and the one place that maps every layer's errors to outcomes.
#include "otls/net/error.hpp"

#include "otls/proto/dialect.hpp"
#include "otls/tls/tls.hpp"

namespace otls::net {
namespace {

class net_category final : public boost::system::error_category {
 public:
  const char* name() const noexcept override { return "otls.net"; }
  std::string message(int ev) const override {
    switch (static_cast<errc>(ev)) {
      case errc::resolve_failure:
        return "the host name did not resolve";
      case errc::connect_failure:
        return "could not connect to any address";
      case errc::timeout:
        return "timed out";
      case errc::response_injection:
        return "plaintext followed the STARTTLS go-ahead (response injection)";
      case errc::connection_lost:
        return "the connection was lost";
      case errc::http_failure:
        return "the HTTP response was malformed or too large";
      case errc::no_data_channel:
        return "this session cannot open data connections";
      case errc::data_too_large:
        return "the data connection carried more than the limit";
    }
    return "unknown otls.net error";
  }
};

}  // namespace

const boost::system::error_category& category() noexcept {
  static const net_category instance;
  return instance;
}

core::outcome outcome_of(const error_code& ec) noexcept {
  using core::outcome;
  if (!ec) return outcome::ok;
  if (ec.category() == category()) {
    switch (static_cast<errc>(ec.value())) {
      case errc::resolve_failure:
      case errc::connect_failure:
        return outcome::connect_failure;
      case errc::timeout:
        return outcome::timeout;
      case errc::response_injection:
        return outcome::response_injection;
      case errc::connection_lost:
      case errc::http_failure:
      case errc::no_data_channel:
      case errc::data_too_large:
        return outcome::protocol_error;
    }
  }
  if (ec.category() == proto::category()) {
    switch (static_cast<proto::errc>(ec.value())) {
      case proto::errc::starttls_not_supported:
        return outcome::starttls_not_supported;
      case proto::errc::starttls_rejected:
        return outcome::starttls_rejected;
      case proto::errc::service_unavailable:
        return outcome::service_unavailable;
      case proto::errc::preauth_plaintext:
        return outcome::preauth_plaintext;
      case proto::errc::data_protection_refused:
        return outcome::data_protection_refused;
      case proto::errc::login_failed:
        return outcome::login_failed;
      case proto::errc::data_channel_failure:
        return outcome::data_channel_failure;
      default:
        return outcome::protocol_error;
    }
  }
  if (ec.category() == tls::category()) {
    switch (static_cast<tls::errc>(ec.value())) {
      case tls::errc::certificate_host_mismatch:
        return outcome::certificate_host_mismatch;
      case tls::errc::certificate_expired:
        return outcome::certificate_expired;
      case tls::errc::certificate_not_trusted:
        return outcome::certificate_not_trusted;
      case tls::errc::validation_failure:
      case tls::errc::no_peer_certificate:
        return outcome::validation_failure;
      case tls::errc::no_usable_tlsa:
        return outcome::tlsa_invalid;
      default:
        return outcome::handshake_failure;
    }
  }
  return outcome::protocol_error;  // core framing errors and anything unexpected
}

}  // namespace otls::net
