// Interface of a STRIPTLS meddler's rewriting step, used by the demo lab and tests to show
// what an active attacker on the plaintext start can do (RFC 3207 §6, RFC 7672 §1.3).
#pragma once

#include <string>
#include <string_view>

namespace otls::proto {

class offer_stripper {
 public:
  virtual ~offer_stripper() = default;
  // Server-to-client bytes in; what the attacker forwards out (possibly held back for
  // framing until a reply is complete).
  virtual std::string from_server(std::string_view bytes) = 0;
  // How many upgrade offers were removed so far.
  virtual unsigned offers_removed() const = 0;
};

}  // namespace otls::proto
