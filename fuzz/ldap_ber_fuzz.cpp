// libFuzzer target: the strict BER reader (X.690 §8.1-8.3 as RFC 4511 §5.1 restricts it) and
// LDAPMessage parsing on arbitrary bytes split at an arbitrary point, plus the StartTLS stripper,
// which must be lossless when it removes nothing.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "otls/proto/ldap/ber.hpp"
#include "otls/proto/ldap/message.hpp"
#include "otls/proto/ldap/offer_stripper.hpp"

namespace ldap = otls::proto::ldap;

namespace {

// Walks every element, entering constructed ones up to the reader's depth limit.
void walk(ldap::ber::reader r, int budget) {
  while (!r.at_end() && budget-- > 0) {
    auto e = r.next();
    if (!e) return;
    if (e->raw.size() < e->content.size()) std::abort();
    (void)ldap::ber::to_int(*e);
    (void)ldap::ber::to_bool(*e);
    if (e->tag.constructed) {
      auto inner = r.enter(*e);
      if (inner) walk(*inner, budget);
    }
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view input(reinterpret_cast<const char*>(data), size);
  const std::size_t split = size ? data[0] % (size + 1) : 0;

  walk(ldap::ber::reader(input), 4096);

  ldap::message_reader reader;
  reader.feed(input.substr(0, split));
  for (int round = 0; round < 2; ++round) {
    for (;;) {
      auto m = reader.next();
      if (!m || !*m) break;
      const ldap::message& msg = **m;
      // Whatever parses must re-encode to what was read when built from the same parts.
      (void)ldap::parse_result(msg);
      (void)ldap::parse_extended_request(msg);
      (void)ldap::parse_search_request(msg);
      (void)ldap::parse_bind_request(msg);
      if (auto e = ldap::parse_search_entry(msg)) {
        auto again = ldap::parse_message(ldap::encode_search_entry(msg.id, *e, msg.controls));
        if (!again) std::abort();
        auto e2 = ldap::parse_search_entry(*again);
        if (!e2 || e2->attributes != e->attributes || e2->dn != e->dn) std::abort();
      }
    }
    reader.feed(input.substr(split));
  }
  (void)reader.take_leftover();

  ldap::offer_stripper stripper;
  std::string out = stripper.from_server(input.substr(0, split));
  out += stripper.from_server(input.substr(split));
  if (stripper.offers_removed() == 0 && out != input.substr(0, out.size())) std::abort();
  return 0;
}
