// IRC client role as transcripts (IRCv3 tls extension and capability negotiation 3.2, IRCv3
// STS, RFC 2812), using InspIRCd 3.15's real replies, plus a fail-count sweep that injects a
// fault at every step.
#include "otls/proto/irc/client.hpp"

#include <memory>

#include <gtest/gtest.h>

#include "dialect_harness.hpp"
#include "transcript.hpp"

namespace otls::proto::irc {
namespace {

using testing::transcript;

// InspIRCd 3.15.0 (Debian 12) with the cap, ssl_gnutls and starttls modules.
constexpr std::string_view inspircd_notice =
    ":irc.test NOTICE * :*** Looking up your hostname...\r\n";
constexpr std::string_view inspircd_cap_ls =
    ":irc.test CAP * LS :inspircd.org/poison inspircd.org/standard-replies tls \r\n";
constexpr std::string_view inspircd_670 =
    ":irc.test 670 * :STARTTLS successful, go ahead with TLS handshake\r\n";
// InspIRCd keeps listing tls inside TLS (a second STARTTLS would get 691); the list differs
// from the pre-TLS one only by its trailing space, and the client must not act on it.
constexpr std::string_view inspircd_cap_ls_after_tls =
    ":irc.test CAP * LS :inspircd.org/poison inspircd.org/standard-replies tls\r\n";
constexpr std::string_view inspircd_error =
    "ERROR :Closing link: (663AAAAAB@127.0.0.1) [Client exited]\r\n";

client_options opts(bool require_tls = true) {
  client_options o;
  o.require_tls = require_tls;
  return o;
}

// CAP LS answered with tls: the client is about to send STARTTLS.
transcript& to_starttls(transcript& t) {
  return t.expect_write("CAP LS 302\r\n")
      .expect_need_more()
      .feed(inspircd_notice)
      .expect_need_more()
      .feed(inspircd_cap_ls)
      .expect_write("STARTTLS\r\n");
}

TEST(IrcClient, FullUpgradeAgainstInspircd) {
  client c(opts());
  transcript t(c);
  to_starttls(t)
      .expect_need_more()
      .feed(inspircd_670)
      .expect_start_tls("")
      .tls_established()
      .expect_write("CAP LS 302\r\n")
      .expect_need_more()
      .feed(inspircd_cap_ls_after_tls)
      .expect_write("CAP END\r\nQUIT\r\n")
      .expect_need_more()
      .feed(inspircd_error)
      .expect_done();
  EXPECT_EQ(c.facts().banner, std::vector<std::string>{"*** Looking up your hostname..."});
  EXPECT_TRUE(c.facts().starttls_offered);
  EXPECT_TRUE(c.facts().starttls_accepted);
  EXPECT_FALSE(c.facts().ended_in_plaintext);
  EXPECT_EQ(
      c.facts().capabilities_before_tls,
      (std::vector<std::string>{"inspircd.org/poison", "inspircd.org/standard-replies", "tls"}));
  // Rule 2: the post-TLS list comes from the fresh CAP LS only.
  EXPECT_EQ(
      c.facts().capabilities_after_tls,
      (std::vector<std::string>{"inspircd.org/poison", "inspircd.org/standard-replies", "tls"}));
}

TEST(IrcClient, CapabilitiesAreForgottenAtTheHandshake) {
  client c(opts());
  transcript t(c);
  to_starttls(t).feed(inspircd_670).expect_start_tls().tls_established();
  EXPECT_TRUE(c.capabilities_now().empty());
  t.expect_write("CAP LS 302\r\n").expect_need_more();
}

TEST(IrcClient, NoticesAndPingsBeforeTheRepliesAreReadPast) {
  client c(opts());
  transcript(c)
      .expect_write("CAP LS 302\r\n")
      .feed(
          ":irc.example NOTICE * :*** Looking up your hostname...\r\n"
          "NOTICE AUTH :*** Checking Ident\r\n"
          "PING :1234ABCD\r\n"
          ":irc.example 020 * :Please wait while we process your connection.\n")
      .expect_write("PONG :1234ABCD\r\n")
      .expect_need_more()
      .feed("@time=2026-01-01T00:00:00.000Z :irc.example CAP * LS :tls\r\n")
      .expect_write("STARTTLS\r\n")
      .feed(":irc.example NOTICE * :*** Found your hostname\r\nPING tok\r\n")
      .expect_write("PONG :tok\r\n")
      .feed(":irc.example 670 * :go ahead\r\n")
      .expect_start_tls("");
  EXPECT_EQ(c.facts().banner.size(), 3u);
}

TEST(IrcClient, MultiLineCapLsAndStsValues) {
  client c(opts());
  transcript(c)
      .expect_write("CAP LS 302\r\n")
      .feed(":irc.example CAP * LS * :multi-prefix sasl=PLAIN,EXTERNAL\r\n")
      .expect_need_more()
      .feed(":irc.example CAP * LS * :sts=port=6697,duration=300 server-time\r\n")
      .expect_need_more()
      .feed(":irc.example CAP * LS :tls account-tag\r\n")
      .expect_write("STARTTLS\r\n");
  EXPECT_EQ(
      c.facts().capabilities_before_tls,
      (std::vector<std::string>{"multi-prefix", "sasl=PLAIN,EXTERNAL", "sts=port=6697,duration=300",
                                "server-time", "tls", "account-tag"}));
  const auto sts = c.sts();
  ASSERT_TRUE(sts.has_value());
  EXPECT_EQ(sts->port, 6697u);
  EXPECT_EQ(sts->duration, 300ul);
}

TEST(IrcClient, StsWithoutTlsIsNotSupportedAndNamesThePort) {
  client c(opts());
  transcript(c)
      .expect_write("CAP LS 302\r\n")
      .feed(":irc.example CAP * LS :sts=port=6697 server-time\r\n")
      .expect_write("CAP END\r\nQUIT\r\n")
      .eof()
      .expect_fail(errc::starttls_not_supported);
  EXPECT_NE(c.diag().detail.find("6697"), std::string::npos) << c.diag().detail;
  EXPECT_FALSE(c.facts().starttls_offered);
}

TEST(IrcClient, NoTlsAtMayContinuesInPlaintextAndSaysSo) {
  client c(opts(false));
  transcript(c)
      .expect_write("CAP LS 302\r\n")
      .feed(":irc.example CAP * LS :server-time\r\n")
      .expect_write("CAP END\r\nQUIT\r\n")
      .feed("ERROR :Closing link\r\n")
      .expect_done();
  EXPECT_TRUE(c.facts().ended_in_plaintext);
  ASSERT_EQ(c.facts().warnings.size(), 1u);
  EXPECT_NE(c.facts().warnings[0].find("PLAINTEXT"), std::string::npos);
}

TEST(IrcClient, Err691IsStarttlsRejectedWithTheServersWords) {
  client c(opts());
  transcript t(c);
  to_starttls(t)
      .feed(":irc.test 691 * :STARTTLS failure\r\n")
      .expect_write("CAP END\r\nQUIT\r\n")
      .feed(inspircd_error)
      .expect_fail(errc::starttls_rejected);
  EXPECT_EQ(c.diag().peer_text, std::vector<std::string>{":irc.test 691 * :STARTTLS failure"});
}

TEST(IrcClient, ServerWithoutCapStillTriesStarttls) {
  client c(opts());
  transcript(c)
      .expect_write("CAP LS 302\r\n")
      .feed(":old.example 421 * CAP :Unknown command\r\n")
      .expect_write("STARTTLS\r\n")
      .feed(":old.example 670 * :STARTTLS successful\r\n")
      .expect_start_tls("")
      .tls_established()
      .expect_write("CAP LS 302\r\n")
      .feed(":old.example 421 * CAP :Unknown command\r\n")
      .expect_write("QUIT\r\n")
      .eof()
      .expect_done();
  EXPECT_TRUE(c.facts().starttls_offered);
}

TEST(IrcClient, NeitherCapNorStarttlsIsNotSupported) {
  client c(opts());
  transcript(c)
      .expect_write("CAP LS 302\r\n")
      .feed(":old.example 421 * CAP :Unknown command\r\n")
      .expect_write("STARTTLS\r\n")
      .feed(":old.example 451 * STARTTLS :You have not registered\r\n")
      .expect_write("QUIT\r\n")
      .eof()
      .expect_fail(errc::starttls_not_supported);
  EXPECT_EQ(c.diag().peer_text,
            std::vector<std::string>{":old.example 451 * STARTTLS :You have not registered"});
}

TEST(IrcClient, TlsOfferedButStarttlsUnknownIsRejected) {
  client c(opts());
  transcript t(c);
  to_starttls(t)
      .feed(":irc.test 421 * STARTTLS :Unknown command\r\n")
      .expect_write("CAP END\r\nQUIT\r\n")
      .eof()
      .expect_fail(errc::starttls_rejected);
}

TEST(IrcClient, ResponseInjectionIsLeftOver) {
  // Rule 1: whatever follows the go-ahead is handed to the driver, which refuses to handshake.
  client c(opts());
  transcript t(c);
  to_starttls(t)
      .feed(":irc.test 670 * :go ahead\r\n:irc.test CAP * LS :evil\r\n:irc.test NOT")
      .expect_start_tls(":irc.test CAP * LS :evil\r\n:irc.test NOT");
}

TEST(IrcClient, InjectionArrivingWithTheGoAheadLineIsLeftOverByteForByte) {
  client c(opts());
  transcript t(c);
  to_starttls(t)
      .feed(":irc.test 670 * :go ahead\r")
      .expect_need_more()
      .feed("\nPING x\n")
      .expect_start_tls("PING x\n");
}

TEST(IrcClient, ErrorBeforeTheUpgradeIsServiceUnavailable) {
  client c(opts());
  transcript(c)
      .expect_write("CAP LS 302\r\n")
      .feed("ERROR :Closing link: (unknown@127.0.0.1) [Throttled]\r\n")
      .expect_fail(errc::service_unavailable);
  EXPECT_EQ(c.diag().peer_text,
            std::vector<std::string>{"ERROR :Closing link: (unknown@127.0.0.1) [Throttled]"});
}

TEST(IrcClient, GarbageIsMalformed) {
  client c(opts());
  transcript(c)
      .expect_write("CAP LS 302\r\n")
      .feed("\x80\xff\r\n")
      .expect_fail(errc::malformed_reply);
}

TEST(IrcClient, OversizedLineFails) {
  client c(opts());
  transcript(c)
      .expect_write("CAP LS 302\r\n")
      .feed(std::string(max_line + 10, 'A'))
      .expect_fail(core::errc::line_too_long);
}

TEST(IrcClient, EndlessCapLsIsMalformed) {
  client c(opts());
  transcript t(c);
  t.expect_write("CAP LS 302\r\n");
  std::string flood;
  for (std::size_t i = 0; i <= max_cap_ls_lines; ++i) flood += ":x CAP * LS * :a\r\n";
  t.feed(flood).expect_fail(errc::malformed_reply);
}

TEST(IrcClient, EndlessNoticesEndTheSession) {
  client c(opts());
  transcript t(c);
  t.expect_write("CAP LS 302\r\n");
  std::string flood;
  for (unsigned i = 0; i <= max_ignored_messages; ++i) flood += ":x NOTICE * :spam\r\n";
  t.feed(flood).expect_fail(errc::unexpected_reply);
  EXPECT_LE(c.facts().banner.size(), max_banner_notices);
}

TEST(IrcClient, CloseMidCapLs) {
  client c(opts());
  transcript(c)
      .expect_write("CAP LS 302\r\n")
      .feed(":x CAP * LS * :tls\r\n")
      .expect_need_more()
      .eof()
      .expect_fail(errc::unexpected_close);
}

TEST(IrcClient, ImplicitTlsSkipsStarttls) {
  client_options o = opts();
  o.implicit_tls = true;
  client c(o);
  transcript(c)
      .expect_write("CAP LS 302\r\n")
      .feed(inspircd_notice)
      .feed(inspircd_cap_ls_after_tls)
      .expect_write("CAP END\r\nQUIT\r\n")
      .eof()
      .expect_done();
  EXPECT_TRUE(c.facts().capabilities_before_tls.empty());
  EXPECT_EQ(c.facts().capabilities_after_tls.size(), 3u);
}

// Fail-count sweep: replace the server's k-th reply with a fault and require that the client
// fails (or, at level may, ends) every time.
TEST(IrcClient, FailCountSweep) {
  const std::vector<std::string> script{std::string(inspircd_notice) + std::string(inspircd_cap_ls),
                                        std::string(inspircd_670),
                                        std::string(inspircd_cap_ls_after_tls)};
  const std::vector<std::string> faults{"",
                                        "garbage\r\n",
                                        ":x 691 * :no\r\n",
                                        ":x 421 * CAP :Unknown command\r\n",
                                        ":x CAP * LS * :tls\r\n",
                                        ":x NOTICE * :part",
                                        "ERROR :Closing link\r\n",
                                        "\x80\xff\r\n"};
  for (bool require_tls : {true, false}) {
    testing::sweep_options o;
    o.label = require_tls ? "(require_tls)" : "(may)";
    o.leftover_ends_session = true;
    if (!require_tls) {
      o.may_complete = [](std::size_t k, const std::string& fault) {
        return k == 1 && (fault.find(" 691 ") != std::string::npos ||
                          fault.find(" 421 ") != std::string::npos);
      };
    }
    testing::fail_count_sweep([&] { return std::make_unique<client>(opts(require_tls)); }, script,
                              faults, o);
  }
}

}  // namespace
}  // namespace otls::proto::irc
