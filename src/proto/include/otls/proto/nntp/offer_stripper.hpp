// STRIPTLS for NNTP: removes the STARTTLS line from CAPABILITIES lists in flight (RFC 3977
// §5.2, RFC 4642 §2.1), keeping the dot-terminated framing valid. Used by the demo lab.
#pragma once

#include <string>

#include "otls/core/line_reader.hpp"
#include "otls/proto/meddler.hpp"
#include "otls/proto/nntp/response.hpp"

namespace otls::proto::nntp {

class offer_stripper final : public proto::offer_stripper {
 public:
  offer_stripper() : lines_(max_response_line, core::line_ending::accept_bare_lf) {}

  std::string from_server(std::string_view bytes) override;
  unsigned offers_removed() const override { return removed_; }

 private:
  core::line_reader lines_;
  bool in_capabilities_ = false;  // inside a 101 data block
  bool passthrough_ = false;      // after a 382 (TLS follows) or non-NNTP input: hands off
  unsigned removed_ = 0;
};

}  // namespace otls::proto::nntp
