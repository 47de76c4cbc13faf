// STRIPTLS for NNTP: removes the STARTTLS line from CAPABILITIES lists in flight (RFC 3977
// §5.2, RFC 4642 §2.1), keeping the dot-terminated framing valid. Used by the demo lab.
#pragma once

#include <string>

#include "otls/proto/meddler.hpp"
#include "otls/proto/nntp/response.hpp"

namespace otls::proto::nntp {

class offer_stripper final : public line_offer_stripper {
 public:
  offer_stripper() : line_offer_stripper(max_response_line) {}

 private:
  then rewrite(const std::string& line, std::string& out) override;

  bool in_capabilities_ = false;  // inside a 101 data block
};

}  // namespace otls::proto::nntp
