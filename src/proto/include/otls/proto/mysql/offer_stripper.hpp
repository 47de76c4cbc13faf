// STRIPTLS for MySQL/MariaDB: clears CLIENT_SSL in the server's initial handshake packet in
// flight, the downgrade that clients with ssl-mode=PREFERRED accept silently.
#pragma once

#include <string>

#include "otls/proto/meddler.hpp"

namespace otls::proto::mysql {

class offer_stripper final : public proto::offer_stripper {
 public:
  std::string from_server(std::string_view bytes) override;
  unsigned offers_removed() const override { return removed_; }

 private:
  std::string pending_;       // the first packet, held until complete
  bool passthrough_ = false;  // the first packet went by: forward the rest untouched
  unsigned removed_ = 0;
};

}  // namespace otls::proto::mysql
