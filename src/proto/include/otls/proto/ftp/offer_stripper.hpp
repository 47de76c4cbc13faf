// STRIPTLS for FTP: removes AUTH from FEAT lists in flight (RFC 2389 §3, RFC 4217 §6) and, since
// clients may send AUTH TLS unasked, turns the 234 go-ahead into a refusal. Used by the demo lab.
#pragma once

#include <string>

#include "otls/proto/ftp/reply.hpp"
#include "otls/proto/meddler.hpp"

namespace otls::proto::ftp {

// offers_removed() counts AUTH lines removed from FEAT lists plus go-aheads refused on the
// server's behalf.
class offer_stripper final : public line_offer_stripper {
 public:
  offer_stripper() : line_offer_stripper(max_reply_line) {}

 private:
  then rewrite(const std::string& line, std::string& out) override;

  int open_reply_ = 0;  // the code of the multi-line reply being forwarded, 0 outside one
};

}  // namespace otls::proto::ftp
