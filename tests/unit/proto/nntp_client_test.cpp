// NNTP client role as transcripts (RFC 3977, RFC 4642), with replies recorded from INN 2.7.1
// (nnrpd and innd), plus a fail-count sweep that injects an error at every step.
#include "otls/proto/nntp/client.hpp"

#include <memory>

#include <gtest/gtest.h>

#include "dialect_harness.hpp"
#include "otls/core/error.hpp"
#include "transcript.hpp"

namespace otls::proto::nntp {
namespace {

using testing::transcript;

// INN 2.7.1's nnrpd, before and after TLS (AUTHINFO USER appears only inside TLS).
constexpr std::string_view inn_greeting =
    "200 news.example InterNetNews NNRP server INN 2.7.1 ready (posting ok)\r\n";
constexpr std::string_view inn_caps =
    "101 Capability list:\r\nVERSION 2\r\nIMPLEMENTATION INN 2.7.1\r\nAUTHINFO SASL\r\n"
    "COMPRESS DEFLATE\r\nHDR\r\nLIST ACTIVE ACTIVE.TIMES COUNTS DISTRIB.PATS DISTRIBUTIONS "
    "HEADERS MODERATORS MOTD NEWSGROUPS OVERVIEW.FMT SUBSCRIPTIONS\r\nOVER\r\nPOST\r\n"
    "READER\r\nSASL SCRAM-SHA-256 CRAM-MD5\r\nSTARTTLS\r\nXPAT\r\n.\r\n";
constexpr std::string_view inn_caps_after_tls =
    "101 Capability list:\r\nVERSION 2\r\nIMPLEMENTATION INN 2.7.1\r\nAUTHINFO USER SASL\r\n"
    "READER\r\nSASL SCRAM-SHA-256 CRAM-MD5 PLAIN LOGIN\r\n.\r\n";
// INN 2.7.1's innd for a peer listed in incoming.conf (transit mode).
constexpr std::string_view innd_greeting =
    "200 news.example InterNetNews server INN 2.7.1 ready (transit mode)\r\n";
constexpr std::string_view innd_caps =
    "101 Capability list:\r\nVERSION 2\r\nIMPLEMENTATION INN 2.7.1\r\nAUTHINFO\r\nIHAVE\r\n"
    "LIST ACTIVE ACTIVE.TIMES MOTD NEWSGROUPS\r\nMODE-READER\r\nSTREAMING\r\n.\r\n";

client_options opts(bool require_tls = true) {
  client_options o;
  o.require_tls = require_tls;
  return o;
}

TEST(NntpClient, FullUpgradeAgainstInn) {
  client c(opts());
  transcript(c)
      .expect_need_more()
      .feed(inn_greeting)
      .expect_write("CAPABILITIES\r\n")
      .expect_need_more()
      .feed(inn_caps)
      .expect_write("STARTTLS\r\n")
      .expect_need_more()
      .feed("382 Begin TLS negotiation now\r\n")
      .expect_start_tls("")
      .tls_established()
      .expect_write("CAPABILITIES\r\n")
      .expect_need_more()
      .feed(inn_caps_after_tls)
      .expect_write("QUIT\r\n")
      .expect_need_more()
      .feed("205 Bye!\r\n")
      .expect_done();
  EXPECT_EQ(c.facts().banner,
            std::vector<std::string>{"news.example InterNetNews NNRP server INN 2.7.1 ready "
                                     "(posting ok)"});
  EXPECT_TRUE(c.facts().starttls_offered);
  EXPECT_TRUE(c.facts().starttls_accepted);
  EXPECT_FALSE(c.facts().ended_in_plaintext);
  ASSERT_EQ(c.facts().capabilities_before_tls.size(), 12u);
  EXPECT_EQ(c.facts().capabilities_before_tls[10], "STARTTLS");
  // Rule 2: the post-TLS list comes from the fresh CAPABILITIES only.
  EXPECT_EQ(c.facts().capabilities_after_tls,
            (std::vector<std::string>{"VERSION 2", "IMPLEMENTATION INN 2.7.1", "AUTHINFO USER SASL",
                                      "READER", "SASL SCRAM-SHA-256 CRAM-MD5 PLAIN LOGIN"}));
  EXPECT_FALSE(c.capabilities().has("STARTTLS"));
  EXPECT_TRUE(c.diag().empty());
}

TEST(NntpClient, Greeting201AndOddCase) {
  client c(opts());
  transcript(c)
      .feed("201 news.example ready (no posting)\n")
      .expect_write("CAPABILITIES\r\n")
      .feed("101 caps\nversion 2\nreader\n  StartTLS  \n.\n")
      .expect_write("STARTTLS\r\n");
  EXPECT_TRUE(c.facts().starttls_offered);
  EXPECT_EQ(c.facts().capabilities_before_tls,
            (std::vector<std::string>{"VERSION 2", "READER", "STARTTLS"}));
}

TEST(NntpClient, ServerClosesAfterQuitIsFine) {
  client c(opts());
  transcript(c)
      .feed(inn_greeting)
      .expect_write("CAPABILITIES\r\n")
      .feed(inn_caps)
      .expect_write("STARTTLS\r\n")
      .feed("382 go\r\n")
      .expect_start_tls()
      .tls_established()
      .expect_write("CAPABILITIES\r\n")
      .feed(inn_caps_after_tls)
      .expect_write("QUIT\r\n")
      .expect_need_more()
      .eof()
      .expect_done();
}

TEST(NntpClient, ResponseInjectionLeavesLeftover) {
  // The driver refuses to handshake when anything follows the go-ahead (rule 1).
  client c(opts());
  transcript(c)
      .feed(inn_greeting)
      .expect_write("CAPABILITIES\r\n")
      .feed(inn_caps)
      .expect_write("STARTTLS\r\n")
      .feed("382 Continue with TLS negotiation\r\n101 Capability list:\r\nVERSION 2\r\n")
      .expect_start_tls("101 Capability list:\r\nVERSION 2\r\n");
}

TEST(NntpClient, PartialInjectionLeavesLeftoverToo) {
  client c(opts());
  transcript(c)
      .feed(inn_greeting)
      .expect_write("CAPABILITIES\r\n")
      .feed(inn_caps)
      .expect_write("STARTTLS\r\n")
      .feed("382 go\r\n2")
      .expect_start_tls("2");
}

TEST(NntpClient, TlsLayerStartsWithAFreshParser) {
  // A half line before the handshake must not be joined with what comes inside TLS.
  client c(opts());
  transcript(c)
      .feed(inn_greeting)
      .expect_write("CAPABILITIES\r\n")
      .feed(inn_caps)
      .expect_write("STARTTLS\r\n")
      .feed("382 go\r\n101 fake")
      .expect_start_tls("101 fake")
      .tls_established()
      .expect_write("CAPABILITIES\r\n")
      .feed("101 real\r\nREADER\r\n.\r\n")
      .expect_write("QUIT\r\n");
  EXPECT_EQ(c.facts().capabilities_after_tls, std::vector<std::string>{"READER"});
}

TEST(NntpClient, Greeting400And502AreServiceUnavailable) {
  for (std::string_view greeting :
       {"400 NNTP server unavailable.  Try later!\r\n", "502 You have no permission to talk\r\n"}) {
    client c(opts());
    transcript(c).feed(greeting).expect_fail(errc::service_unavailable);
    EXPECT_EQ(c.diag().peer_text.front().substr(0, 3), greeting.substr(0, 3));
    EXPECT_EQ(c.facts().banner.size(), 1u);
    transcript(c).expect_fail(errc::service_unavailable);  // stays failed
  }
}

TEST(NntpClient, OtherGreetingIsUnexpected) {
  client c(opts());
  transcript(c).feed("205 bye\r\n").expect_fail(errc::unexpected_reply);
}

TEST(NntpClient, NoStarttlsWhenRequiredFails) {
  client c(opts(true));
  transcript(c)
      .feed(inn_greeting)
      .expect_write("CAPABILITIES\r\n")
      .feed("101 caps\r\nVERSION 2\r\nREADER\r\n.\r\n")
      .expect_write("QUIT\r\n")
      .feed("205 bye\r\n")
      .expect_fail(errc::starttls_not_supported);
  EXPECT_FALSE(c.facts().starttls_offered);
  EXPECT_FALSE(c.facts().ended_in_plaintext);
  EXPECT_NE(c.diag().detail.find("CAPABILITIES"), std::string::npos);
}

TEST(NntpClient, NoStarttlsAtMayContinuesInPlaintext) {
  client c(opts(false));
  transcript(c)
      .feed(inn_greeting)
      .expect_write("CAPABILITIES\r\n")
      .feed("101 caps\r\nVERSION 2\r\nREADER\r\n.\r\n")
      .expect_write("QUIT\r\n")
      .feed("205 bye\r\n")
      .expect_done();
  EXPECT_TRUE(c.facts().ended_in_plaintext);
  EXPECT_FALSE(c.facts().starttls_offered);
}

class NntpStarttlsRefusal : public ::testing::TestWithParam<const char*> {};

TEST_P(NntpStarttlsRefusal, IsStarttlsRejectedWithPeerText) {
  client c(opts());
  transcript(c)
      .feed(inn_greeting)
      .expect_write("CAPABILITIES\r\n")
      .feed(inn_caps)
      .expect_write("STARTTLS\r\n")
      .feed(GetParam())
      .expect_write("QUIT\r\n")
      .eof()
      .expect_fail(errc::starttls_rejected);
  EXPECT_FALSE(c.facts().starttls_accepted);
  ASSERT_FALSE(c.diag().peer_text.empty());
  const std::string sent = GetParam();
  EXPECT_EQ(c.diag().peer_text.front(), sent.substr(0, sent.size() - 2));
}

INSTANTIATE_TEST_SUITE_P(
    NntpReplies, NntpStarttlsRefusal,
    ::testing::Values("580 Error initializing TLS\r\n", "580 Can not initiate TLS negotiation\r\n",
                      "502 Command unavailable\r\n", "483 Encryption required\r\n", "500 What?\r\n",
                      "501 Syntax error\r\n", "480 Authentication required\r\n", "401 COMPRESS\r\n",
                      "200 sure\r\n"));

TEST(NntpClient, RefusalAtMayContinuesInPlaintext) {
  client c(opts(false));
  transcript(c)
      .feed(inn_greeting)
      .expect_write("CAPABILITIES\r\n")
      .feed(inn_caps)
      .expect_write("STARTTLS\r\n")
      .feed("580 Error initializing TLS\r\n")
      .expect_write("QUIT\r\n")
      .feed("205 Bye!\r\n")
      .expect_done();
  EXPECT_TRUE(c.facts().starttls_offered);
  EXPECT_FALSE(c.facts().starttls_accepted);
  EXPECT_TRUE(c.facts().ended_in_plaintext);
  EXPECT_EQ(c.diag().peer_text, std::vector<std::string>{"580 Error initializing TLS"});
}

TEST(NntpClient, Status400ClosesEverywhere) {
  {
    client c(opts(false));
    transcript(c)
        .feed(inn_greeting)
        .expect_write("CAPABILITIES\r\n")
        .feed("400 shutting down\r\n")
        .expect_fail(errc::service_unavailable);
  }
  {
    client c(opts(false));
    transcript(c)
        .feed(inn_greeting)
        .expect_write("CAPABILITIES\r\n")
        .feed(inn_caps)
        .expect_write("STARTTLS\r\n")
        .feed("400 shutting down\r\n")
        .expect_fail(errc::service_unavailable);
  }
}

// RFC 3977 §5.3 mode switching, as INN's innd does for peers in incoming.conf.
TEST(NntpClient, TransitModeSwitchesToReaderThenUpgrades) {
  client c(opts());
  transcript(c)
      .feed(innd_greeting)
      .expect_write("CAPABILITIES\r\n")
      .feed(innd_caps)
      .expect_write("MODE READER\r\n")
      .expect_need_more()
      .feed(inn_greeting)  // innd hands the connection to nnrpd, which greets again
      .expect_write("CAPABILITIES\r\n")
      .feed(inn_caps)
      .expect_write("STARTTLS\r\n")
      .feed("382 Begin TLS negotiation now\r\n")
      .expect_start_tls("")
      .tls_established()
      .expect_write("CAPABILITIES\r\n")
      .feed(inn_caps_after_tls)
      .expect_write("QUIT\r\n");
  EXPECT_TRUE(c.switched_to_reader());
  EXPECT_TRUE(c.facts().starttls_offered);
  // The list the decision was made on: the reader mode's.
  EXPECT_TRUE(std::count(c.facts().capabilities_before_tls.begin(),
                         c.facts().capabilities_before_tls.end(), "STARTTLS") == 1);
  EXPECT_EQ(c.facts().banner.front(),
            "news.example InterNetNews server INN 2.7.1 ready (transit mode)");
}

TEST(NntpClient, ModeReaderOnlyOnce) {
  // A server that still lists MODE-READER after switching is not switched again.
  client c(opts());
  transcript(c)
      .feed(innd_greeting)
      .expect_write("CAPABILITIES\r\n")
      .feed(innd_caps)
      .expect_write("MODE READER\r\n")
      .feed("200 reader\r\n")
      .expect_write("CAPABILITIES\r\n")
      .feed(innd_caps)
      .expect_write("QUIT\r\n")
      .feed("205 bye\r\n")
      .expect_fail(errc::starttls_not_supported);
}

TEST(NntpClient, ReaderListedMeansNoModeSwitch) {
  client c(opts());
  transcript(c)
      .feed(inn_greeting)
      .expect_write("CAPABILITIES\r\n")
      .feed("101 caps\r\nVERSION 2\r\nREADER\r\nMODE-READER\r\n.\r\n")
      .expect_write("QUIT\r\n");
  EXPECT_FALSE(c.switched_to_reader());
}

TEST(NntpClient, StarttlsInTransitModeIsUsedDirectly) {
  client c(opts());
  transcript(c)
      .feed(innd_greeting)
      .expect_write("CAPABILITIES\r\n")
      .feed("101 caps\r\nVERSION 2\r\nIHAVE\r\nMODE-READER\r\nSTARTTLS\r\n.\r\n")
      .expect_write("STARTTLS\r\n");
  EXPECT_FALSE(c.switched_to_reader());
}

TEST(NntpClient, ModeReaderRefusedIsNotSupported) {
  client c(opts());
  transcript(c)
      .feed(innd_greeting)
      .expect_write("CAPABILITIES\r\n")
      .feed(innd_caps)
      .expect_write("MODE READER\r\n")
      .feed("502 Permission denied\r\n")
      .expect_write("QUIT\r\n")
      .feed("205 bye\r\n")
      .expect_fail(errc::starttls_not_supported);
  EXPECT_EQ(c.diag().peer_text, std::vector<std::string>{"502 Permission denied"});
}

TEST(NntpClient, ModeReaderRefusedAtMayWarns) {
  client c(opts(false));
  transcript(c)
      .feed(innd_greeting)
      .expect_write("CAPABILITIES\r\n")
      .feed(innd_caps)
      .expect_write("MODE READER\r\n")
      .feed("502 Permission denied\r\n")
      .expect_write("QUIT\r\n")
      .feed("205 bye\r\n")
      .expect_done();
  EXPECT_TRUE(c.facts().ended_in_plaintext);
  ASSERT_EQ(c.facts().warnings.size(), 1u);
  EXPECT_NE(c.facts().warnings[0].find("MODE READER"), std::string::npos);
}

TEST(NntpClient, Wrong401ModeSwitchesThenRetries) {
  // innd answers STARTTLS with "401 MODE-READER" (RFC 3977 §3.2.1), e.g. when its list offered
  // STARTTLS in transit mode or was not asked.
  client c(opts());
  transcript(c)
      .feed(innd_greeting)
      .expect_write("CAPABILITIES\r\n")
      .feed("101 caps\r\nVERSION 2\r\nIHAVE\r\nMODE-READER\r\nSTARTTLS\r\n.\r\n")
      .expect_write("STARTTLS\r\n")
      .feed("401 MODE-READER\r\n")
      .expect_write("MODE READER\r\n")
      .feed(inn_greeting)
      .expect_write("CAPABILITIES\r\n")
      .feed(inn_caps)
      .expect_write("STARTTLS\r\n")
      .feed("401 MODE-READER\r\n")  // never a second switch
      .expect_write("QUIT\r\n")
      .eof()
      .expect_fail(errc::starttls_rejected);
}

// Servers older than RFC 3977 (openssl#7722): no CAPABILITIES, STARTTLS still works.
TEST(NntpClient, LegacyServerWithoutCapabilitiesStillUpgrades) {
  client c(opts());
  transcript(c)
      .feed("200 old.example news server ready\r\n")
      .expect_write("CAPABILITIES\r\n")
      .feed("500 What?\r\n")
      .expect_write("STARTTLS\r\n")
      .feed("382 Continue with TLS negotiation\r\n")
      .expect_start_tls("")
      .tls_established()
      .expect_write("CAPABILITIES\r\n")
      .feed("500 What?\r\n")  // fine: nothing to record
      .expect_write("QUIT\r\n")
      .feed("205 bye\r\n")
      .expect_done();
  EXPECT_FALSE(c.facts().starttls_offered);
  EXPECT_TRUE(c.facts().starttls_accepted);
  EXPECT_TRUE(c.facts().capabilities_before_tls.empty());
  EXPECT_TRUE(c.facts().capabilities_after_tls.empty());
}

class LegacyStarttlsMissing : public ::testing::TestWithParam<const char*> {};

TEST_P(LegacyStarttlsMissing, IsNotSupportedRatherThanRejected) {
  client c(opts());
  transcript(c)
      .feed("201 old.example ready\r\n")
      .expect_write("CAPABILITIES\r\n")
      .feed("501 command not supported\r\n")
      .expect_write("STARTTLS\r\n")
      .feed(GetParam())
      .expect_write("QUIT\r\n")
      .feed("205 bye\r\n")
      .expect_fail(errc::starttls_not_supported);
  EXPECT_EQ(c.diag().peer_text.front().substr(0, 3), std::string(GetParam()).substr(0, 3));
}

INSTANTIATE_TEST_SUITE_P(NntpReplies, LegacyStarttlsMissing,
                         ::testing::Values("500 What?\r\n", "501 unknown\r\n",
                                           "502 not implemented\r\n"));

TEST(NntpClient, LegacyStarttls580IsRejected) {
  client c(opts());
  transcript(c)
      .feed("200 old\r\n")
      .expect_write("CAPABILITIES\r\n")
      .feed("500 What?\r\n")
      .expect_write("STARTTLS\r\n")
      .feed("580 no TLS now\r\n")
      .expect_write("QUIT\r\n")
      .eof()
      .expect_fail(errc::starttls_rejected);
}

TEST(NntpClient, LegacyAtMayContinuesInPlaintextWithWarning) {
  client c(opts(false));
  transcript(c)
      .feed("200 old\r\n")
      .expect_write("CAPABILITIES\r\n")
      .feed("500 What?\r\n")
      .expect_write("STARTTLS\r\n")
      .feed("500 What?\r\n")
      .expect_write("QUIT\r\n")
      .feed("205 bye\r\n")
      .expect_done();
  EXPECT_TRUE(c.facts().ended_in_plaintext);
  ASSERT_EQ(c.facts().warnings.size(), 1u);
  EXPECT_NE(c.facts().warnings[0].find("500 What?"), std::string::npos);
}

TEST(NntpClient, CapabilitiesRejectedOtherwiseIsUnexpected) {
  client c(opts());
  transcript(c)
      .feed(inn_greeting)
      .expect_write("CAPABILITIES\r\n")
      .feed("502 Permission denied\r\n")
      .expect_write("QUIT\r\n")
      .feed("205 bye\r\n")
      .expect_fail(errc::unexpected_reply);
}

TEST(NntpClient, AuthenticationRequiredForCapabilitiesStillTriesStarttls) {
  // A Usenet provider answering CAPABILITIES with 480 (RFC 3977 wants it always available).
  client c(opts());
  transcript(c)
      .feed("201 usenet.example NNRP Service Ready (no posting)\r\n")
      .expect_write("CAPABILITIES\r\n")
      .feed("480 Authentication required for command\r\n")
      .expect_write("STARTTLS\r\n")
      .feed("480 Authentication required for command\r\n")
      .expect_write("QUIT\r\n")
      .eof()
      .expect_fail(errc::starttls_rejected);
  EXPECT_EQ(c.diag().peer_text,
            std::vector<std::string>{"480 Authentication required for command"});
}

TEST(NntpClient, CapabilitiesAfterTlsRejectedIsUnexpected) {
  client c(opts());
  transcript(c)
      .feed(inn_greeting)
      .expect_write("CAPABILITIES\r\n")
      .feed(inn_caps)
      .expect_write("STARTTLS\r\n")
      .feed("382 go\r\n")
      .expect_start_tls()
      .tls_established()
      .expect_write("CAPABILITIES\r\n")
      .feed("502 no\r\n")
      .expect_write("QUIT\r\n")
      .eof()
      .expect_fail(errc::unexpected_reply);
}

TEST(NntpClient, GarbageIsMalformed) {
  client c(opts());
  transcript(c)
      .feed(std::string_view("\x16\x03\x01\x02\x00\r\n", 7))
      .expect_fail(errc::malformed_reply);
}

TEST(NntpClient, GarbageInsideCapabilitiesIsNotMistakenForAStatus) {
  // Block lines are capabilities, whatever they look like; only "." ends them.
  client c(opts());
  transcript(c)
      .feed(inn_greeting)
      .expect_write("CAPABILITIES\r\n")
      .feed("101 caps\r\n382 not a status\r\nSTARTTLS\r\n.\r\n")
      .expect_write("STARTTLS\r\n");
}

TEST(NntpClient, OversizedLineFails) {
  client c(opts());
  transcript(c).feed("200 " + std::string(100'000, 'x')).expect_fail(core::errc::line_too_long);
}

TEST(NntpClient, EndlessCapabilitiesFail) {
  client c(opts());
  transcript t(c);
  t.feed(inn_greeting).expect_write("CAPABILITIES\r\n").feed("101 caps\r\n");
  for (std::size_t i = 0; i < max_block_lines; ++i) t.feed("X-CAP\r\n");
  t.feed("X-CAP\r\n").expect_fail(errc::malformed_reply);
}

TEST(NntpClient, CloseMidResponse) {
  client c(opts());
  transcript(c)
      .feed(inn_greeting)
      .expect_write("CAPABILITIES\r\n")
      .feed("101 caps\r\nVERSION 2\r\n")
      .expect_need_more()
      .eof()
      .expect_fail(errc::unexpected_close);
  EXPECT_NE(c.diag().detail.find("middle of a response"), std::string::npos);
}

TEST(NntpClient, CloseBeforeGreeting) {
  client c(opts());
  transcript(c).expect_need_more().eof().expect_fail(errc::unexpected_close);
}

TEST(NntpClient, ImplicitTlsSkipsStarttls) {
  client_options o = opts();
  o.implicit_tls = true;
  client c(o);
  transcript(c)
      .feed(inn_greeting)
      .expect_write("CAPABILITIES\r\n")
      .feed(inn_caps_after_tls)
      .expect_write("QUIT\r\n")
      .feed("205 bye\r\n")
      .expect_done();
  EXPECT_TRUE(c.facts().capabilities_before_tls.empty());
  EXPECT_EQ(c.facts().capabilities_after_tls.size(), 5u);
  EXPECT_FALSE(c.facts().starttls_accepted);
}

TEST(NntpClient, ImplicitTlsLegacyServer) {
  client_options o = opts();
  o.implicit_tls = true;
  client c(o);
  transcript(c)
      .feed("200 old\r\n")
      .expect_write("CAPABILITIES\r\n")
      .feed("500 What?\r\n")
      .expect_write("QUIT\r\n")
      .eof()
      .expect_done();
}

// Fail-count sweep: replace the server's k-th response with an error and require that the
// client ends in `fail` (never `done`, never waiting forever) for every k.
TEST(NntpClient, FailCountSweep) {
  const std::vector<std::string> script{std::string(inn_greeting), std::string(inn_caps),
                                        "382 go\r\n", std::string(inn_caps_after_tls)};
  const std::vector<std::string> faults{"",
                                        "garbage\r\n",
                                        "400 bye\r\n",
                                        "502 no\r\n",
                                        "101 unterminated\r\nVERSION 2\r\n",
                                        std::string(5000, 'x')};
  testing::fail_count_sweep([] { return std::make_unique<client>(opts()); }, script, faults);
}

}  // namespace
}  // namespace otls::proto::nntp
