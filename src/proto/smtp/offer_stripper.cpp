// STRIPTLS for SMTP: the attack that DANE (RFC 7672) and MTA-STS (RFC 8461) exist to defeat.
#include "otls/proto/smtp/offer_stripper.hpp"

#include <algorithm>
#include <cctype>

namespace otls::proto::smtp {
namespace {

bool offers_starttls(std::string_view line) {
  if (line.size() < 12 || line.substr(0, 3) != "250") return false;
  std::string keyword(line.substr(4, 8));
  std::transform(keyword.begin(), keyword.end(), keyword.begin(),
                 [](unsigned char c) { return static_cast<char>(std::toupper(c)); });
  return keyword == "STARTTLS" && (line.size() == 12 || line[12] == ' ');
}

}  // namespace

std::string offer_stripper::from_server(std::string_view bytes) {
  lines_.feed(bytes);
  std::string out;
  for (;;) {
    auto next = lines_.next_line();
    if (!next) {  // not SMTP-shaped: stop meddling and pass everything through
      for (auto& l : held_) out += l + "\r\n";
      held_.clear();
      return out + lines_.take_leftover();
    }
    if (!*next) return out;
    const std::string& line = **next;
    const bool last = line.size() < 4 || line[3] != '-';
    if (offers_starttls(line)) {
      ++removed_;
      // Removing the final line makes the previous one final: "250-X" becomes "250 X".
      if (last && !held_.empty()) held_.back()[3] = ' ';
    } else {
      held_.push_back(line);
    }
    if (last) {
      for (auto& l : held_) out += l + "\r\n";
      held_.clear();
    }
  }
}

}  // namespace otls::proto::smtp
