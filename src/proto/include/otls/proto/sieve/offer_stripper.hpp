// STRIPTLS for ManageSieve: removes the "STARTTLS" capability line from capability responses in
// flight (RFC 5804 §1.7), keeping every other byte, so the response stays well-formed.
#pragma once

#include <string>

#include "otls/proto/meddler.hpp"

namespace otls::proto::sieve {

class offer_stripper final : public proto::offer_stripper {
 public:
  std::string from_server(std::string_view bytes) override;
  unsigned offers_removed() const override { return removed_; }

 private:
  std::string pending_;       // an incomplete line, held until its LF arrives
  std::string held_header_;   // a "{8}" line that may introduce STARTTLS as a literal
  bool passthrough_ = false;  // not ManageSieve-shaped (a line over the limit): stop meddling
  unsigned removed_ = 0;
};

}  // namespace otls::proto::sieve
