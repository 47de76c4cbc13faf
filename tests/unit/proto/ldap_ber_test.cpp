// The strict BER subset for LDAP (X.690 §8.1-8.3 as restricted by RFC 4511 §5.1) and LDAPMessage
// parsing: definite lengths only, bounded size and depth, minimal integers.
#include "otls/proto/ldap/ber.hpp"

#include <string>

#include <gtest/gtest.h>

#include "otls/proto/dialect.hpp"
#include "otls/proto/ldap/message.hpp"

namespace otls::proto::ldap {
namespace {

using namespace std::string_literals;

TEST(LdapBer, HeaderForms) {
  ber::header h;
  EXPECT_EQ(ber::read_header("\x04\x02hi", h), ber::header_status::complete);
  EXPECT_EQ(h.header_size, 2u);
  EXPECT_EQ(h.content_size, 2u);
  // OpenLDAP's liblber writes 4-octet long-form lengths: accepted though not minimal.
  EXPECT_EQ(ber::read_header("\x30\x84\x00\x00\x00\x01\x05"s, h), ber::header_status::complete);
  EXPECT_EQ(h.header_size, 6u);
  EXPECT_EQ(h.content_size, 1u);
  EXPECT_EQ(ber::read_header("\x30\x81", h), ber::header_status::need_more);
  EXPECT_EQ(ber::read_header("\x30\x05\x02", h), ber::header_status::need_more);
  EXPECT_EQ(ber::read_header("", h), ber::header_status::need_more);
}

TEST(LdapBer, IndefiniteLengthIsRefused) {
  ber::header h;
  EXPECT_EQ(ber::read_header("\x30\x80\x02\x01\x01\x00\x00"s, h), ber::header_status::malformed);
  EXPECT_EQ(ber::read_header("\x30\xff", h), ber::header_status::malformed);
  EXPECT_EQ(ber::read_header("\x30\x85\x00\x00\x00\x00\x01"s, h), ber::header_status::malformed);
  EXPECT_EQ(ber::read_header("\x1f\x01\x00"s, h), ber::header_status::malformed);  // high tag
}

TEST(LdapBer, OversizedLengthIsRefusedBeforeBuffering) {
  ber::header h;
  EXPECT_EQ(ber::read_header("\x30\x84\x7f\xff\xff\xff"s, h), ber::header_status::too_big);
  EXPECT_EQ(ber::read_header("\x30\x83\x01\x00\x01"s, h), ber::header_status::too_big);
  EXPECT_EQ(ber::read_header("\x30\x83\x01\x00\x00"s, h), ber::header_status::need_more);
}

TEST(LdapBer, Integers) {
  auto as_int = [](std::string enc) {
    ber::reader r(enc);
    auto e = r.next();
    return e ? ber::to_int(*e) : result<std::int32_t>(e.error());
  };
  EXPECT_EQ(*as_int(ber::integer(0)), 0);
  EXPECT_EQ(*as_int(ber::integer(127)), 127);
  EXPECT_EQ(*as_int(ber::integer(128)), 128);
  EXPECT_EQ(ber::integer(128), "\x02\x02\x00\x80"s);
  EXPECT_EQ(*as_int(ber::integer(2147483647)), 2147483647);
  EXPECT_FALSE(as_int("\x02\x00"s));                      // empty
  EXPECT_FALSE(as_int("\x02\x02\x00\x01"s));              // not minimal
  EXPECT_FALSE(as_int("\x02\x01\xff"s));                  // negative
  EXPECT_FALSE(as_int("\x02\x05\x00\x80\x00\x00\x00"s));  // too long
}

TEST(LdapBer, LongLengthsRoundTrip) {
  const std::string big(300, 'x');
  const std::string enc = ber::octet_string(big);
  EXPECT_EQ(enc.substr(0, 4), "\x04\x82\x01\x2c"s);
  ber::reader r(enc);
  auto e = r.expect(ber::octet_string_tag);
  ASSERT_TRUE(e);
  EXPECT_EQ(e->content, big);
  EXPECT_TRUE(r.at_end());
}

TEST(LdapBer, ElementsMustFitTheirParent) {
  const std::string short_element = "\x04\x05hi"s;
  ber::reader r(short_element);
  EXPECT_FALSE(r.next());
}

TEST(LdapBer, DepthIsBounded) {
  std::string nested = ber::octet_string("x");
  for (int i = 0; i < 20; ++i) nested = ber::sequence(nested);
  ber::reader r(nested);
  result<ber::reader> inner = r;
  int levels = 0;
  for (;;) {
    auto e = inner->next();
    ASSERT_TRUE(e);
    if (!e->tag.constructed) break;
    inner = inner->enter(*e);
    if (!inner) break;
    ++levels;
  }
  EXPECT_LT(levels, ber::max_depth);
}

TEST(LdapMessage, StartTlsRequestBytes) {
  // RFC 4511 §4.14.1: LDAPMessage { 1, [APPLICATION 23] { [0] "1.3.6.1.4.1.1466.20037" } }
  EXPECT_EQ(encode_starttls_request(1),
            "\x30\x1d\x02\x01\x01\x77\x18\x80\x16"
            "1.3.6.1.4.1.1466.20037"s);
  auto m = parse_message(encode_starttls_request(7));
  ASSERT_TRUE(m);
  EXPECT_EQ(m->id, 7);
  auto req = parse_extended_request(*m);
  ASSERT_TRUE(req);
  EXPECT_EQ(req->name, starttls_oid);
  EXPECT_FALSE(req->value);
}

TEST(LdapMessage, ExtendedResponseRoundTrip) {
  auto m = parse_message(encode_extended_response(2, 52, "try later", starttls_oid));
  ASSERT_TRUE(m);
  EXPECT_TRUE(m->is(op::extended_response));
  auto r = parse_result(*m);
  ASSERT_TRUE(r);
  EXPECT_EQ(r->code, 52);
  EXPECT_EQ(r->diagnostic_message, "try later");
  EXPECT_EQ(r->response_name, std::string(starttls_oid));
  EXPECT_EQ(r->describe(), "unavailable (52): try later");
  EXPECT_EQ(result_code_name(2), "protocolError");
  EXPECT_EQ(result_code_name(4711), "resultCode 4711");
}

TEST(LdapMessage, TrailingBytesInsideTheMessageAreMalformed) {
  std::string m = encode_unbind(3);
  EXPECT_TRUE(parse_message(m));
  std::string bad = ber::sequence(ber::integer(3) + "\x42\x00"s + "\x04\x00"s);
  EXPECT_FALSE(parse_message(bad));
  EXPECT_FALSE(parse_message(ber::sequence(ber::integer(3))));                // no protocolOp
  EXPECT_FALSE(parse_message(ber::sequence(ber::integer(3) + "\x04\x00"s)));  // not [APPLICATION]
}

TEST(LdapMessage, ReaderSplitsPipelinedMessagesAndKeepsTheRest) {
  message_reader r;
  const std::string a = encode_unbind(1), b = encode_starttls_request(2);
  r.feed(a + b.substr(0, 5));
  auto m1 = r.next();
  ASSERT_TRUE(m1 && *m1);
  EXPECT_EQ((*m1)->id, 1);
  auto m2 = r.next();
  ASSERT_TRUE(m2);
  EXPECT_FALSE(*m2);
  EXPECT_EQ(r.take_leftover(), b.substr(0, 5));
}

TEST(LdapMessage, ReaderRefusesOversizedAndIndefinite) {
  message_reader big;
  big.feed("\x30\x84\x00\x01\x00\x01"s);
  EXPECT_EQ(big.next().error(), core::errc::buffer_limit);
  message_reader indefinite;
  indefinite.feed("\x30\x80"s);
  EXPECT_EQ(indefinite.next().error(), errc::malformed_reply);
  message_reader not_a_sequence;
  not_a_sequence.feed("\x04\x01x"s);
  EXPECT_EQ(not_a_sequence.next().error(), errc::malformed_reply);
}

TEST(LdapMessage, SearchEntryRoundTrip) {
  search_entry e{"",
                 {{"supportedExtension", {std::string(starttls_oid), "1.2.3"}},
                  {"supportedSASLMechanisms", {}}}};
  auto m = parse_message(encode_search_entry(5, e));
  ASSERT_TRUE(m);
  auto back = parse_search_entry(*m);
  ASSERT_TRUE(back);
  EXPECT_EQ(back->attributes, e.attributes);
  ASSERT_NE(back->find("SUPPORTEDEXTENSION"), nullptr);
  EXPECT_EQ(back->find("nope"), nullptr);
}

TEST(LdapMessage, RootDseSearchParses) {
  auto m = parse_message(encode_root_dse_search(1, {"supportedExtension"}));
  ASSERT_TRUE(m);
  auto s = parse_search_request(*m);
  ASSERT_TRUE(s);
  EXPECT_EQ(s->base, "");
  EXPECT_EQ(s->scope, 0);
  EXPECT_EQ(s->attributes, std::vector<std::string>{"supportedExtension"});
}

}  // namespace
}  // namespace otls::proto::ldap
