// POP3 server role as transcripts (RFC 1939, RFC 2449 CAPA, RFC 2595 §4 STLS, RFC 3206), and the
// client role run against it in memory.
#include "otls/proto/pop3/server.hpp"

#include <gtest/gtest.h>

#include "dialect_harness.hpp"
#include "otls/proto/pop3/client.hpp"
#include "transcript.hpp"

namespace otls::proto::pop3 {
namespace {

using testing::transcript;

constexpr std::string_view greeting = "+OK pop.test POP3 ready\r\n";
constexpr std::string_view capa_plain =
    "+OK Capability list follows\r\nCAPA\r\nRESP-CODES\r\nAUTH-RESP-CODE\r\nSTLS\r\nUSER\r\n.\r\n";
constexpr std::string_view capa_tls =
    "+OK Capability list follows\r\nCAPA\r\nRESP-CODES\r\nAUTH-RESP-CODE\r\nUSER\r\nSASL "
    "PLAIN\r\n.\r\n";

server_options opts(bool required = false) {
  server_options o;
  o.hostname = "pop.test";
  o.starttls_required = required;
  o.max_errors = 5;
  return o;
}

TEST(Pop3Server, GreetsAndAdvertisesStlsOnlyBeforeTls) {
  server s(opts());
  transcript(s)
      .expect_write(greeting)
      .expect_need_more()
      .feed("CAPA\r\n")
      .expect_write(capa_plain)
      .feed("STLS\r\n")
      .expect_write("+OK Begin TLS negotiation\r\n")
      .expect_start_tls("")
      .tls_established()
      .expect_need_more()
      .feed("CAPA\r\n")
      .expect_write(capa_tls)
      .feed("STLS\r\n")
      .expect_write("-ERR Command not permitted when TLS active\r\n")
      .feed("QUIT\r\n")
      .expect_write("+OK pop.test POP3 signing off\r\n")
      .expect_done();
  EXPECT_TRUE(s.tls_active());
}

TEST(Pop3Server, PipelinedCommandsAfterStlsAreLeftOverNotExecuted) {
  server s(opts());
  transcript(s)
      .expect_write(greeting)
      .feed("STLS\r\nUSER evil\r\nPASS x\r\nCAPA\r\n")
      .expect_write("+OK Begin TLS negotiation\r\n")
      .expect_start_tls("USER evil\r\nPASS x\r\nCAPA\r\n")
      .tls_established()
      .expect_need_more()  // nothing left to answer inside TLS
      .feed("NOOP\r\n")
      .expect_write("+OK\r\n");
}

TEST(Pop3Server, PartialPipelinedLineIsLeftOverToo) {
  server s(opts());
  transcript(s)
      .expect_write(greeting)
      .feed("STLS\r\nCA")
      .expect_write("+OK Begin TLS negotiation\r\n")
      .expect_start_tls("CA")
      .tls_established()
      .feed("PA\r\n")
      .expect_write("-ERR Unknown command\r\n");
}

TEST(Pop3Server, StlsWithArgumentsIsRefused) {
  server s(opts());
  transcript(s)
      .expect_write(greeting)
      .feed("STLS now\r\n")
      .expect_write("-ERR STLS takes no arguments\r\n");
}

TEST(Pop3Server, NoTlsAvailable) {
  server_options o = opts();
  o.tls_available = false;
  server s(o);
  transcript t(s);
  t.expect_write(greeting).feed("CAPA\r\n").expect_write_containing("USER\r\n.\r\n");
  EXPECT_EQ(t.last_write().find("STLS"), std::string::npos);
  t.feed("STLS\r\n").expect_write("-ERR TLS not available\r\n");
}

TEST(Pop3Server, StarttlsRequiredRefusesLoginBeforeTls) {
  server s(opts(true));
  transcript t(s);
  t.expect_write(greeting)
      .feed("CAPA\r\n")
      .expect_write(
          "+OK Capability list follows\r\nCAPA\r\nRESP-CODES\r\nAUTH-RESP-CODE\r\nSTLS\r\n.\r\n");
  for (std::string_view cmd :
       {"USER alice\r\n", "PASS secret\r\n", "APOP alice abc\r\n", "AUTH PLAIN\r\n"})
    t.feed(cmd).expect_write("-ERR [AUTH] Command not permitted without TLS\r\n");
  // The fifth error closes; start again to see the upgraded side.
  server u(opts(true));
  transcript(u)
      .expect_write(greeting)
      .feed("NOOP\r\n")
      .expect_write("+OK\r\n")
      .feed("stls\r\n")
      .expect_write("+OK Begin TLS negotiation\r\n")
      .expect_start_tls()
      .tls_established()
      .feed("CAPA\r\n")
      .expect_write(capa_tls)
      .feed("USER alice\r\n")
      .expect_write("-ERR [AUTH] Authentication failed\r\n");
}

TEST(Pop3Server, LoginIsRefusedWithoutAMailStore) {
  server s(opts());
  transcript(s)
      .expect_write(greeting)
      .feed("USER alice\r\n")
      .expect_write("-ERR [AUTH] Authentication failed\r\n")
      .feed("AUTH\r\n")
      .expect_write("-ERR [AUTH] Authentication failed\r\n");
}

TEST(Pop3Server, CaseInsensitiveCommandsAndBareLf) {
  server s(opts());
  transcript(s)
      .expect_write(greeting)
      .feed("noop\n")
      .expect_write("+OK\r\n")
      .feed("cApA\r\n")
      .expect_write(capa_plain)
      .feed("quit\n")
      .expect_write("+OK pop.test POP3 signing off\r\n")
      .expect_done();
}

TEST(Pop3Server, UnknownAndGarbageThenTooManyErrors) {
  server s(opts());
  transcript t(s);
  t.expect_write(greeting);
  for (int i = 0; i < 4; ++i)
    t.feed(i % 2 ? "XYZZY\r\n" : "\x16\x03\x01\r\n").expect_write("-ERR Unknown command\r\n");
  t.feed("\r\n").expect_write("-ERR too many errors\r\n").expect_fail(errc::too_many_errors);
}

TEST(Pop3Server, OversizedLineIsRefusedAndClosed) {
  server s(opts());
  transcript(s)
      .expect_write(greeting)
      .feed(std::string(5000, 'A'))
      .expect_write("-ERR line too long\r\n")
      .expect_fail(core::errc::line_too_long);
}

TEST(Pop3Server, FloodOfPipelinedLinesIsRefused) {
  server s(opts());
  std::string flood;
  while (flood.size() < 200'000) flood += "NOOP\r\n";
  transcript(s)
      .expect_write(greeting)
      .feed(flood)
      .expect_write("-ERR too much input\r\n")
      .expect_fail(core::errc::buffer_limit);
}

TEST(Pop3Server, EofBetweenCommandsIsCleanButMidCommandIsNot) {
  server a(opts());
  transcript(a).expect_write(greeting).eof().expect_done();
  server b(opts());
  transcript(b).expect_write(greeting).feed("CAP").eof().expect_fail(errc::unexpected_close);
}

TEST(Pop3Server, ImplicitTlsNeverOffersStls) {
  server_options o = opts();
  o.implicit_tls = true;
  server s(o);
  transcript(s)
      .expect_write(greeting)
      .feed("CAPA\r\n")
      .expect_write(capa_tls)
      .feed("STLS\r\n")
      .expect_write("-ERR Command not permitted when TLS active\r\n");
}

using testing::run_pair;

TEST(Pop3RoundTrip, ClientUpgradesAgainstOurServer) {
  for (bool required : {false, true}) {
    client c(client_options{});
    server s(opts(required));
    const auto r = run_pair(c, s);
    EXPECT_EQ(r.client_end, action::kind::done);
    EXPECT_EQ(r.server_end, action::kind::done);
    EXPECT_TRUE(c.facts().starttls_accepted);
    EXPECT_EQ(c.facts().banner, std::vector<std::string>{"pop.test POP3 ready"});
    EXPECT_EQ(
        c.facts().capabilities_after_tls,
        (std::vector<std::string>{"CAPA", "RESP-CODES", "AUTH-RESP-CODE", "USER", "SASL PLAIN"}));
  }
}

TEST(Pop3RoundTrip, NoTlsServerFailsAtVerifyAndWarnsAtMay) {
  testing::expect_no_offer_handled<client, server>(opts());
}

}  // namespace
}  // namespace otls::proto::pop3
