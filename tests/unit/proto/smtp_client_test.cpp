// SMTP/LMTP client role as transcripts (RFC 5321, RFC 3207, RFC 2033), plus a fail-count sweep
// that injects an error at every step and requires a clean failure.
#include "otls/proto/smtp/client.hpp"

#include <memory>

#include <gtest/gtest.h>

#include "dialect_harness.hpp"
#include "otls/core/error.hpp"
#include "transcript.hpp"

namespace otls::proto::smtp {
namespace {

using testing::transcript;

constexpr std::string_view ehlo_with_starttls =
    "250-mx.example.org\r\n250-PIPELINING\r\n250-SIZE 10240000\r\n250 STARTTLS\r\n";
constexpr std::string_view ehlo_after_tls =
    "250-mx.example.org\r\n250-PIPELINING\r\n250 AUTH PLAIN\r\n";

client_options opts(bool require_tls = true) {
  client_options o;
  o.client_name = "probe.example";
  o.require_tls = require_tls;
  return o;
}

TEST(SmtpClient, FullUpgrade) {
  client c(opts(), variant::smtp);
  transcript(c)
      .expect_need_more()
      .feed("220-mx.example.org ESMTP\r\n220 second line\r\n")
      .expect_write("EHLO probe.example\r\n")
      .expect_need_more()
      .feed(ehlo_with_starttls)
      .expect_write("STARTTLS\r\n")
      .expect_need_more()
      .feed("220 2.0.0 Ready to start TLS\r\n")
      .expect_start_tls("")
      .tls_established()
      .expect_write("EHLO probe.example\r\n")
      .expect_need_more()
      .feed(ehlo_after_tls)
      .expect_write("QUIT\r\n")
      .expect_need_more()
      .feed("221 2.0.0 Bye\r\n")
      .expect_done();
  EXPECT_EQ(c.facts().banner, (std::vector<std::string>{"mx.example.org ESMTP", "second line"}));
  EXPECT_TRUE(c.facts().starttls_offered);
  EXPECT_TRUE(c.facts().starttls_accepted);
  EXPECT_EQ(c.facts().capabilities_before_tls,
            (std::vector<std::string>{"PIPELINING", "SIZE 10240000", "STARTTLS"}));
  // Rule 2: capabilities after TLS come from the fresh EHLO only.
  EXPECT_EQ(c.facts().capabilities_after_tls,
            (std::vector<std::string>{"PIPELINING", "AUTH PLAIN"}));
  EXPECT_FALSE(c.capabilities().has("STARTTLS"));
}

TEST(SmtpClient, OddSpacingAndCase) {
  client c(opts(), variant::smtp);
  transcript(c)
      .feed("220 hi\r\n")
      .expect_write("EHLO probe.example\r\n")
      .feed("250-mx\r\n250-size   \r\n250 StartTLS\r\n")
      .expect_write("STARTTLS\r\n");
  EXPECT_TRUE(c.facts().starttls_offered);
}

TEST(SmtpClient, ServerClosesAfterQuitIsFine) {
  client c(opts(), variant::smtp);
  transcript(c)
      .feed("220 hi\r\n")
      .expect_write("EHLO probe.example\r\n")
      .feed(ehlo_with_starttls)
      .expect_write("STARTTLS\r\n")
      .feed("220 go\r\n")
      .expect_start_tls()
      .tls_established()
      .expect_write("EHLO probe.example\r\n")
      .feed(ehlo_after_tls)
      .expect_write("QUIT\r\n")
      .expect_need_more()
      .eof()
      .expect_done();
}

TEST(SmtpClient, ResponseInjectionLeavesLeftover) {
  // The driver refuses to handshake when anything follows the go-ahead (rule 1).
  client c(opts(), variant::smtp);
  transcript(c)
      .feed("220 hi\r\n")
      .expect_write("EHLO probe.example\r\n")
      .feed(ehlo_with_starttls)
      .expect_write("STARTTLS\r\n")
      .feed("220 go ahead\r\n250-injected\r\n250 AUTH PLAIN\r\n")
      .expect_start_tls("250-injected\r\n250 AUTH PLAIN\r\n");
}

TEST(SmtpClient, Greeting421And554AreServiceUnavailable) {
  for (std::string_view greeting : {"421 4.3.2 busy\r\n", "554-no service\r\n554 go away\r\n"}) {
    client c(opts(), variant::smtp);
    transcript(c)
        .feed(greeting)
        .expect_write("QUIT\r\n")
        .eof()
        .expect_fail(errc::service_unavailable);
    EXPECT_EQ(c.diag().peer_text.front().substr(0, 3), greeting.substr(0, 3));
  }
}

TEST(SmtpClient, NonGreetingIsUnexpected) {
  client c(opts(), variant::smtp);
  transcript(c).feed("250 what\r\n").expect_fail(errc::unexpected_reply);
}

TEST(SmtpClient, EhloRejectedFallsBackToHelo) {
  client c(opts(false), variant::smtp);
  transcript(c)
      .feed("220 old\r\n")
      .expect_write("EHLO probe.example\r\n")
      .feed("502 5.5.2 command not recognized\r\n")
      .expect_write("HELO probe.example\r\n")
      .feed("250 old.example\r\n")
      .expect_write("QUIT\r\n")
      .feed("221 bye\r\n")
      .expect_done();
  EXPECT_FALSE(c.facts().starttls_offered);
  EXPECT_TRUE(c.facts().ended_in_plaintext);
}

TEST(SmtpClient, HeloOnlyServerFailsWhenTlsRequired) {
  client c(opts(true), variant::smtp);
  transcript(c)
      .feed("220 old\r\n")
      .expect_write("EHLO probe.example\r\n")
      .feed("500 unknown\r\n")
      .expect_write("HELO probe.example\r\n")
      .feed("250 old.example\r\n")
      .expect_write("QUIT\r\n")
      .feed("221 bye\r\n")
      .expect_fail(errc::starttls_not_supported);
}

TEST(SmtpClient, NoStarttlsAtMayContinuesInPlaintext) {
  client c(opts(false), variant::smtp);
  transcript(c)
      .feed("220 hi\r\n")
      .expect_write("EHLO probe.example\r\n")
      .feed("250-mx\r\n250 PIPELINING\r\n")
      .expect_write("QUIT\r\n")
      .feed("221 bye\r\n")
      .expect_done();
  EXPECT_TRUE(c.facts().ended_in_plaintext);
  EXPECT_FALSE(c.facts().starttls_offered);
}

TEST(SmtpClient, NoStarttlsWhenRequiredFails) {
  client c(opts(true), variant::smtp);
  transcript(c)
      .feed("220 hi\r\n")
      .expect_write("EHLO probe.example\r\n")
      .feed("250-mx\r\n250 PIPELINING\r\n")
      .expect_write("QUIT\r\n")
      .feed("221 bye\r\n")
      .expect_fail(errc::starttls_not_supported);
  EXPECT_FALSE(c.facts().ended_in_plaintext);
}

class StarttlsRefusal : public ::testing::TestWithParam<const char*> {};

TEST_P(StarttlsRefusal, IsStarttlsRejectedWithPeerText) {
  client c(opts(), variant::smtp);
  transcript(c)
      .feed("220 hi\r\n")
      .expect_write("EHLO probe.example\r\n")
      .feed(ehlo_with_starttls)
      .expect_write("STARTTLS\r\n")
      .feed(GetParam())
      .expect_write("QUIT\r\n")
      .eof()
      .expect_fail(errc::starttls_rejected);
  EXPECT_FALSE(c.facts().starttls_accepted);
  ASSERT_FALSE(c.diag().peer_text.empty());
  EXPECT_EQ(c.diag().peer_text.front().substr(0, 3), std::string(GetParam()).substr(0, 3));
}

INSTANTIATE_TEST_SUITE_P(Replies, StarttlsRefusal,
                         ::testing::Values("454 4.7.0 TLS not available due to local problem\r\n",
                                           "501 5.5.4 Syntax error\r\n", "502 no\r\n",
                                           "554 5.5.1 Error: TLS already active\r\n",
                                           "250 sure\r\n", "421 closing\r\n"));

TEST(SmtpClient, RefusalAtMayContinuesInPlaintext) {
  client c(opts(false), variant::smtp);
  transcript(c)
      .feed("220 hi\r\n")
      .expect_write("EHLO probe.example\r\n")
      .feed(ehlo_with_starttls)
      .expect_write("STARTTLS\r\n")
      .feed("454 4.7.0 TLS not available\r\n")
      .expect_write("QUIT\r\n")
      .feed("221 bye\r\n")
      .expect_done();
  EXPECT_TRUE(c.facts().starttls_offered);
  EXPECT_FALSE(c.facts().starttls_accepted);
  EXPECT_TRUE(c.facts().ended_in_plaintext);
  EXPECT_EQ(c.diag().peer_text, std::vector<std::string>{"454 4.7.0 TLS not available"});
}

TEST(SmtpClient, GarbageReplyIsMalformed) {
  client c(opts(), variant::smtp);
  transcript(c)
      .feed(std::string_view("\x16\x03\x01\x02\x00\r\n", 7))
      .expect_fail(errc::malformed_reply);
}

TEST(SmtpClient, OversizedLineFails) {
  client c(opts(), variant::smtp);
  transcript(c).feed("220 " + std::string(100'000, 'x')).expect_fail(core::errc::line_too_long);
}

TEST(SmtpClient, CloseMidReply) {
  client c(opts(), variant::smtp);
  transcript(c)
      .feed("220 hi\r\n")
      .expect_write("EHLO probe.example\r\n")
      .feed("250-mx\r\n250-SIZE")
      .expect_need_more()
      .eof()
      .expect_fail(errc::unexpected_close);
  EXPECT_NE(c.diag().detail.find("middle of a reply"), std::string::npos);
}

TEST(SmtpClient, ImplicitTlsSkipsStarttls) {
  client_options o = opts();
  o.implicit_tls = true;
  client c(o, variant::smtp);
  transcript(c)
      .feed("220 hi\r\n")
      .expect_write("EHLO probe.example\r\n")
      .feed(ehlo_after_tls)
      .expect_write("QUIT\r\n")
      .feed("221 bye\r\n")
      .expect_done();
  EXPECT_TRUE(c.facts().capabilities_before_tls.empty());
  EXPECT_EQ(c.facts().capabilities_after_tls.size(), 2u);
}

TEST(LmtpClient, UsesLhloAndNoHeloFallback) {
  client c(opts(), variant::lmtp);
  transcript(c)
      .feed("220 lmtp\r\n")
      .expect_write("LHLO probe.example\r\n")
      .feed("500 5.5.1 unknown\r\n")
      .expect_write("QUIT\r\n")
      .eof()
      .expect_fail(errc::unexpected_reply);
}

TEST(LmtpClient, UpgradesWithLhloAgain) {
  client c(opts(), variant::lmtp);
  transcript(c)
      .feed("220 lmtp\r\n")
      .expect_write("LHLO probe.example\r\n")
      .feed(ehlo_with_starttls)
      .expect_write("STARTTLS\r\n")
      .feed("220 go\r\n")
      .expect_start_tls()
      .tls_established()
      .expect_write("LHLO probe.example\r\n");
}

// Fail-count sweep: replace the server's k-th reply with an error and require that the client
// ends in `fail` (never `done`, never waiting forever) for every k.
TEST(SmtpClient, FailCountSweep) {
  const std::vector<std::string> script{"220 hi\r\n", std::string(ehlo_with_starttls), "220 go\r\n",
                                        std::string(ehlo_after_tls)};
  const std::vector<std::string> faults{"", "garbage\r\n", "554 5.0.0 no\r\n", "421 4.0.0 bye\r\n",
                                        "250-unterminated"};
  testing::fail_count_sweep([] { return std::make_unique<client>(opts(), variant::smtp); }, script,
                            faults);
}

}  // namespace
}  // namespace otls::proto::smtp
