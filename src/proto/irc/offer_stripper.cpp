// STRIPTLS for IRC: the downgrade an active attacker performs on a plaintext start, the reason
// IRCv3 deprecated STARTTLS in favour of STS and implicit TLS on 6697.
#include "otls/proto/irc/offer_stripper.hpp"

#include <utility>

#include "otls/proto/irc/message.hpp"

namespace otls::proto::irc {
namespace {

// The line (without its terminator) with `tls` taken out of its capability list when it is a
// CAP LS reply offering it; nullopt when there is nothing to strip.
std::optional<std::string> strip_tls(std::string_view line) {
  const auto m = parse_message(line);
  if (!m) return std::nullopt;
  const auto cap = parse_cap_reply(*m);
  if (!cap || cap->subcommand != "LS") return std::nullopt;
  // The list is the last parameter and ends the line: rebuild only that tail.
  const std::size_t at = line.size() - cap->list.size();
  if (line.substr(at) != cap->list) return std::nullopt;
  std::string kept;
  bool removed = false;
  for (const auto& c : parse_capabilities(cap->list)) {
    if (c.name == "tls") {
      removed = true;
      continue;
    }
    kept += (kept.empty() ? "" : " ") + c.as_text();
  }
  if (!removed) return std::nullopt;
  return std::string(line.substr(0, at)) + kept;
}

// ":server 670 nick :STARTTLS successful": the numeric is the second word after a prefix.
bool is_starttls_go_ahead(std::string_view line) {
  if (line.starts_with('@')) line.remove_prefix(std::min(line.size(), line.find(' ') + 1));
  if (line.starts_with(':')) line.remove_prefix(std::min(line.size(), line.find(' ') + 1));
  return line.starts_with("670 ");
}

}  // namespace

std::string offer_stripper::from_server(std::string_view bytes) {
  if (passthrough_) return std::string(bytes);
  pending_.append(bytes);
  std::string out;
  // Lines are forwarded byte for byte with their own terminator; only `tls` disappears.
  const bool line_shaped = for_each_complete_line(pending_, max_line, [&](std::string_view line) {
    const std::size_t terminator = line.size() >= 2 && line[line.size() - 2] == '\r' ? 2 : 1;
    if (auto stripped = strip_tls(line.substr(0, line.size() - terminator))) {
      ++removed_;
      out += *stripped;
      out += line.substr(line.size() - terminator);
    } else {
      out += line;
    }
    // 670 (RPL_STARTTLS) is the go-ahead: the TLS handshake follows, to pass unbuffered. A
    // client may send STARTTLS without asking CAP first (openssl s_client does).
    return !is_starttls_go_ahead(line);
  });
  if (!line_shaped) {
    passthrough_ = true;
    out += std::exchange(pending_, {});
  }
  return out;
}

}  // namespace otls::proto::irc
