// STRIPTLS for IRC: removes the `tls` capability from CAP LS replies in flight (IRCv3 tls
// extension, capability negotiation 3.2), keeping every other byte as sent.
#pragma once

#include <string>

#include "otls/proto/meddler.hpp"

namespace otls::proto::irc {

class offer_stripper final : public proto::offer_stripper {
 public:
  std::string from_server(std::string_view bytes) override;
  unsigned offers_removed() const override { return removed_; }

 private:
  std::string pending_;       // an incomplete line, held until its LF arrives
  bool passthrough_ = false;  // not IRC-shaped (a line over the limit): stop meddling
  unsigned removed_ = 0;
};

}  // namespace otls::proto::irc
