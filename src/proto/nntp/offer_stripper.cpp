// STRIPTLS for NNTP (the attack of RFC 4642's security considerations): each line of a CAPABILITIES
// block is forwarded as it completes, except STARTTLS; dropping one line of a dot-terminated block
// needs no other repair, unlike SMTP's "250-" continuation marks.
#include "otls/proto/nntp/offer_stripper.hpp"

namespace otls::proto::nntp {

std::string offer_stripper::from_server(std::string_view bytes) {
  if (passthrough_) return std::string(bytes);
  lines_.feed(bytes);
  std::string out;
  for (;;) {
    auto next = lines_.next_line();
    if (!next) {  // not NNTP-shaped: stop meddling and pass everything through
      passthrough_ = true;
      return out + lines_.take_leftover();
    }
    if (!*next) return out;
    const std::string& line = **next;
    if (in_capabilities_) {
      if (line == ".") {
        in_capabilities_ = false;
      } else if (iequals(first_word(line), "STARTTLS")) {
        ++removed_;
        continue;
      }
      out += line + "\r\n";
      continue;
    }
    out += line + "\r\n";
    const auto status = parse_status_line(line);
    if (!status) continue;
    in_capabilities_ = status->code == 101;  // RFC 3977 §5.2.2: only CAPABILITIES uses 101
    if (status->code == 382) {
      // The TLS handshake follows the go-ahead: forward it untouched and unbuffered.
      passthrough_ = true;
      return out + lines_.take_leftover();
    }
  }
}

}  // namespace otls::proto::nntp
