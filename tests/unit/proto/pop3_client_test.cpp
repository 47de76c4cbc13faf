// POP3 client role as transcripts (RFC 1939, RFC 2449 CAPA, RFC 2595 §4 STLS), using Dovecot
// 2.3's real replies, plus a fail-count sweep that injects an error at every step.
#include "otls/proto/pop3/client.hpp"

#include <algorithm>
#include <memory>

#include <gtest/gtest.h>

#include "dialect_harness.hpp"
#include "otls/core/error.hpp"
#include "transcript.hpp"

namespace otls::proto::pop3 {
namespace {

using testing::transcript;

// Dovecot 2.3.19 (Debian 12) with its default disable_plaintext_auth, seen from another address.
constexpr std::string_view dovecot_greeting = "+OK Dovecot (Debian) ready.\r\n";
constexpr std::string_view dovecot_capa =
    "+OK\r\nCAPA\r\nTOP\r\nUIDL\r\nRESP-CODES\r\nPIPELINING\r\nAUTH-RESP-CODE\r\nSTLS\r\nSASL\r\n"
    ".\r\n";
constexpr std::string_view dovecot_stls = "+OK Begin TLS negotiation now.\r\n";
constexpr std::string_view dovecot_capa_after_tls =
    "+OK\r\nCAPA\r\nTOP\r\nUIDL\r\nRESP-CODES\r\nPIPELINING\r\nAUTH-RESP-CODE\r\nUSER\r\nSASL "
    "PLAIN\r\n.\r\n";

client_options opts(bool require_tls = true) {
  client_options o;
  o.require_tls = require_tls;
  return o;
}

// Greeting and CAPA with STLS: the client is about to send STLS.
transcript& to_stls(transcript& t) {
  return t.expect_need_more()
      .feed(dovecot_greeting)
      .expect_write("CAPA\r\n")
      .expect_need_more()
      .feed(dovecot_capa)
      .expect_write("STLS\r\n");
}

TEST(Pop3Client, FullUpgradeAgainstDovecot) {
  client c(opts());
  transcript t(c);
  to_stls(t)
      .expect_need_more()
      .feed(dovecot_stls)
      .expect_start_tls("")
      .tls_established()
      .expect_write("CAPA\r\n")
      .expect_need_more()
      .feed(dovecot_capa_after_tls)
      .expect_write("QUIT\r\n")
      .expect_need_more()
      .feed("+OK Logging out.\r\n")
      .expect_done();
  EXPECT_EQ(c.facts().banner, std::vector<std::string>{"Dovecot (Debian) ready."});
  EXPECT_TRUE(c.facts().starttls_offered);
  EXPECT_TRUE(c.facts().starttls_accepted);
  EXPECT_FALSE(c.facts().ended_in_plaintext);
  EXPECT_TRUE(c.facts().warnings.empty());
  EXPECT_EQ(c.facts().capabilities_before_tls,
            (std::vector<std::string>{"CAPA", "TOP", "UIDL", "RESP-CODES", "PIPELINING",
                                      "AUTH-RESP-CODE", "STLS", "SASL"}));
  // Rule 2: the post-TLS list comes from the fresh CAPA only.
  EXPECT_EQ(c.facts().capabilities_after_tls,
            (std::vector<std::string>{"CAPA", "TOP", "UIDL", "RESP-CODES", "PIPELINING",
                                      "AUTH-RESP-CODE", "USER", "SASL PLAIN"}));
  EXPECT_FALSE(c.capabilities_now().has("STLS"));
}

TEST(Pop3Client, CapabilitiesAreForgottenAtTheHandshake) {
  client c(opts());
  transcript t(c);
  to_stls(t).feed(dovecot_stls).expect_start_tls().tls_established();
  EXPECT_TRUE(c.capabilities_now().lines.empty());
  t.expect_write("CAPA\r\n").expect_need_more();
}

TEST(Pop3Client, OddCaseSpacingAndStuffing) {
  client c(opts());
  transcript(c)
      .feed("+ok hello\n")
      .expect_write("CAPA\r\n")
      .feed("+Ok\r\n..ODD\r\nuser\r\nstls   \r\n.\r\n")
      .expect_write("STLS\r\n")
      .feed("+oK go\r\n")
      .expect_start_tls();
  EXPECT_EQ(c.facts().capabilities_before_tls, (std::vector<std::string>{".ODD", "USER", "STLS"}));
  EXPECT_TRUE(c.facts().starttls_offered);
}

TEST(Pop3Client, ResponsesSplitAtEveryByte) {
  client c(opts());
  std::string all = std::string(dovecot_greeting) + std::string(dovecot_capa);
  transcript t(c);
  t.expect_need_more();
  for (std::size_t i = 0; i + 1 < dovecot_greeting.size(); ++i)
    t.feed(all.substr(i, 1)).expect_need_more();
  t.feed(all.substr(dovecot_greeting.size() - 1, 1)).expect_write("CAPA\r\n");
  for (std::size_t i = dovecot_greeting.size(); i + 1 < all.size(); ++i)
    t.feed(all.substr(i, 1)).expect_need_more();
  t.feed(all.substr(all.size() - 1)).expect_write("STLS\r\n");
}

TEST(Pop3Client, ServerClosingAfterQuitIsFine) {
  client c(opts());
  transcript t(c);
  to_stls(t)
      .feed(dovecot_stls)
      .expect_start_tls()
      .tls_established()
      .expect_write("CAPA\r\n")
      .feed(dovecot_capa_after_tls)
      .expect_write("QUIT\r\n")
      .expect_need_more()
      .eof()
      .expect_done();
}

TEST(Pop3Client, ResponseInjectionIsLeftOver) {
  // Rule 1: whatever follows the go-ahead is handed to the driver, which refuses to handshake.
  client c(opts());
  transcript t(c);
  to_stls(t)
      .feed("+OK Begin TLS\r\n+OK\r\nCAPA\r\nUSER\r\n.\r\n+OK par")
      .expect_start_tls("+OK\r\nCAPA\r\nUSER\r\n.\r\n+OK par");
}

TEST(Pop3Client, InjectionArrivingWithTheGoAheadLineIsLeftOverByteForByte) {
  client c(opts());
  transcript t(c);
  to_stls(t)
      .feed("+OK Begin TLS\r")
      .expect_need_more()
      .feed("\n-ERR x\n")
      .expect_start_tls("-ERR x\n");
}

TEST(Pop3Client, ErrGreetingIsServiceUnavailable) {
  client c(opts());
  transcript(c)
      .feed("-ERR [SYS/TEMP] too many connections\r\n")
      .expect_write("QUIT\r\n")
      .eof()
      .expect_fail(errc::service_unavailable);
  EXPECT_EQ(c.diag().peer_text, std::vector<std::string>{"-ERR [SYS/TEMP] too many connections"});
  EXPECT_EQ(c.facts().banner, std::vector<std::string>{"[SYS/TEMP] too many connections"});
}

TEST(Pop3Client, GarbageGreetingIsMalformed) {
  client c(opts());
  transcript(c).feed("220 smtp.example ESMTP\r\n").expect_fail(errc::malformed_reply);
  client d(opts());
  transcript(d)
      .feed(std::string_view("\x16\x03\x01\x02\x00\r\n", 7))
      .expect_fail(errc::malformed_reply);
}

TEST(Pop3Client, NoCapaStillTriesStls) {
  // RFC 2595 §4 allows STLS without CAPA; old servers answer CAPA with -ERR.
  client c(opts());
  transcript(c)
      .feed("+OK old pop ready\r\n")
      .expect_write("CAPA\r\n")
      .feed("-ERR unknown command\r\n")
      .expect_write("STLS\r\n")
      .feed("+OK go ahead\r\n")
      .expect_start_tls()
      .tls_established()
      .expect_write("CAPA\r\n")
      .feed("-ERR unknown command\r\n")
      .expect_write("QUIT\r\n")
      .feed("+OK bye\r\n")
      .expect_done();
  EXPECT_TRUE(c.facts().starttls_offered);  // accepted, hence offered in effect
  EXPECT_TRUE(c.facts().starttls_accepted);
  EXPECT_TRUE(c.facts().capabilities_before_tls.empty());
  EXPECT_TRUE(c.facts().capabilities_after_tls.empty());
}

TEST(Pop3Client, NoCapaAndNoStlsIsNotSupported) {
  client c(opts());
  transcript(c)
      .feed("+OK old\r\n")
      .expect_write("CAPA\r\n")
      .feed("-ERR what\r\n")
      .expect_write("STLS\r\n")
      .feed("-ERR what\r\n")
      .expect_write("QUIT\r\n")
      .feed("+OK\r\n")
      .expect_fail(errc::starttls_not_supported);
  EXPECT_FALSE(c.facts().starttls_offered);
  EXPECT_EQ(c.diag().peer_text, std::vector<std::string>{"-ERR what"});
}

TEST(Pop3Client, NoCapaAndNoStlsAtMayContinuesInPlaintext) {
  client c(opts(false));
  transcript(c)
      .feed("+OK old\r\n")
      .expect_write("CAPA\r\n")
      .feed("-ERR what\r\n")
      .expect_write("STLS\r\n")
      .feed("-ERR what\r\n")
      .expect_write("QUIT\r\n")
      .feed("+OK\r\n")
      .expect_done();
  EXPECT_TRUE(c.facts().ended_in_plaintext);
  ASSERT_EQ(c.facts().warnings.size(), 1u);
  EXPECT_NE(c.facts().warnings[0].find("neither CAPA nor STLS"), std::string::npos);
}

TEST(Pop3Client, CapaWithoutStlsWhenRequiredFails) {
  client c(opts());
  transcript(c)
      .feed(dovecot_greeting)
      .expect_write("CAPA\r\n")
      .feed("+OK\r\nUSER\r\nSASL PLAIN\r\n.\r\n")
      .expect_write("QUIT\r\n")
      .feed("+OK\r\n")
      .expect_fail(errc::starttls_not_supported);
  EXPECT_FALSE(c.facts().starttls_offered);
  EXPECT_FALSE(c.facts().ended_in_plaintext);
  EXPECT_EQ(c.facts().capabilities_before_tls, (std::vector<std::string>{"USER", "SASL PLAIN"}));
}

TEST(Pop3Client, CapaWithoutStlsAtMayContinuesInPlaintext) {
  client c(opts(false));
  transcript(c)
      .feed(dovecot_greeting)
      .expect_write("CAPA\r\n")
      .feed("+OK\r\nUSER\r\n.\r\n")
      .expect_write("QUIT\r\n")
      .feed("+OK\r\n")
      .expect_done();
  EXPECT_TRUE(c.facts().ended_in_plaintext);
  EXPECT_FALSE(c.facts().starttls_offered);
  ASSERT_EQ(c.facts().warnings.size(), 1u);
  EXPECT_NE(c.facts().warnings[0].find("PLAINTEXT"), std::string::npos);
}

class Pop3StlsRefusal : public ::testing::TestWithParam<const char*> {};

TEST_P(Pop3StlsRefusal, IsStarttlsRejectedWithPeerText) {
  client c(opts());
  transcript t(c);
  to_stls(t).feed(GetParam()).expect_write("QUIT\r\n").eof().expect_fail(errc::starttls_rejected);
  EXPECT_TRUE(c.facts().starttls_offered);
  EXPECT_FALSE(c.facts().starttls_accepted);
  ASSERT_EQ(c.diag().peer_text.size(), 1u);
  EXPECT_EQ(c.diag().peer_text[0] + "\r\n", std::string(GetParam()));
}

INSTANTIATE_TEST_SUITE_P(Replies, Pop3StlsRefusal,
                         ::testing::Values("-ERR TLS support isn't enabled.\r\n",
                                           "-ERR Command not permitted when TLS active\r\n",
                                           "-ERR [SYS/TEMP] try later\r\n", "-ERR\r\n"));

TEST(Pop3Client, StlsRefusedAtMayContinuesInPlaintext) {
  client c(opts(false));
  transcript t(c);
  to_stls(t)
      .feed("-ERR TLS support isn't enabled.\r\n")
      .expect_write("QUIT\r\n")
      .feed("+OK Logging out\r\n")
      .expect_done();
  EXPECT_TRUE(c.facts().starttls_offered);
  EXPECT_FALSE(c.facts().starttls_accepted);
  EXPECT_TRUE(c.facts().ended_in_plaintext);
  EXPECT_EQ(c.diag().peer_text, std::vector<std::string>{"-ERR TLS support isn't enabled."});
  ASSERT_EQ(c.facts().warnings.size(), 1u);
  EXPECT_NE(c.facts().warnings[0].find("-ERR TLS support isn't enabled."), std::string::npos);
}

TEST(Pop3Client, CapaRefusedAfterTlsWhenItWorkedBeforeIsUnexpected) {
  client c(opts());
  transcript t(c);
  to_stls(t)
      .feed(dovecot_stls)
      .expect_start_tls()
      .tls_established()
      .expect_write("CAPA\r\n")
      .feed("-ERR no\r\n")
      .expect_write("QUIT\r\n")
      .eof()
      .expect_fail(errc::unexpected_reply);
}

TEST(Pop3Client, OversizedLineFails) {
  client c(opts());
  transcript(c).feed("+OK " + std::string(100'000, 'x')).expect_fail(core::errc::line_too_long);
}

TEST(Pop3Client, EndlessCapaListIsMalformed) {
  client c(opts());
  std::string capa = "+OK\r\n";
  for (int i = 0; i < 300; ++i) capa += "X-" + std::to_string(i) + "\r\n";
  transcript(c)
      .feed(dovecot_greeting)
      .expect_write("CAPA\r\n")
      .feed(capa)
      .expect_fail(errc::malformed_reply);
}

TEST(Pop3Client, CloseMidCapa) {
  client c(opts());
  transcript(c)
      .feed(dovecot_greeting)
      .expect_write("CAPA\r\n")
      .feed("+OK\r\nUSER\r\n")
      .expect_need_more()
      .eof()
      .expect_fail(errc::unexpected_close);
  EXPECT_NE(c.diag().detail.find("middle of a response"), std::string::npos);
}

TEST(Pop3Client, CloseBeforeGreeting) {
  client c(opts());
  transcript(c).expect_need_more().eof().expect_fail(errc::unexpected_close);
}

TEST(Pop3Client, ImplicitTlsSkipsStls) {
  client_options o = opts();
  o.implicit_tls = true;
  client c(o);
  transcript(c)
      .feed(dovecot_greeting)
      .expect_write("CAPA\r\n")
      .feed(dovecot_capa_after_tls)
      .expect_write("QUIT\r\n")
      .feed("+OK\r\n")
      .expect_done();
  EXPECT_TRUE(c.facts().capabilities_before_tls.empty());
  EXPECT_EQ(c.facts().capabilities_after_tls.size(), 8u);
  EXPECT_FALSE(c.facts().starttls_offered);
}

TEST(Pop3Client, ImplicitTlsWithoutCapaIsFine) {
  client_options o = opts();
  o.implicit_tls = true;
  client c(o);
  transcript(c)
      .feed(dovecot_greeting)
      .expect_write("CAPA\r\n")
      .feed("-ERR no CAPA here\r\n")
      .expect_write("QUIT\r\n")
      .eof()
      .expect_done();
}

// Fail-count sweep: replace the server's k-th response with a fault and require that the client
// ends in `fail` (never `done`, never waiting forever) for every k, at both levels.
TEST(Pop3Client, FailCountSweep) {
  const std::vector<std::string> script{std::string(dovecot_greeting), std::string(dovecot_capa),
                                        std::string(dovecot_stls),
                                        std::string(dovecot_capa_after_tls)};
  const std::vector<std::string> faults{"",         "garbage\r\n",           "-ERR no\r\n",
                                        "+OK part", "+OK\r\nUNFINISHED\r\n", "\x80\xff\r\n"};
  for (bool require_tls : {true, false}) {
    testing::sweep_options o;
    o.label = require_tls ? "(require_tls)" : "(may)";
    // Bytes after the go-ahead make the driver refuse the handshake (rule 1).
    o.leftover_ends_session = true;
    // At level may a refused or missing STLS legitimately ends in plaintext; it must still end.
    if (!require_tls) {
      o.may_complete = [](std::size_t k, const std::string& fault) {
        return k == 2 && fault == "-ERR no\r\n";
      };
    }
    testing::fail_count_sweep([&] { return std::make_unique<client>(opts(require_tls)); }, script,
                              faults, o);
  }
}

}  // namespace
}  // namespace otls::proto::pop3
