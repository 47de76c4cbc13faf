// libFuzzer target: FTP replies (RFC 959 §4.2), FEAT lists (RFC 2389 §3), EPSV/PASV answers
// (RFC 2428 §3, RFC 959 §4.1.2) and command splitting on arbitrary bytes split at an arbitrary
// point.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "otls/proto/ftp/reply.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  namespace ftp = otls::proto::ftp;
  if (size == 0) return 0;
  // The first byte picks where the rest splits.
  const std::string_view input(reinterpret_cast<const char*>(data) + 1, size - 1);
  const std::size_t split = data[0] % (input.size() + 1);
  ftp::reply_reader reader;
  reader.feed(input.substr(0, split));
  for (int round = 0; round < 2; ++round) {
    for (;;) {
      auto r = reader.next();
      if (!r || !*r) break;
      const auto& rep = **r;
      if (rep.code < 100 || rep.code > 599) std::abort();
      if (rep.lines.empty() || rep.lines.size() > ftp::max_reply_lines) std::abort();
      if (ftp::reply_code(rep.lines.front()) != rep.code) std::abort();
      for (const auto& l : rep.lines)
        if (l.size() > ftp::max_reply_line) std::abort();
      const auto features = ftp::feature_list::from_reply(rep);
      if (features.lines.size() + 2 > rep.lines.size() && !features.lines.empty()) std::abort();
      const bool auth_tls = features.offers_auth_tls();
      if (auth_tls && !features.has("AUTH")) std::abort();
      if (features.has("AUTH") != features.arguments("auth").has_value()) std::abort();
      (void)rep.text();
      (void)rep.as_peer_text();
      (void)ftp::parse_epsv(rep.text());
      (void)ftp::parse_pasv(rep.text());
    }
    reader.feed(input.substr(split));
  }
  (void)reader.take_leftover();
  if (reader.mid_reply()) std::abort();  // take_leftover empties the reader

  if (const auto port = ftp::parse_epsv(input); port && *port == 0) std::abort();
  if (const auto a = ftp::parse_pasv(input)) {
    if (a->port == 0 || a->host.size() < 7 || a->host.size() > 15) std::abort();
  }
  if (const auto cmd = ftp::parse_command(input)) {
    if (cmd->verb.empty() || cmd->verb.size() > 8) std::abort();
    for (char c : cmd->verb)
      if (c < 'A' || c > 'Z') std::abort();
  }
  return 0;
}
