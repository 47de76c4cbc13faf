// Error category of the protocol layer: failures that dialects report with the peer's words.
#include "otls/proto/dialect.hpp"

namespace otls::proto {
namespace {

class proto_category final : public boost::system::error_category {
 public:
  const char* name() const noexcept override { return "otls.proto"; }
  std::string message(int ev) const override {
    switch (static_cast<errc>(ev)) {
      case errc::starttls_not_supported:
        return "the server does not offer STARTTLS";
      case errc::starttls_rejected:
        return "the server refused STARTTLS";
      case errc::service_unavailable:
        return "the server refused service in its greeting";
      case errc::unexpected_reply:
        return "unexpected reply from the peer";
      case errc::malformed_reply:
        return "malformed reply from the peer";
      case errc::unexpected_close:
        return "the peer closed the connection mid-exchange";
      case errc::too_many_errors:
        return "too many protocol errors from the peer";
      case errc::preauth_plaintext:
        return "the server pre-authenticated the session in plaintext (IMAP PREAUTH), so "
               "STARTTLS is impossible";
      case errc::data_protection_refused:
        return "the server refused to protect data connections (PBSZ 0 / PROT P)";
      case errc::login_failed:
        return "the server refused the login";
      case errc::data_channel_failure:
        return "the data connection failed";
    }
    return "unknown otls.proto error";
  }
};

}  // namespace

const boost::system::error_category& category() noexcept {
  static const proto_category instance;
  return instance;
}

}  // namespace otls::proto
