// XMPP server role as transcripts (RFC 6120 §4 streams, §5 STARTTLS), and the client role run
// against it in memory, with and without the STRIPTLS stripper.
#include "otls/proto/xmpp/server.hpp"

#include <regex>

#include <gtest/gtest.h>

#include "dialect_harness.hpp"
#include "otls/proto/xmpp/client.hpp"
#include "otls/proto/xmpp/offer_stripper.hpp"
#include "transcript.hpp"

namespace otls::proto::xmpp {
namespace {

using testing::transcript;

// openssl s_client -starttls xmpp -xmpphost xmpp.test (OpenSSL 3.0).
constexpr std::string_view openssl_header =
    "<stream:stream xmlns:stream='http://etherx.jabber.org/streams' xmlns='jabber:client' "
    "to='xmpp.test' version='1.0'>";
constexpr std::string_view starttls = "<starttls xmlns='urn:ietf:params:xml:ns:xmpp-tls'/>";
constexpr std::string_view proceed = "<proceed xmlns='urn:ietf:params:xml:ns:xmpp-tls'/>";

server_options opts(bool required = false) {
  server_options o;
  o.hostname = "xmpp.test";
  o.starttls_required = required;
  o.max_errors = 3;
  return o;
}

// The header with its random id replaced, for comparison.
std::string without_id(std::string s) {
  return std::regex_replace(s, std::regex("id='[0-9a-f]{32}'"), "id='ID'");
}

std::string write_of(dialect& d) {
  const auto a = d.next();
  EXPECT_EQ(a.what, action::kind::write);
  return a.bytes;
}

TEST(XmppServer, OffersStarttlsThenANewStreamWithoutIt) {
  server s(opts(true));
  transcript t(s);
  t.expect_need_more().feed(openssl_header);
  EXPECT_EQ(without_id(write_of(s)),
            "<?xml version='1.0'?><stream:stream xmlns='jabber:client' "
            "xmlns:stream='http://etherx.jabber.org/streams' id='ID' from='xmpp.test' "
            "version='1.0'><stream:features><starttls "
            "xmlns='urn:ietf:params:xml:ns:xmpp-tls'><required/></starttls></stream:features>");
  t.expect_need_more().feed(starttls).expect_write(proceed).expect_start_tls("").tls_established();
  t.expect_need_more().feed(openssl_header);
  const std::string after = write_of(s);
  EXPECT_EQ(after.find("starttls"), std::string::npos) << after;
  EXPECT_NE(after.find("<mechanism>PLAIN</mechanism>"), std::string::npos) << after;
  t.feed("</stream:stream>").expect_write("</stream:stream>").expect_done();
  EXPECT_TRUE(s.tls_active());
}

TEST(XmppServer, StreamIdsAreFresh) {
  server a(opts()), b(opts());
  a.feed(openssl_header);
  b.feed(openssl_header);
  EXPECT_NE(write_of(a), write_of(b));
}

TEST(XmppServer, PipelinedBytesAfterStarttlsAreLeftOverNotAnswered) {
  server s(opts());
  transcript t(s);
  t.feed(openssl_header);
  write_of(s);
  const std::string pipelined =
      "<auth xmlns='urn:ietf:params:xml:ns:xmpp-sasl' mechanism='PLAIN'>AGEAYg==</auth>";
  t.feed(std::string(starttls) + pipelined)
      .expect_write(proceed)
      .expect_start_tls(pipelined)
      .tls_established()
      .expect_need_more();  // nothing answered inside TLS before the client's new stream
}

TEST(XmppServer, PipelinedBytesInALaterReadAreLeftOverToo) {
  server s(opts());
  transcript t(s);
  t.feed(openssl_header);
  write_of(s);
  t.feed(starttls).expect_write(proceed).feed("<iq/>").expect_start_tls("<iq/>");
}

TEST(XmppServer, FailureWhenTlsIsUnavailable) {
  server_options o = opts();
  o.tls_available = false;
  server s(o);
  transcript t(s);
  t.feed(openssl_header);
  EXPECT_EQ(write_of(s).find("starttls"), std::string::npos);
  t.feed(starttls)
      .expect_write("<failure xmlns='urn:ietf:params:xml:ns:xmpp-tls'/></stream:stream>")
      .expect_done();
}

TEST(XmppServer, RequiredStarttlsRefusesOtherElements) {
  server s(opts(true));
  transcript t(s);
  t.feed(openssl_header);
  write_of(s);
  t.feed("<auth xmlns='urn:ietf:params:xml:ns:xmpp-sasl' mechanism='PLAIN'>AGEAYg==</auth>")
      .expect_write(
          "<stream:error><policy-violation xmlns='urn:ietf:params:xml:ns:xmpp-streams'/>"
          "</stream:error></stream:stream>")
      .expect_fail(errc::unexpected_reply);
}

TEST(XmppServer, AuthFailsAndTooManyErrorsClose) {
  server s(opts());
  transcript t(s);
  t.feed(openssl_header);
  write_of(s);
  const std::string auth = "<auth xmlns='urn:ietf:params:xml:ns:xmpp-sasl' mechanism='PLAIN'/>";
  t.feed(auth)
      .expect_write("<failure xmlns='urn:ietf:params:xml:ns:xmpp-sasl'><not-authorized/></failure>")
      .feed(auth)
      .expect_write_containing("not-authorized")
      .feed(auth)
      .expect_write_containing("policy-violation")
      .expect_fail(errc::too_many_errors);
}

TEST(XmppServer, NotWellFormedGetsAHeaderAndAStreamError) {
  server s(opts());
  transcript t(s);
  t.feed("GET / HTTP/1.1\r\n").expect_write_containing("<not-well-formed");
  EXPECT_EQ(s.next().what, action::kind::fail);
}

TEST(XmppServer, WrongRootIsInvalidNamespace) {
  server s(opts());
  transcript(s)
      .feed("<stream xmlns='jabber:client'>")
      .expect_write_containing("<invalid-namespace")
      .expect_fail(errc::unexpected_reply);
}

TEST(XmppServer, DeepNestingIsRefused) {
  server s(opts());
  transcript t(s);
  t.feed(openssl_header);
  write_of(s);
  std::string deep;
  for (int i = 0; i < 30; ++i) deep += "<a>";
  t.feed(deep).expect_write_containing("<not-well-formed").expect_fail(errc::malformed_reply);
}

TEST(XmppServer, ClientClosingMidElement) {
  server s(opts());
  transcript t(s);
  t.feed(openssl_header);
  write_of(s);
  t.feed("<iq").eof().expect_fail(errc::unexpected_close);
}

TEST(XmppServer, StarttlsInsideTlsIsRefused) {
  server s(opts());
  transcript t(s);
  t.feed(openssl_header);
  write_of(s);
  t.feed(starttls).expect_write(proceed).expect_start_tls().tls_established().feed(openssl_header);
  write_of(s);
  t.feed(starttls).expect_write_containing("<failure").expect_fail(errc::unexpected_reply);
}

TEST(XmppPair, ClientUpgradesAgainstServerBothVariants) {
  for (const variant v : {variant::c2s, variant::s2s}) {
    for (const bool required : {false, true}) {
      client_options co;
      co.server_name = "xmpp.test";
      client c(co, v);
      server s(opts(required), v);
      const auto r = testing::run_pair(c, s);
      EXPECT_EQ(r.client_end, action::kind::done) << r.client_error.message();
      EXPECT_TRUE(r.upgraded);
      EXPECT_EQ(c.facts().capabilities_before_tls.front(),
                required ? "starttls (required)" : "starttls");
      EXPECT_EQ(c.facts().capabilities_after_tls, std::vector<std::string>{"mechanisms: PLAIN"});
    }
  }
}

TEST(XmppPair, StripperIsCaught) {
  offer_stripper stripper;
  testing::expect_stripper_is_caught<client, server>(stripper);
}

TEST(XmppPair, NoOfferHandled) {
  testing::expect_no_offer_handled<client, server>(opts());
}

}  // namespace
}  // namespace otls::proto::xmpp
