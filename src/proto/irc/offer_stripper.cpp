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

}  // namespace

std::string offer_stripper::from_server(std::string_view bytes) {
  if (passthrough_) return std::string(bytes);
  pending_.append(bytes);
  std::string out;
  std::size_t start = 0;
  for (;;) {
    const std::size_t lf = pending_.find('\n', start);
    if (lf == std::string::npos) break;
    std::string_view line(pending_.data() + start, lf - start);
    const bool cr = !line.empty() && line.back() == '\r';
    if (cr) line.remove_suffix(1);
    // Lines are forwarded byte for byte with their own terminator; only `tls` disappears.
    if (auto stripped = strip_tls(line)) {
      ++removed_;
      out += *stripped + (cr ? "\r\n" : "\n");
    } else {
      out.append(pending_, start, lf + 1 - start);
    }
    start = lf + 1;
  }
  pending_.erase(0, start);
  if (pending_.size() > max_line + 1) {
    passthrough_ = true;
    out += std::exchange(pending_, {});
  }
  return out;
}

}  // namespace otls::proto::irc
