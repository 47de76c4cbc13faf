// Error category of the core layer: bounded input and target URL errors.
#include "otls/core/error.hpp"

namespace otls::core {
namespace {

class core_category final : public boost::system::error_category {
 public:
  const char* name() const noexcept override { return "otls.core"; }
  std::string message(int ev) const override {
    switch (static_cast<errc>(ev)) {
      case errc::line_too_long:
        return "line exceeds the protocol's length limit";
      case errc::bare_line_feed:
        return "bare LF where the protocol requires CRLF";
      case errc::buffer_limit:
        return "too much unprocessed input buffered";
      case errc::bad_url:
        return "malformed URL: expected scheme://host[:port]";
      case errc::unsupported_scheme:
        return "unsupported URL scheme";
      case errc::bad_host:
        return "invalid host: expected a DNS name, an IPv4 address or [IPv6]";
      case errc::bad_port:
        return "invalid port: expected 1-65535";
      case errc::peer_closed:
        return "the peer closed the connection";
    }
    return "unknown otls.core error";
  }
};

}  // namespace

const boost::system::error_category& category() noexcept {
  static const core_category instance;
  return instance;
}

}  // namespace otls::core
