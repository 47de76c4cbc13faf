// The line framing shared by the NNTP and FTP STRIPTLS rewriters (the demo lab's attacker).
#include "otls/proto/meddler.hpp"

namespace otls::proto {

std::string line_offer_stripper::from_server(std::string_view bytes) {
  if (passthrough_) return std::string(bytes);
  lines_.feed(bytes);
  std::string out;
  for (;;) {
    auto next = lines_.next_line();
    if (!next) {  // not shaped like the protocol: stop meddling, pass everything through
      passthrough_ = true;
      return out + lines_.take_leftover();
    }
    if (!*next) return out;
    if (rewrite(**next, out) == then::pass_through) {
      // The TLS handshake follows the go-ahead: forward it untouched and unbuffered.
      passthrough_ = true;
      return out + lines_.take_leftover();
    }
  }
}

}  // namespace otls::proto
