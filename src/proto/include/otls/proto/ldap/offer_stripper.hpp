// STRIPTLS for LDAP: removes the StartTLS OID from the root DSE's supportedExtension values in
// flight (RFC 4512 §5.1, RFC 4511 §4.14), re-encoding only the entry it changes.
#pragma once

#include <string>

#include "otls/proto/meddler.hpp"

namespace otls::proto::ldap {

class offer_stripper final : public proto::offer_stripper {
 public:
  std::string from_server(std::string_view bytes) override;
  unsigned offers_removed() const override { return removed_; }

 private:
  std::string pending_;       // an incomplete LDAPMessage, held until it is whole
  bool passthrough_ = false;  // not LDAP-shaped: stop meddling
  unsigned removed_ = 0;
};

}  // namespace otls::proto::ldap
