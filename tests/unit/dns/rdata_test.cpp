// Wire-format decoding of names (RFC 1035 §3.1, §4.1.4) and RDATA (RFC 1035, 3596, 2782,
// 6698): good input, and malformed input that must fail cleanly within bounds.
#include "otls/dns/rdata.hpp"

#include <gtest/gtest.h>

#include <vector>

namespace otls::dns {
namespace {

using bytes = std::vector<std::uint8_t>;

bytes name_wire(std::initializer_list<std::string_view> labels) {
  bytes out;
  for (auto l : labels) {
    out.push_back(static_cast<std::uint8_t>(l.size()));
    out.insert(out.end(), l.begin(), l.end());
  }
  out.push_back(0);
  return out;
}

bytes cat(bytes a, const bytes& b) {
  a.insert(a.end(), b.begin(), b.end());
  return a;
}

result<std::string> name_at(const bytes& msg, std::size_t offset, std::size_t* end = nullptr) {
  auto r = read_name(msg, offset);
  if (end) *end = offset;
  return r;
}

TEST(DnsName, PlainAndRoot) {
  std::size_t end = 0;
  EXPECT_EQ(name_at(name_wire({"mx", "example", "test"}), 0, &end).value(), "mx.example.test.");
  EXPECT_EQ(end, 17u);
  EXPECT_EQ(name_at(bytes{0}, 0).value(), ".");
}

TEST(DnsName, EscapesSpecialOctets) {
  const bytes msg{3, 'a', '.', 0x01, 1, '\\', 0};
  EXPECT_EQ(name_at(msg, 0).value(), "a\\.\\001.\\\\.");
}

TEST(DnsName, FollowsBackwardPointers) {
  // "example.test." at 0, then "mx" + pointer to 0.
  bytes msg = name_wire({"example", "test"});
  const std::size_t second = msg.size();
  msg.insert(msg.end(), {2, 'm', 'x', 0xC0, 0x00});
  std::size_t end = 0;
  EXPECT_EQ(name_at(msg, second, &end).value(), "mx.example.test.");
  EXPECT_EQ(end, msg.size());  // offset ends after the pointer, not after the target
}

TEST(DnsName, RejectsLoopsForwardPointersAndTruncation) {
  EXPECT_EQ(name_at(bytes{0xC0, 0x00}, 0).error(), errc::malformed_rdata);     // self
  EXPECT_EQ(name_at(bytes{0xC0, 0x02, 0}, 0).error(), errc::malformed_rdata);  // forward
  EXPECT_EQ(name_at(bytes{0xC0}, 0).error(), errc::malformed_rdata);           // half pointer
  EXPECT_EQ(name_at(bytes{5, 'a', 'b'}, 0).error(), errc::malformed_rdata);    // short label
  EXPECT_EQ(name_at(bytes{1, 'a'}, 0).error(), errc::malformed_rdata);         // no root
  EXPECT_EQ(name_at(bytes{0x40, 0}, 0).error(), errc::malformed_rdata);        // bad type
  EXPECT_EQ(name_at(bytes{}, 0).error(), errc::malformed_rdata);               // empty
  EXPECT_EQ(name_at(bytes{0}, 1).error(), errc::malformed_rdata);              // past end
}

TEST(DnsName, RejectsNamesLongerThan255Octets) {
  bytes ok;
  for (int i = 0; i < 4; ++i) ok = cat(ok, bytes(1, 62)), ok.insert(ok.end(), 62, 'a');
  ok.push_back(0);  // 4 * 63 + 1 = 253 octets
  EXPECT_TRUE(name_at(ok, 0));
  bytes too_long;
  for (int i = 0; i < 5; ++i)
    too_long = cat(too_long, bytes(1, 63)), too_long.insert(too_long.end(), 63, 'a');
  too_long.push_back(0);
  EXPECT_EQ(name_at(too_long, 0).error(), errc::malformed_rdata);
}

TEST(DnsRdata, Addresses) {
  EXPECT_EQ(parse_a(bytes{192, 0, 2, 1}).value().to_string(), "192.0.2.1");
  bytes v6(16, 0);
  v6[0] = 0x20, v6[1] = 0x01, v6[2] = 0x0d, v6[3] = 0xb8, v6[15] = 1;
  EXPECT_EQ(parse_aaaa(v6).value().to_string(), "2001:db8::1");
  EXPECT_EQ(parse_a(bytes{1, 2, 3}).error(), errc::malformed_rdata);
  EXPECT_EQ(parse_a(bytes{1, 2, 3, 4, 5}).error(), errc::malformed_rdata);
  EXPECT_EQ(parse_aaaa(bytes(15, 0)).error(), errc::malformed_rdata);
}

TEST(DnsRdata, Mx) {
  auto mx = parse_mx(cat({0, 10}, name_wire({"mx", "example", "test"}))).value();
  EXPECT_EQ(mx.preference, 10);
  EXPECT_EQ(mx.exchange, "mx.example.test.");
  // RFC 7505 null MX.
  EXPECT_EQ(parse_mx(bytes{0, 0, 0}).value(), (mx_record{0, "."}));
  EXPECT_EQ(parse_mx(bytes{0, 10}).error(), errc::malformed_rdata);
  EXPECT_EQ(parse_mx(bytes{0, 10, 0, 0}).error(), errc::malformed_rdata);  // trailing byte
  EXPECT_EQ(parse_mx(bytes{0, 10, 3, 'm', 'x'}).error(), errc::malformed_rdata);
}

TEST(DnsRdata, TxtKeepsCharacterStrings) {
  const bytes rdata{7, 'v', '=', 'S', 'T', 'S', 'v', '1', 0, 4, ';', 'i', 'd', '='};
  auto txt = parse_txt(rdata).value();
  ASSERT_EQ(txt.strings.size(), 3u);
  EXPECT_EQ(txt.strings[0], "v=STSv1");
  EXPECT_EQ(txt.strings[1], "");
  EXPECT_EQ(txt.joined(), "v=STSv1;id=");  // RFC 7208 §3.3: no separator
  EXPECT_EQ(parse_txt(bytes{}).error(), errc::malformed_rdata);
  EXPECT_EQ(parse_txt(bytes{3, 'a', 'b'}).error(), errc::malformed_rdata);
  EXPECT_EQ(parse_txt(bytes{1, 'a', 2}).error(), errc::malformed_rdata);
}

TEST(DnsRdata, Tlsa) {
  auto t = parse_tlsa(bytes{3, 1, 1, 0xAB, 0xCD}).value();
  EXPECT_EQ(t, (tlsa_record{3, 1, 1, {0xAB, 0xCD}}));
  // Unknown parameters are kept: policy decides what is unusable (RFC 7672 §3.1.3).
  EXPECT_EQ(parse_tlsa(bytes{255, 9, 9, 0}).value().usage, 255);
  EXPECT_EQ(parse_tlsa(bytes{3, 1, 1}).error(), errc::malformed_rdata);
  EXPECT_EQ(parse_tlsa(bytes{}).error(), errc::malformed_rdata);
}

TEST(DnsRdata, Srv) {
  auto s = parse_srv(cat({0, 1, 0, 2, 0x01, 0x85}, name_wire({"xmpp", "example", "test"}))).value();
  EXPECT_EQ(s, (srv_record{1, 2, 389, "xmpp.example.test."}));
  EXPECT_EQ(parse_srv(bytes{0, 1, 0, 2, 0, 25}).error(), errc::malformed_rdata);
  EXPECT_EQ(parse_srv(bytes{0, 1, 0, 2, 0, 25, 1}).error(), errc::malformed_rdata);
}

TEST(DnsRdata, CnameAndDispatch) {
  EXPECT_EQ(parse_cname(name_wire({"real", "test"})).value().target, "real.test.");
  EXPECT_EQ(parse_cname(bytes{}).error(), errc::malformed_rdata);
  auto r = parse_rdata(rr_type::mx, cat({0, 5}, name_wire({"a", "test"}))).value();
  ASSERT_TRUE(std::holds_alternative<mx_record>(r));
  EXPECT_EQ(std::get<mx_record>(r).exchange, "a.test.");
  EXPECT_FALSE(parse_rdata(rr_type::aaaa, bytes{1, 2, 3, 4}));
}

// A response for www.example.test A: www → alias.example.test (compressed) → A record.
bytes cname_response() {
  bytes m{0x12, 0x34, 0x81, 0x80, 0, 1, 0, 2, 0, 0, 0, 0};
  m = cat(m, name_wire({"www", "example", "test"}));  // at 12; "example" at 16
  m.insert(m.end(), {0, 1, 0, 1});
  // CNAME: owner pointer to 12, target "alias" + pointer to 16.
  m.insert(m.end(),
           {0xC0, 12, 0, 5, 0, 1, 0, 0, 0, 60, 0, 8, 5, 'a', 'l', 'i', 'a', 's', 0xC0, 16});
  const auto alias_at = static_cast<std::uint8_t>(m.size() - 8);
  m.insert(m.end(), {0xC0, alias_at, 0, 1, 0, 1, 0, 0, 0, 60, 0, 4, 192, 0, 2, 7});
  return m;
}

TEST(DnsMessage, CnameChainFollowsCompressedAliases) {
  auto chain = cname_chain(cname_response()).value();
  EXPECT_EQ(chain, (std::vector<std::string>{"www.example.test.", "alias.example.test."}));
}

TEST(DnsMessage, CnameChainRejectsTruncatedMessages) {
  const bytes full = cname_response();
  for (std::size_t n = 0; n < full.size(); ++n) {
    // Every prefix either fails or yields a chain; none may read out of bounds (ASan).
    auto r = cname_chain(bytes(full.begin(), full.begin() + static_cast<long>(n)));
    if (r) {
      EXPECT_FALSE(r->empty());
    }
  }
  EXPECT_EQ(cname_chain(bytes(5, 0)).error(), errc::malformed_rdata);
}

TEST(DnsMessage, CnameLoopIsBounded) {
  // a.test CNAME b.test, b.test CNAME a.test.
  bytes m{0, 0, 0x81, 0x80, 0, 1, 0, 2, 0, 0, 0, 0};
  m = cat(m, name_wire({"a", "test"}));  // at 12, "test" at 14
  m.insert(m.end(), {0, 5, 0, 1});
  m.insert(m.end(), {0xC0, 12, 0, 5, 0, 1, 0, 0, 0, 1, 0, 4, 1, 'b', 0xC0, 14});
  const auto b_at = static_cast<std::uint8_t>(m.size() - 4);
  m.insert(m.end(), {0xC0, b_at, 0, 5, 0, 1, 0, 0, 0, 1, 0, 2, 0xC0, 12});
  auto chain = cname_chain(m).value();
  EXPECT_EQ(chain.size(), 17u);  // qname + 16 hops, then it stops
}

TEST(Rdata, DnskeyNeedsAKey) {
  const bytes rdata{0x01, 0x01, 3, 13, 0xaa, 0xbb};
  const auto key = parse_dnskey(rdata).value();
  EXPECT_EQ(key.flags, 257);
  EXPECT_EQ(key.protocol, 3);
  EXPECT_EQ(key.algorithm, 13);
  EXPECT_EQ(key.public_key, (bytes{0xaa, 0xbb}));
  EXPECT_FALSE(parse_dnskey(bytes{0x01, 0x01, 3, 13}));
  EXPECT_TRUE(std::holds_alternative<dnskey_record>(parse_rdata(rr_type::dnskey, rdata).value()));
}

}  // namespace
}  // namespace otls::dns
