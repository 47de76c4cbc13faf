// IMAP client role as transcripts (RFC 9051, RFC 3501, RFC 2595), including PREAUTH, literals,
// response injection, and a fail-count sweep that injects an error at every step.
#include "otls/proto/imap/client.hpp"

#include <memory>

#include <gtest/gtest.h>

#include "dialect_harness.hpp"
#include "otls/core/error.hpp"
#include "transcript.hpp"

namespace otls::proto::imap {
namespace {

using testing::transcript;

// Dovecot 2.3 (Debian 12), as it answers a client from another address.
constexpr std::string_view dovecot_greeting =
    "* OK [CAPABILITY IMAP4rev1 SASL-IR LOGIN-REFERRALS ID ENABLE IDLE LITERAL+ STARTTLS "
    "LOGINDISABLED] Dovecot (Debian) ready.\r\n";
constexpr std::string_view dovecot_caps_after_tls =
    "* CAPABILITY IMAP4rev1 SASL-IR LOGIN-REFERRALS ID ENABLE IDLE LITERAL+ AUTH=PLAIN\r\n";

client_options opts(bool require_tls = true) {
  client_options o;
  o.client_name = "probe.example";
  o.require_tls = require_tls;
  return o;
}

TEST(ImapClient, DovecotUpgrade) {
  client c(opts());
  transcript(c)
      .expect_need_more()
      .feed(dovecot_greeting)
      .expect_write("a001 STARTTLS\r\n")
      .expect_need_more()
      .feed("a001 OK Begin TLS negotiation now.\r\n")
      .expect_start_tls("")
      .tls_established()
      .expect_write("a002 CAPABILITY\r\n")
      .expect_need_more()
      .feed(dovecot_caps_after_tls)
      .expect_need_more()
      .feed("a002 OK Pre-login capabilities listed, post-login capabilities have more.\r\n")
      .expect_write("a003 LOGOUT\r\n")
      .expect_need_more()
      .feed("* BYE Logging out\r\na003 OK Logout completed.\r\n")
      .expect_done();
  const auto& f = c.facts();
  EXPECT_EQ(f.banner, std::vector<std::string>{"Dovecot (Debian) ready."});
  EXPECT_TRUE(f.starttls_offered);
  EXPECT_TRUE(f.starttls_accepted);
  EXPECT_FALSE(f.ended_in_plaintext);
  EXPECT_EQ(f.capabilities_before_tls,
            (std::vector<std::string>{"IMAP4rev1", "SASL-IR", "LOGIN-REFERRALS", "ID", "ENABLE",
                                      "IDLE", "LITERAL+", "STARTTLS", "LOGINDISABLED"}));
  // Rule 2: the post-TLS list comes from the fresh CAPABILITY only, and it differs.
  EXPECT_EQ(f.capabilities_after_tls,
            (std::vector<std::string>{"IMAP4rev1", "SASL-IR", "LOGIN-REFERRALS", "ID", "ENABLE",
                                      "IDLE", "LITERAL+", "AUTH=PLAIN"}));
  EXPECT_TRUE(f.warnings.empty());
}

TEST(ImapClient, GreetingWithoutCapabilitiesAsksForThem) {
  client c(opts());
  transcript(c)
      .feed("* OK IMAP4rev1 server ready\r\n")
      .expect_write("a001 CAPABILITY\r\n")
      .feed("* CAPABILITY IMAP4rev1 STARTTLS LOGINDISABLED\r\n")
      .expect_need_more()
      .feed("a001 OK done\r\n")
      .expect_write("a002 STARTTLS\r\n")
      .feed("a002 OK go\r\n")
      .expect_start_tls()
      .tls_established()
      .expect_write("a003 CAPABILITY\r\n")
      // Capabilities as a response code of the tagged OK count too.
      .feed("a003 OK [CAPABILITY IMAP4rev1 AUTH=PLAIN] done\r\n")
      .expect_write("a004 LOGOUT\r\n")
      .eof()
      .expect_done();
  EXPECT_EQ(c.facts().banner, std::vector<std::string>{"IMAP4rev1 server ready"});
  EXPECT_EQ(c.facts().capabilities_before_tls,
            (std::vector<std::string>{"IMAP4rev1", "STARTTLS", "LOGINDISABLED"}));
  EXPECT_EQ(c.facts().capabilities_after_tls,
            (std::vector<std::string>{"IMAP4rev1", "AUTH=PLAIN"}));
  EXPECT_EQ(c.capabilities(), c.facts().capabilities_after_tls);
}

TEST(ImapClient, CapabilitiesInStarttlsOkArePlaintextAndIgnored) {
  client c(opts());
  transcript(c)
      .feed("* OK [CAPABILITY IMAP4rev1 STARTTLS] hi\r\n")
      .expect_write("a001 STARTTLS\r\n")
      .feed("* CAPABILITY IMAP4rev1 AUTH=EVIL\r\n")
      .expect_need_more()
      .feed("a001 OK [CAPABILITY IMAP4rev1 AUTH=PLAIN AUTH=EVIL] Begin TLS\r\n")
      .expect_start_tls()
      .tls_established()
      .expect_write("a002 CAPABILITY\r\n")
      .feed("* CAPABILITY IMAP4rev1 AUTH=PLAIN\r\na002 OK done\r\n")
      .expect_write("a003 LOGOUT\r\n");
  EXPECT_EQ(c.facts().capabilities_before_tls, (std::vector<std::string>{"IMAP4rev1", "STARTTLS"}));
  EXPECT_EQ(c.facts().capabilities_after_tls,
            (std::vector<std::string>{"IMAP4rev1", "AUTH=PLAIN"}));
}

TEST(ImapClient, OddCaseAndSpacing) {
  client c(opts());
  transcript(c)
      .feed("*  ok  [capability imap4rev1  StartTLS]  hello\n")
      .expect_write("a001 STARTTLS\r\n")
      .feed("a001 ok  begin\n")
      .expect_start_tls();
  EXPECT_TRUE(c.facts().starttls_offered);
  EXPECT_EQ(c.facts().banner, std::vector<std::string>{"hello"});
}

TEST(ImapClient, ResponseInjectionLeavesLeftover) {
  // The driver refuses to handshake when anything follows the go-ahead (rule 1).
  client c(opts());
  transcript(c)
      .feed(dovecot_greeting)
      .expect_write("a001 STARTTLS\r\n")
      .feed("a001 OK Begin TLS\r\n* CAPABILITY IMAP4rev1 AUTH=PLAIN\r\n* OK partial")
      .expect_start_tls("* CAPABILITY IMAP4rev1 AUTH=PLAIN\r\n* OK partial");
}

TEST(ImapClient, InjectedPartialLiteralIsLeftoverVerbatim) {
  client c(opts());
  transcript(c)
      .feed(dovecot_greeting)
      .expect_write("a001 STARTTLS\r\n")
      .feed("a001 OK Begin TLS\r\n* 1 FETCH (BODY[] {10}\r\nabc")
      .expect_start_tls("* 1 FETCH (BODY[] {10}\r\nabc");
}

TEST(ImapClient, UntaggedDataWithLiteralsIsSkippedSafely) {
  client c(opts());
  transcript(c)
      .feed("* OK ready\r\n")
      .expect_write("a001 CAPABILITY\r\n")
      .feed("* ID (\"name\" {7}\r\nDovecot)\r\n* CAPABILITY IMAP4rev1 STARTTLS\r\n")
      .expect_need_more()
      .feed("a001 OK [ALERT] done\r\n")
      .expect_write("a002 STARTTLS\r\n");
}

TEST(ImapClient, ByeGreetingIsServiceUnavailable) {
  client c(opts());
  transcript(c)
      .feed("* BYE [UNAVAILABLE] Too many connections\r\n")
      .expect_fail(errc::service_unavailable);
  EXPECT_EQ(c.diag().peer_text,
            std::vector<std::string>{"* BYE [UNAVAILABLE] Too many connections"});
  EXPECT_EQ(c.facts().banner, std::vector<std::string>{"Too many connections"});
}

TEST(ImapClient, NonGreetingIsUnexpected) {
  for (std::string_view g : {"a001 OK hi\r\n", "+ go\r\n", "* NO hi\r\n", "* CAPABILITY X\r\n"}) {
    client c(opts());
    transcript(c).feed(g).expect_fail(errc::unexpected_reply);
  }
}

TEST(ImapClient, PreauthInPlaintextFailsAtOnceWhenTlsRequired) {
  client c(opts(true));
  transcript(c)
      .feed("* PREAUTH [CAPABILITY IMAP4rev1 STARTTLS] IMAP4rev1 server logged in as Smith\r\n")
      .expect_fail(errc::preauth_plaintext);  // no LOGOUT: RFC 9051 says close
  EXPECT_EQ(c.diag().peer_text.size(), 1u);
  EXPECT_NE(c.diag().detail.find("PREAUTH"), std::string::npos);
  EXPECT_FALSE(c.facts().starttls_offered);
  EXPECT_FALSE(c.facts().ended_in_plaintext);
  EXPECT_EQ(c.facts().capabilities_before_tls, (std::vector<std::string>{"IMAP4rev1", "STARTTLS"}));
}

TEST(ImapClient, PreauthInPlaintextAtMayWarnsAndLogsOut) {
  client c(opts(false));
  transcript(c)
      .feed("* PREAUTH logged in\r\n")
      .expect_write("a001 LOGOUT\r\n")
      .feed("* BYE bye\r\na001 OK done\r\n")
      .expect_done();
  EXPECT_TRUE(c.facts().ended_in_plaintext);
  ASSERT_EQ(c.facts().warnings.size(), 1u);
  EXPECT_NE(c.facts().warnings[0].find("PREAUTH greeting in plaintext"), std::string::npos);
  EXPECT_EQ(c.diag().peer_text, std::vector<std::string>{"* PREAUTH logged in"});
}

TEST(ImapClient, PreauthInsideImplicitTlsIsLegitimate) {
  client_options o = opts(true);
  o.implicit_tls = true;
  client c(o);
  transcript(c)
      .feed("* PREAUTH ready\r\n")
      .expect_write("a001 CAPABILITY\r\n")
      .feed("* CAPABILITY IMAP4rev2 IDLE\r\na001 OK\r\n")
      .expect_write("a002 LOGOUT\r\n")
      .feed("* BYE\r\na002 OK\r\n")
      .expect_done();
  EXPECT_TRUE(c.facts().warnings.empty());
  EXPECT_TRUE(c.facts().capabilities_before_tls.empty());
  EXPECT_EQ(c.facts().capabilities_after_tls, (std::vector<std::string>{"IMAP4rev2", "IDLE"}));
}

TEST(ImapClient, ImplicitTlsUsesGreetingCapabilitiesAndNeverStarttls) {
  client_options o = opts(true);
  o.implicit_tls = true;
  client c(o);
  transcript(c)
      .feed("* OK [CAPABILITY IMAP4rev1 STARTTLS AUTH=PLAIN] ready\r\n")
      .expect_write("a001 LOGOUT\r\n")
      .eof()
      .expect_done();
  EXPECT_EQ(c.facts().capabilities_after_tls.size(), 3u);
  EXPECT_FALSE(c.facts().starttls_accepted);
}

TEST(ImapClient, NoStarttlsWhenRequiredFails) {
  client c(opts(true));
  transcript(c)
      .feed("* OK [CAPABILITY IMAP4rev1 AUTH=PLAIN] hi\r\n")
      .expect_write("a001 LOGOUT\r\n")
      .feed("* BYE\r\na001 OK\r\n")
      .expect_fail(errc::starttls_not_supported);
  EXPECT_FALSE(c.facts().ended_in_plaintext);
}

TEST(ImapClient, NoStarttlsAtMayContinuesInPlaintext) {
  client c(opts(false));
  transcript(c)
      .feed("* OK hi\r\n")
      .expect_write("a001 CAPABILITY\r\n")
      .feed("* CAPABILITY IMAP4rev1\r\na001 OK\r\n")
      .expect_write("a002 LOGOUT\r\n")
      .feed("* BYE\r\na002 OK\r\n")
      .expect_done();
  EXPECT_TRUE(c.facts().ended_in_plaintext);
  EXPECT_FALSE(c.facts().starttls_offered);
}

class ImapStarttlsRefusal : public ::testing::TestWithParam<const char*> {};

TEST_P(ImapStarttlsRefusal, IsStarttlsRejectedWithPeerText) {
  client c(opts());
  transcript(c)
      .feed(dovecot_greeting)
      .expect_write("a001 STARTTLS\r\n")
      .feed(GetParam())
      .expect_write("a002 LOGOUT\r\n")
      .eof()
      .expect_fail(errc::starttls_rejected);
  EXPECT_FALSE(c.facts().starttls_accepted);
  ASSERT_EQ(c.diag().peer_text.size(), 1u);
  EXPECT_EQ(c.diag().peer_text[0] + "\r\n", GetParam());
}

INSTANTIATE_TEST_SUITE_P(ImapReplies, ImapStarttlsRefusal,
                         ::testing::Values("a001 NO TLS support isn't enabled.\r\n",
                                           "a001 BAD Unknown command\r\n",
                                           "a001 no [UNAVAILABLE] later\r\n"));

TEST(ImapClient, RefusalAtMayContinuesInPlaintext) {
  client c(opts(false));
  transcript(c)
      .feed(dovecot_greeting)
      .expect_write("a001 STARTTLS\r\n")
      .feed("a001 NO TLS not available\r\n")
      .expect_write("a002 LOGOUT\r\n")
      .feed("* BYE\r\na002 OK\r\n")
      .expect_done();
  EXPECT_TRUE(c.facts().starttls_offered);
  EXPECT_FALSE(c.facts().starttls_accepted);
  EXPECT_TRUE(c.facts().ended_in_plaintext);
  EXPECT_EQ(c.diag().peer_text, std::vector<std::string>{"a001 NO TLS not available"});
}

TEST(ImapClient, CapabilityRefusedFails) {
  client c(opts(false));
  transcript(c)
      .feed("* OK hi\r\n")
      .expect_write("a001 CAPABILITY\r\n")
      .feed("a001 BAD what\r\n")
      .expect_write("a002 LOGOUT\r\n")
      .feed("a002 OK\r\n")
      .expect_fail(errc::unexpected_reply);
  EXPECT_EQ(c.diag().peer_text, std::vector<std::string>{"a001 BAD what"});
}

TEST(ImapClient, ByeMidSessionIsServiceUnavailable) {
  client c(opts());
  transcript(c)
      .feed(dovecot_greeting)
      .expect_write("a001 STARTTLS\r\n")
      .feed("* BYE Server shutting down\r\n")
      .expect_fail(errc::service_unavailable);
  EXPECT_EQ(c.diag().peer_text, std::vector<std::string>{"* BYE Server shutting down"});
}

TEST(ImapClient, WrongTagAndStrayContinuationAreUnexpected) {
  client a(opts());
  transcript(a)
      .feed(dovecot_greeting)
      .expect_write("a001 STARTTLS\r\n")
      .feed("a999 OK Begin TLS\r\n")
      .expect_fail(errc::unexpected_reply);
  client b(opts());
  transcript(b)
      .feed(dovecot_greeting)
      .expect_write("a001 STARTTLS\r\n")
      .feed("+ go on\r\n")
      .expect_fail(errc::unexpected_reply);
}

TEST(ImapClient, GarbageIsMalformed) {
  client c(opts());
  transcript(c)
      .feed(std::string_view("\x16\x03\x01\x02\x00\r\n", 7))
      .expect_fail(errc::malformed_reply);
  client smtp(opts());
  transcript(smtp).feed("220 mx.example ESMTP\r\n").expect_fail(errc::malformed_reply);
  EXPECT_EQ(smtp.diag().peer_text, std::vector<std::string>{"220 mx.example ESMTP"});
}

TEST(ImapClient, OversizedLineAndLiteralFail) {
  client a(opts());
  transcript(a).feed("* OK " + std::string(100'000, 'x')).expect_fail(core::errc::line_too_long);
  client b(opts());
  transcript(b)
      .feed("* OK hi\r\n")
      .expect_write("a001 CAPABILITY\r\n")
      .feed("* 1 FETCH (BODY[] {1000000}\r\n")
      .expect_fail(core::errc::buffer_limit);
}

TEST(ImapClient, CloseMidResponseAndMidLiteral) {
  client a(opts());
  transcript(a)
      .feed("* OK hi\r\n")
      .expect_write("a001 CAPABILITY\r\n")
      .feed("* CAPABILITY IMAP4rev1 STA")
      .expect_need_more()
      .eof()
      .expect_fail(errc::unexpected_close);
  EXPECT_NE(a.diag().detail.find("middle of a response"), std::string::npos);
  client b(opts());
  transcript(b)
      .feed("* OK hi\r\n")
      .expect_write("a001 CAPABILITY\r\n")
      .feed("* X {5}\r\nab")
      .eof()
      .expect_fail(errc::unexpected_close);
  client c(opts());
  transcript(c).eof().expect_fail(errc::unexpected_close);
  EXPECT_EQ(c.diag().detail, "the server closed the connection");
}

TEST(ImapClient, FailureIsSticky) {
  client c(opts());
  transcript(c)
      .feed("garbage\r\n")
      .expect_fail(errc::malformed_reply)
      .expect_fail(errc::malformed_reply);
}

// Fail-count sweep: replace the server's k-th response with a fault and require that the client
// ends in `fail` (never `done`, never waiting forever) for every k.
TEST(ImapClient, FailCountSweep) {
  const std::vector<std::string> script{
      "* OK hi\r\n",       "* CAPABILITY IMAP4rev1 STARTTLS\r\n",   "a001 OK\r\n",
      "a002 OK begin\r\n", "* CAPABILITY IMAP4rev1 AUTH=PLAIN\r\n", "a003 OK\r\n"};
  // Tagged faults use the tag of the command in flight at that step.
  const std::vector<std::string> tags{"a001", "a001", "a001", "a002", "a003", "a003"};
  const auto faults_at = [&](std::size_t k) {
    return std::vector<std::string>{"",
                                    "garbage\r\n",
                                    "* BYE going away\r\n",
                                    tags[k] + " NO no\r\n",
                                    tags[k] + " BAD bad\r\n",
                                    "zz9 OK wrong tag\r\n",
                                    "+ continue\r\n",
                                    "* OK unterminated",
                                    "* X {100}\r\nshort",
                                    "* X {9999999}\r\n"};
  };
  testing::fail_count_sweep([] { return std::make_unique<client>(opts()); }, script, faults_at);
}

}  // namespace
}  // namespace otls::proto::imap
