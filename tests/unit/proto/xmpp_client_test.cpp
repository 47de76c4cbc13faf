// XMPP client role as transcripts (RFC 6120 §4 streams, §5 STARTTLS), using Prosody 0.12's
// real stream headers and features, plus a fail-count sweep that injects a fault at every step.
#include "otls/proto/xmpp/client.hpp"

#include <memory>

#include <gtest/gtest.h>

#include "dialect_harness.hpp"
#include "transcript.hpp"

namespace otls::proto::xmpp {
namespace {

using testing::transcript;

constexpr std::string_view our_header =
    "<?xml version='1.0'?><stream:stream to='xmpp.test' version='1.0' xmlns='jabber:client' "
    "xmlns:stream='http://etherx.jabber.org/streams'>";
constexpr std::string_view our_s2s_header =
    "<?xml version='1.0'?><stream:stream to='xmpp.test' version='1.0' xmlns='jabber:server' "
    "xmlns:stream='http://etherx.jabber.org/streams'>";
constexpr std::string_view starttls_command = "<starttls xmlns='urn:ietf:params:xml:ns:xmpp-tls'/>";

// Prosody 0.12.3 (Debian 12), c2s_require_encryption = true.
constexpr std::string_view prosody_header =
    "<?xml version='1.0'?><stream:stream xmlns='jabber:client' xml:lang='en' "
    "xmlns:stream='http://etherx.jabber.org/streams' id='4c3b3a2e-1f0e' from='xmpp.test' "
    "version='1.0'>";
constexpr std::string_view prosody_features_required =
    "<stream:features><starttls xmlns='urn:ietf:params:xml:ns:xmpp-tls'><required/></starttls>"
    "</stream:features>";
constexpr std::string_view prosody_features_optional =
    "<stream:features><starttls xmlns='urn:ietf:params:xml:ns:xmpp-tls'/><mechanisms "
    "xmlns='urn:ietf:params:xml:ns:xmpp-sasl'><mechanism>SCRAM-SHA-1</mechanism></mechanisms>"
    "</stream:features>";
constexpr std::string_view proceed = "<proceed xmlns='urn:ietf:params:xml:ns:xmpp-tls'/>";
constexpr std::string_view prosody_features_after_tls =
    "<stream:features><mechanisms xmlns='urn:ietf:params:xml:ns:xmpp-sasl'><mechanism>PLAIN"
    "</mechanism><mechanism>SCRAM-SHA-1</mechanism></mechanisms></stream:features>";
constexpr std::string_view host_unknown =
    "<?xml version='1.0'?><stream:stream xmlns:stream='http://etherx.jabber.org/streams' "
    "xmlns='jabber:client' version='1.0'><stream:error><host-unknown "
    "xmlns='urn:ietf:params:xml:ns:xmpp-streams'/><text "
    "xmlns='urn:ietf:params:xml:ns:xmpp-streams'>This server does not serve wrong.test</text>"
    "</stream:error></stream:stream>";

client_options opts(bool require_tls = true) {
  client_options o;
  o.server_name = "xmpp.test";
  o.require_tls = require_tls;
  return o;
}

transcript& to_starttls(transcript& t, std::string_view features = prosody_features_required) {
  return t.expect_write(our_header)
      .expect_need_more()
      .feed(prosody_header)
      .expect_need_more()
      .feed(features)
      .expect_write(starttls_command);
}

TEST(XmppClient, FullUpgradeAgainstProsodyRequired) {
  client c(opts());
  transcript t(c);
  to_starttls(t)
      .expect_need_more()
      .feed(proceed)
      .expect_start_tls("")
      .tls_established()
      .expect_write(our_header)  // a fresh stream (RFC 6120 §5.4.3.3)
      .expect_need_more()
      .feed(prosody_header)
      .feed(prosody_features_after_tls)
      .expect_write("</stream:stream>")
      .expect_need_more()
      .feed("</stream:stream>")
      .expect_done();
  EXPECT_TRUE(c.facts().starttls_offered);
  EXPECT_TRUE(c.facts().starttls_accepted);
  EXPECT_EQ(c.facts().banner,
            std::vector<std::string>{"from=xmpp.test id=4c3b3a2e-1f0e version=1.0"});
  EXPECT_EQ(c.facts().capabilities_before_tls, std::vector<std::string>{"starttls (required)"});
  EXPECT_EQ(c.facts().capabilities_after_tls,
            std::vector<std::string>{"mechanisms: PLAIN SCRAM-SHA-1"});
}

TEST(XmppClient, OptionalStarttlsIsUsedToo) {
  client c(opts());
  transcript t(c);
  to_starttls(t, prosody_features_optional).feed(proceed).expect_start_tls("");
  EXPECT_EQ(c.facts().capabilities_before_tls,
            (std::vector<std::string>{"starttls", "mechanisms: SCRAM-SHA-1"}));
}

TEST(XmppClient, ServerToServerUsesJabberServer) {
  client c(opts(), variant::s2s);
  transcript(c)
      .expect_write(our_s2s_header)
      .feed(
          "<stream:stream xmlns='jabber:server' xmlns:stream='http://etherx.jabber.org/streams'"
          " version='1.0' id='x'><stream:features><starttls "
          "xmlns='urn:ietf:params:xml:ns:xmpp-tls'/><dialback xmlns='urn:xmpp:features:dialback'"
          "/></stream:features>")
      .expect_write(starttls_command)
      .feed(proceed)
      .expect_start_tls("")
      .tls_established()
      .expect_write(our_s2s_header);
  EXPECT_EQ(c.facts().capabilities_before_tls, (std::vector<std::string>{"starttls", "dialback"}));
}

TEST(XmppClient, DomainIsEscapedInTheHeader) {
  client_options o = opts();
  o.server_name = "a'b<c";
  client c(o);
  transcript(c).expect_write_containing("to='a&apos;b&lt;c'");
}

TEST(XmppClient, FeaturesSplitAtEveryByte) {
  client c(opts());
  const std::string all = std::string(prosody_header) + std::string(prosody_features_required);
  transcript t(c);
  t.expect_write(our_header);
  for (std::size_t i = 0; i + 1 < all.size(); ++i) t.feed(all.substr(i, 1)).expect_need_more();
  t.feed(all.substr(all.size() - 1)).expect_write(starttls_command);
}

TEST(XmppClient, FailureIsStarttlsRejected) {
  client c(opts());
  transcript t(c);
  to_starttls(t)
      .feed("<failure xmlns='urn:ietf:params:xml:ns:xmpp-tls'/></stream:stream>")
      .expect_fail(errc::starttls_rejected);
  EXPECT_EQ(c.diag().peer_text,
            std::vector<std::string>{"<failure xmlns='urn:ietf:params:xml:ns:xmpp-tls'/>"});
}

TEST(XmppClient, FailureAtLevelMayEndsInPlaintext) {
  client c(opts(false));
  transcript t(c);
  to_starttls(t).feed("<failure xmlns='urn:ietf:params:xml:ns:xmpp-tls'/>").expect_done();
  EXPECT_TRUE(c.facts().ended_in_plaintext);
  EXPECT_FALSE(c.facts().warnings.empty());
}

TEST(XmppClient, NoStarttlsInFeatures) {
  client c(opts());
  transcript(c)
      .expect_write(our_header)
      .feed(prosody_header)
      .feed(prosody_features_after_tls)
      .expect_write("</stream:stream>")
      .eof()
      .expect_fail(errc::starttls_not_supported);
  EXPECT_FALSE(c.facts().starttls_offered);
  client may(opts(false));
  transcript(may)
      .expect_write(our_header)
      .feed(prosody_header)
      .feed(prosody_features_after_tls)
      .expect_write("</stream:stream>")
      .eof()
      .expect_done();
  EXPECT_TRUE(may.facts().ended_in_plaintext);
}

TEST(XmppClient, HostUnknownIsReportedByNameAtOnce) {
  // gnutls#1507: a client that waits for features after a stream error only times out.
  client c(opts());
  transcript(c).expect_write(our_header).feed(host_unknown).expect_fail(errc::service_unavailable);
  ASSERT_EQ(c.diag().peer_text.size(), 1u);
  EXPECT_EQ(c.diag().peer_text[0],
            "stream:error host-unknown: This server does not serve wrong.test");
  EXPECT_NE(c.diag().detail.find("host-unknown"), std::string::npos);
}

TEST(XmppClient, OtherStreamErrorIsUnexpectedReply) {
  client c(opts());
  transcript(c)
      .expect_write(our_header)
      .feed(prosody_header)
      .feed(
          "<stream:error><invalid-namespace xmlns='urn:ietf:params:xml:ns:xmpp-streams'/>"
          "</stream:error>")
      .expect_fail(errc::unexpected_reply);
  EXPECT_EQ(c.diag().peer_text, std::vector<std::string>{"stream:error invalid-namespace"});
}

TEST(XmppClient, InjectionAfterProceedIsLeftOverByteForByte) {
  // Rule 1: everything behind <proceed/> goes to the driver, which refuses the handshake.
  const std::string injected =
      " <stream:features><mechanisms xmlns='urn:ietf:params:xml:ns:xmpp-sasl'/>"
      "</stream:features>garbage<<";
  client c(opts());
  transcript t(c);
  to_starttls(t).feed(std::string(proceed) + injected).expect_start_tls(injected);
}

TEST(XmppClient, InjectionInALaterReadIsLeftOverToo) {
  client c(opts());
  transcript t(c);
  to_starttls(t).feed("<proceed xmlns='urn:ietf:params:xml:ns:xmpp-tls'").expect_need_more();
  t.feed("/><x/>").expect_start_tls("<x/>");
}

TEST(XmppClient, ProceedWithEndTagAndInjection) {
  client c(opts());
  transcript t(c);
  to_starttls(t)
      .feed("<proceed xmlns='urn:ietf:params:xml:ns:xmpp-tls'></proceed><a")
      .expect_start_tls("<a");
}

TEST(XmppClient, PreTlsFeaturesAreForgotten) {
  client c(opts());
  transcript t(c);
  to_starttls(t).feed(proceed).expect_start_tls().tls_established().expect_write(our_header);
  // After TLS the features below replace nothing from before: the after-TLS list is its own.
  t.feed(prosody_header).feed("<stream:features/>").expect_write("</stream:stream>");
  EXPECT_TRUE(c.facts().capabilities_after_tls.empty());
  EXPECT_EQ(c.facts().capabilities_before_tls, std::vector<std::string>{"starttls (required)"});
}

TEST(XmppClient, ImplicitTlsReadsFeaturesOnce) {
  client_options o = opts();
  o.implicit_tls = true;
  client c(o);
  transcript(c)
      .expect_write(our_header)
      .feed(prosody_header)
      .feed(prosody_features_after_tls)
      .expect_write("</stream:stream>")
      .eof()
      .expect_done();
  EXPECT_EQ(c.facts().capabilities_after_tls,
            std::vector<std::string>{"mechanisms: PLAIN SCRAM-SHA-1"});
  EXPECT_TRUE(c.facts().capabilities_before_tls.empty());
}

TEST(XmppClient, NoVersionMeansNoStarttls) {
  client c(opts());
  transcript(c)
      .expect_write(our_header)
      .feed(
          "<stream:stream xmlns='jabber:client' xmlns:stream='http://etherx.jabber.org/streams'"
          " id='old'>")
      .expect_write("</stream:stream>")
      .eof()
      .expect_fail(errc::starttls_not_supported);
}

TEST(XmppClient, NotAStreamIsMalformed) {
  client c(opts());
  transcript(c)
      .expect_write(our_header)
      .feed("HTTP/1.1 400 Bad Request\r\n\r\n")
      .expect_fail(errc::malformed_reply);
  client d(opts());
  transcript(d).expect_write(our_header).feed("<html>").expect_fail(errc::malformed_reply);
}

TEST(XmppClient, DeepNestingIsRefused) {
  client c(opts());
  std::string deep = std::string(prosody_header) + "<stream:features>";
  for (int i = 0; i < 40; ++i) deep += "<a>";
  transcript(c).expect_write(our_header).feed(deep).expect_fail(errc::malformed_reply);
  EXPECT_NE(c.diag().detail.find("deeper"), std::string::npos) << c.diag().detail;
}

TEST(XmppClient, OversizeFeaturesAreRefused) {
  client c(opts());
  transcript t(c);
  t.expect_write(our_header).feed(prosody_header).feed("<stream:features><x>");
  const std::string chunk(4000, 'y');
  bool failed = false;
  for (int i = 0; i < 100 && !failed; ++i) {
    c.feed("<t>" + chunk.substr(0, 1000) + "</t>");
    const auto a = c.next();
    failed = a.what == action::kind::fail;
    if (!failed) {
      EXPECT_EQ(a.what, action::kind::need_more);
    }
  }
  EXPECT_TRUE(failed);
}

TEST(XmppClient, ServerClosingMidStreamIsUnexpectedClose) {
  client c(opts());
  transcript(c)
      .expect_write(our_header)
      .feed(prosody_header)
      .feed("<stream:feat")
      .eof()
      .expect_fail(errc::unexpected_close);
  client d(opts());
  transcript(d)
      .expect_write(our_header)
      .feed(prosody_header)
      .feed("</stream:stream>")
      .expect_fail(errc::unexpected_close);
}

TEST(XmppClient, DoctypeIsRefused) {
  client c(opts());
  transcript(c)
      .expect_write(our_header)
      .feed("<?xml version='1.0'?><!DOCTYPE x [<!ENTITY a 'aaaa'>]><x>&a;</x>")
      .expect_fail(errc::malformed_reply);
}

// Fail-count sweep: replace the server's k-th reply with a fault and require that the client
// ends in `fail` (never `done`, never waiting forever) for every k, at both levels.
TEST(XmppClient, FailCountSweep) {
  const std::vector<std::string> script{
      std::string(prosody_header), std::string(prosody_features_required), std::string(proceed),
      std::string(prosody_header), std::string(prosody_features_after_tls)};
  const std::string failure = "<failure xmlns='urn:ietf:params:xml:ns:xmpp-tls'/>";
  const std::vector<std::string> faults{
      "",
      "garbage\r\n",
      "<partial",
      "</stream:stream>",
      failure,
      "<stream:error><host-unknown xmlns='urn:ietf:params:xml:ns:xmpp-streams'/></stream:error>",
      "<message xmlns='jabber:client'><body>hi</body></message>",
      "\x80\xff"};
  for (bool require_tls : {true, false}) {
    testing::sweep_options o;
    o.label = require_tls ? "(require_tls)" : "(may)";
    o.leftover_ends_session = true;
    if (!require_tls) {
      o.may_complete = [failure](std::size_t k, const std::string& fault) {
        return k == 2 && fault == failure;
      };
    }
    testing::fail_count_sweep([&] { return std::make_unique<client>(opts(require_tls)); }, script,
                              faults, o);
  }
}

}  // namespace
}  // namespace otls::proto::xmpp
