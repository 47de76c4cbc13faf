// STRIPTLS for FTP (the attack RFC 4217 §15 warns of): each line is forwarded as it completes,
// except AUTH inside a 211 FEAT list. A meddler would also answer the client's AUTH TLS itself;
// seeing only the server's bytes, this one rewrites the 234 go-ahead into a 502 instead, so
// the client believes AUTH is not implemented and the server waits for a handshake that never
// comes.
#include "otls/proto/ftp/offer_stripper.hpp"

namespace otls::proto::ftp {

line_offer_stripper::then offer_stripper::rewrite(const std::string& line, std::string& out) {
  const auto code = reply_code(line);
  if (open_reply_ != 0) {
    if (code && *code == open_reply_ && (line.size() == 3 || line[3] == ' ')) {
      open_reply_ = 0;
    } else if (open_reply_ == 211 && core::iequals(core::first_word(line), "AUTH")) {
      ++removed_;
      return then::read_on;
    }
    out += line + "\r\n";
    return then::read_on;
  }
  if (code && *code == 234) {
    // The client must not start TLS: the server waits for a handshake that never comes.
    ++removed_;
    out += "502 Command not implemented\r\n";
    return then::read_on;
  }
  if (code && line.size() > 3 && line[3] == '-') open_reply_ = *code;
  out += line + "\r\n";
  return then::read_on;
}

}  // namespace otls::proto::ftp
