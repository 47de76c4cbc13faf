// STRIPTLS for LDAP: the downgrade an active attacker performs on a plaintext start, the reason
// clients must insist on StartTLS (RFC 4513 §3.1.5) or use ldaps on 636.
#include "otls/proto/ldap/offer_stripper.hpp"

#include <algorithm>
#include <utility>

#include "otls/proto/ldap/message.hpp"

namespace otls::proto::ldap {
namespace {

// The message with StartTLS removed from supportedExtension, or nothing when it has no such
// value. The attribute stays, possibly with no values (a PartialAttribute may be empty, RFC
// 4511 §4.1.7), so the client still sees a list that does not offer StartTLS.
std::optional<std::string> without_starttls(const message& m, unsigned& removed) {
  if (!m.is(op::search_result_entry)) return std::nullopt;
  auto e = parse_search_entry(m);
  if (!e) return std::nullopt;
  unsigned here = 0;
  for (auto& [type, values] : e->attributes) {
    if (type.size() != 18 || !std::equal(type.begin(), type.end(), "supportedextension",
                                         [](char a, char b) { return (a | 0x20) == b; }))
      continue;
    const auto before = values.size();
    std::erase(values, std::string(starttls_oid));
    here += static_cast<unsigned>(before - values.size());
  }
  if (here == 0) return std::nullopt;
  removed += here;
  return encode_search_entry(m.id, *e, m.controls);
}

}  // namespace

std::string offer_stripper::from_server(std::string_view bytes) {
  if (passthrough_) return std::string(bytes);
  pending_.append(bytes);
  std::string out;
  for (;;) {
    ber::header h;
    const auto status = ber::read_header(pending_, h);
    if (status == ber::header_status::need_more) break;
    if (status != ber::header_status::complete) {
      passthrough_ = true;
      return out + std::exchange(pending_, {});
    }
    const std::size_t total = h.header_size + h.content_size;
    const std::string_view raw(pending_.data(), total);
    auto m = parse_message(raw);
    std::optional<std::string> changed;
    if (m) changed = without_starttls(*m, removed_);
    out += changed ? *changed : std::string(raw);
    pending_.erase(0, total);
    // A successful ExtendedResponse is the StartTLS go-ahead (the only extended operation a
    // client sends before TLS): the handshake follows, to pass unbuffered.
    if (m && m->is(op::extended_response)) {
      const auto r = parse_result(*m);
      if (r && r->code == result_code::success) {
        passthrough_ = true;
        return out + std::exchange(pending_, {});
      }
    }
  }
  return out;
}

}  // namespace otls::proto::ldap
