// STRIPTLS for XMPP: the downgrade an active attacker performs on the plaintext stream, the
// reason clients must insist on TLS (RFC 6120 §5.3.1, §13.8). A bounded textual rewrite of the
// unprefixed form that servers send (<starttls xmlns='...'>): a demo meddler, not a parser.
#include "otls/proto/xmpp/offer_stripper.hpp"

#include <algorithm>
#include <utility>

namespace otls::proto::xmpp {
namespace {

constexpr std::string_view open_tag = "<starttls";
constexpr std::string_view close_tag = "</starttls>";
constexpr std::size_t max_held = 4096;  // a starttls element is ~80 bytes

// Where the element that starts at `from` ends (one past '>'), or npos while incomplete.
std::size_t element_end(const std::string& s, std::size_t from) {
  const std::size_t gt = s.find('>', from);
  if (gt == std::string::npos) return std::string::npos;
  if (s[gt - 1] == '/') return gt + 1;  // <starttls .../>
  const std::size_t close = s.find(close_tag, gt);
  return close == std::string::npos ? std::string::npos : close + close_tag.size();
}

// Length of the longest suffix of `s` that is a proper prefix of "<starttls".
std::size_t partial_open_tag(const std::string& s) {
  for (std::size_t n = std::min(s.size(), open_tag.size() - 1); n > 0; --n)
    if (open_tag.substr(0, n) == std::string_view(s).substr(s.size() - n)) return n;
  return 0;
}

}  // namespace

std::string offer_stripper::from_server(std::string_view bytes) {
  if (passthrough_) return std::string(bytes);
  pending_.append(bytes);
  // <proceed/> is the go-ahead: what follows it is the TLS handshake, to pass unbuffered.
  std::string handshake;
  if (const auto proceed = pending_.find("<proceed"); proceed != std::string::npos) {
    if (const auto gt = pending_.find('>', proceed); gt != std::string::npos) {
      handshake = pending_.substr(gt + 1);
      pending_.resize(gt + 1);
      passthrough_ = true;
    }
  }
  std::string out;
  for (;;) {
    const std::size_t at = pending_.find(open_tag);
    if (at == std::string::npos) {
      const std::size_t keep = partial_open_tag(pending_);
      out.append(pending_, 0, pending_.size() - keep);
      pending_.erase(0, pending_.size() - keep);
      break;
    }
    // "<starttlsx" is another element: forward it.
    if (at + open_tag.size() < pending_.size()) {
      const char after = pending_[at + open_tag.size()];
      if (after != ' ' && after != '>' && after != '/' && after != '\t' && after != '\r' &&
          after != '\n') {
        out.append(pending_, 0, at + open_tag.size());
        pending_.erase(0, at + open_tag.size());
        continue;
      }
    }
    out.append(pending_, 0, at);
    pending_.erase(0, at);
    const std::size_t end = element_end(pending_, open_tag.size());
    if (end == std::string::npos) break;
    pending_.erase(0, end);
    ++removed_;
  }
  if (passthrough_ || pending_.size() > max_held) {
    passthrough_ = true;
    out += std::exchange(pending_, {});
  }
  return out + handshake;
}

}  // namespace otls::proto::xmpp
