// STRIPTLS for XMPP: removes the <starttls .../> element (with its <required/>) from the
// server's stream features in flight (RFC 6120 §5.3.1, §13.8), forwarding every other byte.
#pragma once

#include <string>

#include "otls/proto/meddler.hpp"

namespace otls::proto::xmpp {

class offer_stripper final : public proto::offer_stripper {
 public:
  std::string from_server(std::string_view bytes) override;
  unsigned offers_removed() const override { return removed_; }

 private:
  std::string pending_;       // a possible <starttls ...> not yet complete, held back
  bool passthrough_ = false;  // an element over the limit: stop meddling
  unsigned removed_ = 0;
};

}  // namespace otls::proto::xmpp
