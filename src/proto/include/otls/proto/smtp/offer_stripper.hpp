// STRIPTLS for SMTP: removes the STARTTLS keyword from EHLO replies in flight, fixing up the
// multi-line framing (RFC 5321 §4.2) so the client sees a well-formed reply without it.
#pragma once

#include <string>
#include <vector>

#include "otls/core/line_reader.hpp"
#include "otls/proto/meddler.hpp"
#include "otls/proto/smtp/reply.hpp"

namespace otls::proto::smtp {

class offer_stripper final : public proto::offer_stripper {
 public:
  offer_stripper() : lines_(max_reply_line, core::line_ending::accept_bare_lf) {}

  std::string from_server(std::string_view bytes) override;
  unsigned offers_removed() const override { return removed_; }

 private:
  core::line_reader lines_;
  std::vector<std::string> held_;  // lines of the reply being reassembled
  unsigned removed_ = 0;
};

}  // namespace otls::proto::smtp
