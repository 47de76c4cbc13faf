// STRIPTLS for PostgreSQL: the server's 'S' answer to an SSLRequest is turned into 'N' in flight,
// the downgrade that sslmode=prefer clients accept silently (PostgreSQL docs "SSL Support").
#pragma once

#include <string>

#include "otls/proto/meddler.hpp"

namespace otls::proto::postgres {

class offer_stripper final : public proto::offer_stripper {
 public:
  std::string from_server(std::string_view bytes) override;
  unsigned offers_removed() const override { return removed_; }

 private:
  bool first_byte_seen_ = false;  // only the answer to the SSLRequest is rewritten
  unsigned removed_ = 0;
};

}  // namespace otls::proto::postgres
