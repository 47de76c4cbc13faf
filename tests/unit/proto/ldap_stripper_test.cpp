// STRIPTLS for LDAP: the StartTLS OID disappears from supportedExtension, everything else is
// forwarded byte for byte, also when split at every byte.
#include "otls/proto/ldap/offer_stripper.hpp"

#include <gtest/gtest.h>

#include "otls/proto/ldap/message.hpp"

namespace otls::proto::ldap {
namespace {

using namespace std::string_literals;

TEST(LdapStripper, RemovesTheOidAtAnySplit) {
  const search_entry with{"", {{"supportedExtension", {std::string(starttls_oid), "1.2.3"}}}};
  const search_entry without{"", {{"supportedExtension", {"1.2.3"}}}};
  const std::string done = encode_result(1, op::search_result_done, 0, "");
  const std::string in = encode_search_entry(1, with) + done;
  const std::string want = encode_search_entry(1, without) + done;
  for (std::size_t split = 0; split <= in.size(); ++split) {
    offer_stripper s;
    std::string out = s.from_server(in.substr(0, split));
    out += s.from_server(in.substr(split));
    EXPECT_EQ(out, want) << split;
    EXPECT_EQ(s.offers_removed(), 1u);
  }
}

TEST(LdapStripper, HandshakeAfterTheStarttlsResponsePassesUnbuffered) {
  // A successful ExtendedResponse is the go-ahead; the TLS bytes behind it are not BER and
  // must not wait in the stripper for a message that never completes.
  offer_stripper s;
  const std::string go_ahead = encode_extended_response(1, result_code::success, "", starttls_oid);
  const std::string hello("\x16\x03\x03\x00\x7a\x02\x00", 7);  // BER: tag 0x16, 3 bytes
  EXPECT_EQ(s.from_server(go_ahead + hello), go_ahead + hello);
  const search_entry with{"", {{"supportedExtension", {std::string(starttls_oid)}}}};
  EXPECT_EQ(s.from_server(encode_search_entry(2, with)), encode_search_entry(2, with));
  EXPECT_EQ(s.offers_removed(), 0u);
}

TEST(LdapStripper, LeavesOtherMessagesAlone) {
  offer_stripper s;
  const std::string in = encode_extended_response(1, 0, "", starttls_oid) + "\x30\x80 junk"s;
  EXPECT_EQ(s.from_server(in), in);
  EXPECT_EQ(s.offers_removed(), 0u);
}

}  // namespace
}  // namespace otls::proto::ldap
