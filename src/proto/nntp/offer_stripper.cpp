// STRIPTLS for NNTP (the attack of RFC 4642's security considerations): each line of a CAPABILITIES
// block is forwarded as it completes, except STARTTLS; dropping one line of a dot-terminated block
// needs no other repair, unlike SMTP's "250-" continuation marks.
#include "otls/proto/nntp/offer_stripper.hpp"

namespace otls::proto::nntp {

line_offer_stripper::then offer_stripper::rewrite(const std::string& line, std::string& out) {
  if (in_capabilities_) {
    if (line == ".") {
      in_capabilities_ = false;
    } else if (iequals(first_word(line), "STARTTLS")) {
      ++removed_;
      return then::read_on;
    }
    out += line + "\r\n";
    return then::read_on;
  }
  out += line + "\r\n";
  const auto status = parse_status_line(line);
  if (!status) return then::read_on;
  in_capabilities_ = status->code == 101;  // RFC 3977 §5.2.2: only CAPABILITIES uses 101
  return status->code == 382 ? then::pass_through : then::read_on;
}

}  // namespace otls::proto::nntp
