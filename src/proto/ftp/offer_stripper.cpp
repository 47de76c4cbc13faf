// STRIPTLS for FTP (the attack RFC 4217 §15 warns of): each line is forwarded as it completes,
// except AUTH inside a 211 FEAT list. A meddler would also answer the client's AUTH TLS itself;
// seeing only the server's bytes, this one rewrites the 234 go-ahead into a 502 instead, so
// the client believes AUTH is not implemented and the server waits for a handshake that never
// comes.
#include "otls/proto/ftp/offer_stripper.hpp"

namespace otls::proto::ftp {

std::string offer_stripper::from_server(std::string_view bytes) {
  if (passthrough_) return std::string(bytes);
  lines_.feed(bytes);
  std::string out;
  for (;;) {
    auto next = lines_.next_line();
    if (!next) {  // not FTP-shaped: stop meddling and pass everything through
      passthrough_ = true;
      return out + lines_.take_leftover();
    }
    if (!*next) return out;
    const std::string& text = **next;
    const auto code = reply_code(text);
    if (open_reply_ != 0) {
      if (code && *code == open_reply_ && (text.size() == 3 || text[3] == ' ')) {
        open_reply_ = 0;
      } else if (open_reply_ == 211 && core::iequals(core::first_word(text), "AUTH")) {
        ++removed_;
        continue;
      }
      out += text + "\r\n";
      continue;
    }
    if (code && *code == 234) {
      ++removed_;
      out += "502 Command not implemented\r\n";
      continue;
    }
    if (code && text.size() > 3 && text[3] == '-') open_reply_ = *code;
    out += text + "\r\n";
  }
}

}  // namespace otls::proto::ftp
