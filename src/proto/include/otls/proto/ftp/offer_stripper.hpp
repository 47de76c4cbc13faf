// STRIPTLS for FTP: removes AUTH from FEAT lists in flight (RFC 2389 §3, RFC 4217 §6) and, since
// clients may send AUTH TLS unasked, turns the 234 go-ahead into a refusal. Used by the demo lab.
#pragma once

#include <string>

#include "otls/core/line_reader.hpp"
#include "otls/proto/ftp/reply.hpp"
#include "otls/proto/meddler.hpp"

namespace otls::proto::ftp {

class offer_stripper final : public proto::offer_stripper {
 public:
  offer_stripper() : lines_(max_reply_line, core::line_ending::accept_bare_lf) {}

  std::string from_server(std::string_view bytes) override;
  // AUTH lines removed from FEAT lists plus go-aheads refused on the server's behalf.
  unsigned offers_removed() const override { return removed_; }

 private:
  core::line_reader lines_;
  int open_reply_ = 0;  // the code of the multi-line reply being forwarded, 0 outside one
  bool passthrough_ = false;
  unsigned removed_ = 0;
};

}  // namespace otls::proto::ftp
