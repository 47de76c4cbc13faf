// The dns layer's error category and the names of its enums (RFC 1035 types, RFC 4035 status).
#include "otls/dns/resolver.hpp"

namespace otls::dns {
namespace {

class dns_category final : public boost::system::error_category {
 public:
  const char* name() const noexcept override { return "otls.dns"; }
  std::string message(int ev) const override {
    switch (static_cast<errc>(ev)) {
      case errc::bad_config:
        return "the DNS resolver address or trust anchor file could not be used; check "
               "--resolver and --trust-anchor";
      case errc::timeout:
        return "the DNS query timed out";
      case errc::resolver_failure:
        return "the DNS resolver library failed";
      case errc::malformed_rdata:
        return "a DNS record was malformed";
      case errc::bad_name:
        return "not a valid DNS name";
    }
    return "unknown otls.dns error";
  }
};

}  // namespace

const boost::system::error_category& category() noexcept {
  static const dns_category instance;
  return instance;
}

const char* to_string(rr_type t) noexcept {
  switch (t) {
    case rr_type::a:
      return "A";
    case rr_type::cname:
      return "CNAME";
    case rr_type::mx:
      return "MX";
    case rr_type::txt:
      return "TXT";
    case rr_type::aaaa:
      return "AAAA";
    case rr_type::srv:
      return "SRV";
    case rr_type::tlsa:
      return "TLSA";
    case rr_type::dnskey:
      return "DNSKEY";
  }
  return "?";
}

const char* to_string(rcode r) noexcept {
  switch (r) {
    case rcode::noerror:
      return "NOERROR";
    case rcode::nxdomain:
      return "NXDOMAIN";
    case rcode::nodata:
      return "NODATA";
    case rcode::servfail:
      return "SERVFAIL";
  }
  return "?";
}

const char* to_string(dnssec_status s) noexcept {
  switch (s) {
    case dnssec_status::secure:
      return "secure";
    case dnssec_status::insecure:
      return "insecure";
    case dnssec_status::bogus:
      return "bogus";
    case dnssec_status::indeterminate:
      return "indeterminate";
  }
  return "?";
}

}  // namespace otls::dns
