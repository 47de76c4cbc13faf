// STRIPTLS for POP3: removes the STLS line from CAPA responses in flight (RFC 2449 §5, RFC 2595
// §4), keeping the "." terminator and every other byte as sent.
#pragma once

#include <string>

#include "otls/proto/meddler.hpp"

namespace otls::proto::pop3 {

class offer_stripper final : public proto::offer_stripper {
 public:
  std::string from_server(std::string_view bytes) override;
  unsigned offers_removed() const override { return removed_; }

 private:
  std::string pending_;       // an incomplete line, held until its LF arrives
  bool passthrough_ = false;  // not POP3-shaped (a line over the limit): stop meddling
  unsigned removed_ = 0;
};

}  // namespace otls::proto::pop3
