// STRIPTLS for POP3: the downgrade an active attacker performs on a plaintext start, the reason
// clients must insist on STLS (RFC 2595 §4) or use implicit TLS on 995 (RFC 8314 §3.1).
#include "otls/proto/pop3/offer_stripper.hpp"

#include <algorithm>
#include <cctype>
#include <utility>

#include "otls/proto/pop3/response.hpp"

namespace otls::proto::pop3 {
namespace {

// A capability line announcing STLS: "STLS", any case, trailing blanks allowed. Status lines
// start with "+OK" / "-ERR", so they never match.
bool offers_stls(std::string_view line) {
  if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
  while (!line.empty() && (line.back() == ' ' || line.back() == '\t')) line.remove_suffix(1);
  constexpr std::string_view want = "STLS";
  return line.size() == want.size() &&
         std::equal(line.begin(), line.end(), want.begin(), [](char c, char w) {
           return std::toupper(static_cast<unsigned char>(c)) == w;
         });
}

}  // namespace

std::string offer_stripper::from_server(std::string_view bytes) {
  if (passthrough_) return std::string(bytes);
  pending_.append(bytes);
  std::string out;
  // Lines are forwarded byte for byte with their own terminator; only STLS disappears.
  const bool line_shaped = for_each_complete_line(pending_, max_response_line, [&](auto line) {
    if (offers_stls(line.substr(0, line.size() - 1))) {
      ++removed_;
    } else {
      out += line;
    }
    return true;  // POP3's go-ahead is a plain "+OK": the STLS offer is what is stripped
  });
  if (!line_shaped) {
    passthrough_ = true;
    out += std::exchange(pending_, {});
  }
  return out;
}

}  // namespace otls::proto::pop3
