// STRIPTLS and forged PREAUTH for IMAP (RFC 9051 §6.2.1, §7.1.4): the attacks that a client
// requiring TLS must detect (starttls-not-supported, preauth-plaintext).
#include "otls/proto/imap/offer_stripper.hpp"

#include <algorithm>
#include <cctype>
#include <utility>

namespace otls::proto::imap {
namespace {

bool is_starttls(std::string_view word) {
  constexpr std::string_view name = "STARTTLS";
  if (word.size() != name.size()) return false;
  for (std::size_t i = 0; i < name.size(); ++i)
    if (std::toupper(static_cast<unsigned char>(word[i])) != name[i]) return false;
  return true;
}

// The words of `list` without STARTTLS, single-spaced; counts what it dropped.
std::string without_starttls(std::string_view list, unsigned& dropped) {
  std::string out;
  while (!list.empty()) {
    const std::size_t end = std::min(list.find(' '), list.size());
    const std::string_view word = list.substr(0, end);
    list.remove_prefix(end < list.size() ? end + 1 : end);
    if (word.empty()) continue;
    if (is_starttls(word)) {
      ++dropped;
      continue;
    }
    out += (out.empty() ? "" : " ") + std::string(word);
  }
  return out;
}

// A frame starts with "*", "+" or a tag: printable ASCII. Anything else is not IMAP.
bool imap_shaped(char first) {
  const auto c = static_cast<unsigned char>(first);
  return c > 0x20 && c < 0x7f;
}

}  // namespace

std::string offer_stripper::rewrite(const frame& f) {
  if (!f.literals.empty()) return f.raw;  // capability data carries no literals
  auto r = parse_response(frame{f.text, {}, {}});
  if (!r) return f.raw;
  const auto caps = capabilities_of(*r);
  if (!caps || !has_capability(*caps, "STARTTLS")) return f.raw;
  const std::string& line = f.text;
  std::string out;
  unsigned dropped = 0;
  if (r->type == response::kind::untagged && r->keyword == "CAPABILITY") {
    // The data is the tail of the line: "* CAPABILITY <list>".
    std::string head = line.substr(0, line.size() - r->text.size());
    const std::string list = without_starttls(r->text, dropped);
    if (list.empty())
      while (!head.empty() && head.back() == ' ') head.pop_back();
    out = head + list;
  } else {
    // "[CAPABILITY ...]" holds a space, so it cannot be part of the tag before it.
    const std::string bracketed = "[" + r->code + "]";
    const std::size_t at = line.find(bracketed);
    if (at == std::string::npos) return f.raw;
    std::string_view code = r->code;
    const std::size_t name_end = std::min(code.find(' '), code.size());
    const std::string list = without_starttls(code.substr(name_end), dropped);
    out = line.substr(0, at) + "[" + std::string(code.substr(0, name_end)) +
          (list.empty() ? "" : " ") + list + "]" + line.substr(at + bracketed.size());
  }
  if (dropped == 0) return f.raw;
  ++removed_;
  const bool crlf = f.raw.size() >= 2 && f.raw[f.raw.size() - 2] == '\r';
  return out + (crlf ? "\r\n" : "\n");
}

std::string offer_stripper::from_server(std::string_view bytes) {
  if (passthrough_) return std::string(bytes);
  // Too much to hold for one response: stop meddling rather than drop bytes.
  if (frames_.buffered() + bytes.size() > response_limits.max_frame + core::line_reader_slack) {
    passthrough_ = true;
    return frames_.take_leftover() + std::string(bytes);
  }
  frames_.feed(bytes);
  std::string out;
  for (;;) {
    const std::string_view pending = frames_.pending();
    const bool frame_start = frames_.partial_text().empty() && !frames_.awaiting_literal();
    if (frame_start && !pending.empty() && !imap_shaped(pending.front())) {
      passthrough_ = true;  // e.g. the server's TLS records after a STARTTLS go-ahead
      return out + frames_.take_leftover();
    }
    auto f = frames_.next();
    if (!f) {
      passthrough_ = true;
      return out + frames_.take_leftover();
    }
    if (!*f) return out;
    out += rewrite(**f);
  }
}

std::string preauth_injector::from_server(std::string_view bytes) {
  if (decided_) return std::string(bytes);
  held_ += bytes;
  // Judge the greeting once its first line, or enough of it, is here.
  constexpr std::size_t enough = 64;
  if (held_.size() < enough && held_.find('\n') == std::string::npos) return {};
  decided_ = true;
  std::size_t i = 0;
  if (held_.empty() || held_[i++] != '*') return std::exchange(held_, {});
  while (i < held_.size() && held_[i] == ' ') ++i;
  const bool ok = i > 1 && i + 2 <= held_.size() &&
                  std::toupper(static_cast<unsigned char>(held_[i])) == 'O' &&
                  std::toupper(static_cast<unsigned char>(held_[i + 1])) == 'K' &&
                  (i + 2 == held_.size() || held_[i + 2] == ' ' || held_[i + 2] == '\r' ||
                   held_[i + 2] == '\n');
  if (!ok) return std::exchange(held_, {});
  ++rewritten_;
  std::string out = held_.substr(0, i) + "PREAUTH" + held_.substr(i + 2);
  held_.clear();
  return out;
}

}  // namespace otls::proto::imap
