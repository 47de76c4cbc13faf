// NNTP server role as transcripts (RFC 3977, RFC 4642 §2.2, RFC 4643 §2.1-2.2), and the client
// role run against it in memory.
#include "otls/proto/nntp/server.hpp"

#include <gtest/gtest.h>

#include <regex>

#include "dialect_harness.hpp"
#include "otls/proto/nntp/client.hpp"
#include "transcript.hpp"

namespace otls::proto::nntp {
namespace {

using testing::transcript;

constexpr std::string_view greeting = "200 news.test NNTP service ready (posting ok)\r\n";
constexpr std::string_view caps_before_tls =
    "101 Capability list:\r\nVERSION 2\r\nIMPLEMENTATION otls\r\nREADER\r\nSTARTTLS\r\n"
    "AUTHINFO USER\r\n.\r\n";
constexpr std::string_view caps_after_tls =
    "101 Capability list:\r\nVERSION 2\r\nIMPLEMENTATION otls\r\nREADER\r\nAUTHINFO USER\r\n.\r\n";

server_options opts(bool required = false) {
  server_options o;
  o.hostname = "news.test";
  o.starttls_required = required;
  o.max_errors = 5;
  return o;
}

TEST(NntpServer, GreetsAndAdvertisesStarttlsOnlyBeforeTls) {
  server s(opts());
  transcript(s)
      .expect_write(greeting)
      .expect_need_more()
      .feed("capabilities\r\n")
      .expect_write(caps_before_tls)
      .feed("STARTTLS\r\n")
      .expect_write("382 Continue with TLS negotiation\r\n")
      .expect_start_tls("")
      .tls_established()
      .expect_need_more()
      .feed("CAPABILITIES\r\n")
      .expect_write(caps_after_tls)
      // RFC 4642 §2.2.2: a second STARTTLS inside TLS is 502.
      .feed("STARTTLS\r\n")
      .expect_write("502 Command unavailable\r\n")
      .feed("QUIT\r\n")
      .expect_write("205 Connection closing\r\n")
      .expect_done();
  EXPECT_TRUE(s.tls_active());
}

TEST(NntpServer, PipelinedCommandsAfterStarttlsAreLeftOverNotExecuted) {
  server s(opts());
  transcript(s)
      .expect_write(greeting)
      .feed("STARTTLS\r\nAUTHINFO USER evil\r\nAUTHINFO PASS x\r\n")
      .expect_write("382 Continue with TLS negotiation\r\n")
      .expect_start_tls("AUTHINFO USER evil\r\nAUTHINFO PASS x\r\n")
      .tls_established()
      .expect_need_more()  // nothing left to answer inside TLS
      .feed("DATE\r\n")
      .expect_write_containing("111 ");
}

TEST(NntpServer, PipelinedHalfLineIsLeftOverToo) {
  server s(opts());
  transcript(s)
      .expect_write(greeting)
      .feed("STARTTLS\r\nQUI")
      .expect_write("382 Continue with TLS negotiation\r\n")
      .expect_start_tls("QUI")
      .tls_established()
      .feed("T\r\n")  // not joined with the plaintext "QUI"
      .expect_write("500 Unknown command\r\n");
}

TEST(NntpServer, StarttlsWithArgumentsIs501) {
  server s(opts());
  transcript(s)
      .expect_write(greeting)
      .feed("STARTTLS now\r\n")
      .expect_write("501 Syntax: STARTTLS takes no arguments\r\n");
}

TEST(NntpServer, NoTlsAvailableIs580AndNotAdvertised) {
  server_options o = opts();
  o.tls_available = false;
  server s(o);
  transcript t(s);
  t.expect_write(greeting).feed("CAPABILITIES\r\n").expect_write_containing("101 ");
  EXPECT_EQ(t.last_write().find("STARTTLS"), std::string::npos);
  t.feed("STARTTLS\r\n").expect_write("580 Can not initiate TLS negotiation\r\n");
}

TEST(NntpServer, StarttlsRequiredRefusesAuthinfoUntilTls) {
  server s(opts(true));
  transcript t(s);
  t.expect_write(greeting).feed("CAPABILITIES\r\n").expect_write_containing("STARTTLS\r\n");
  // RFC 4643 §2.1: a bare AUTHINFO before TLS, the USER variant after.
  EXPECT_NE(t.last_write().find("\r\nAUTHINFO\r\n"), std::string::npos);
  EXPECT_EQ(t.last_write().find("AUTHINFO USER"), std::string::npos);
  t.feed("AUTHINFO USER alice\r\n")
      .expect_write("483 Encryption or stronger authentication required\r\n")
      .feed("authinfo pass secret\r\n")
      .expect_write("483 Encryption or stronger authentication required\r\n")
      // Harmless commands stay available.
      .feed("MODE READER\r\n")
      .expect_write("200 Reader mode, posting ok\r\n")
      .feed("DATE\r\n")
      .expect_write_containing("111 ")
      .feed("STARTTLS\r\n")
      .expect_write("382 Continue with TLS negotiation\r\n")
      .expect_start_tls()
      .tls_established()
      .feed("CAPABILITIES\r\n")
      .expect_write(caps_after_tls)
      .feed("AUTHINFO USER alice\r\n")
      .expect_write("481 Authentication failed\r\n");
}

TEST(NntpServer, AuthinfoWithoutRequirement) {
  server s(opts(false));
  transcript(s)
      .expect_write(greeting)
      .feed("AUTHINFO USER alice\r\n")
      .expect_write("481 Authentication failed\r\n")
      .feed("AUTHINFO SASL PLAIN\r\n")
      .expect_write("503 Mechanism not recognized\r\n")
      .feed("AUTHINFO\r\n")
      .expect_write("501 Syntax: AUTHINFO USER name|PASS password\r\n");
}

TEST(NntpServer, ModeReaderDateHelp) {
  server s(opts());
  transcript t(s);
  t.expect_write(greeting)
      .feed("mode reader\r\n")
      .expect_write("200 Reader mode, posting ok\r\n")
      .feed("MODE STREAM\r\n")
      .expect_write("501 Syntax: MODE READER\r\n")
      .feed("DATE\r\n")
      .expect_write_containing("111 ");
  EXPECT_TRUE(std::regex_match(t.last_write(), std::regex("111 20[0-9]{12}\r\n")))
      << t.last_write();
  t.feed("HELP\r\n").expect_write_containing("100 Help text follows\r\n");
  const std::string help = t.last_write();
  EXPECT_EQ(help.substr(help.size() - 5), "\r\n.\r\n");
  EXPECT_NE(help.find("  STARTTLS\r\n"), std::string::npos);
  t.feed("HELP me\r\n").expect_write("501 Syntax: HELP\r\n");
}

TEST(NntpServer, CapabilitiesKeywordArgument) {
  // RFC 3977 §5.2.2: an unknown keyword is ignored, a non-keyword is a syntax error.
  server s(opts());
  transcript(s)
      .expect_write(greeting)
      .feed("CAPABILITIES AUTOUPDATE\r\n")
      .expect_write(caps_before_tls)
      .feed("CAPABILITIES x y\r\n")
      .expect_write("501 Syntax: CAPABILITIES [keyword]\r\n");
}

TEST(NntpServer, BareLfAndTabsAccepted) {
  server s(opts());
  transcript(s)
      .expect_write(greeting)
      .feed("MODE\tREADER\n")
      .expect_write("200 Reader mode, posting ok\r\n")
      .feed("QUIT\n")
      .expect_write("205 Connection closing\r\n")
      .expect_done();
}

TEST(NntpServer, UnknownAndGarbageCommandsAre500ThenTooManyErrors) {
  server s(opts());
  transcript t(s);
  t.expect_write(greeting);
  for (int i = 0; i < 4; ++i)
    t.feed(i % 2 ? "XYZZY\r\n" : "\x16\x03\x01\r\n").expect_write("500 Unknown command\r\n");
  t.feed("BOGUS\r\n")
      .expect_write("400 news.test too many errors, closing connection\r\n")
      .expect_fail(errc::too_many_errors);
  transcript(s).expect_fail(errc::too_many_errors);  // stays failed
}

TEST(NntpServer, RefusalsCountAsErrors) {
  server_options o = opts(true);
  o.max_errors = 3;
  o.tls_available = false;
  server s(o);
  transcript(s)
      .expect_write(greeting)
      .feed("STARTTLS\r\n")
      .expect_write("580 Can not initiate TLS negotiation\r\n")
      .feed("AUTHINFO USER a\r\n")
      .expect_write("483 Encryption or stronger authentication required\r\n")
      .feed("STARTTLS x\r\n")
      .expect_write("400 news.test too many errors, closing connection\r\n")
      .expect_fail(errc::too_many_errors);
}

TEST(NntpServer, OversizedLineIsRefusedAndClosed) {
  server s(opts());
  transcript(s)
      .expect_write(greeting)
      .feed(std::string(100'000, 'A'))
      .expect_write("400 news.test line too long, closing connection\r\n")
      .expect_fail(core::errc::line_too_long);
}

TEST(NntpServer, LongestCommandLineIsAccepted) {
  server s(opts());
  transcript(s)
      .expect_write(greeting)
      .feed("X" + std::string(max_command_line - 1, 'Y') + "\r\n")
      .expect_write("500 Unknown command\r\n")
      .feed("X" + std::string(max_command_line, 'Y') + "\r\n")
      .expect_write("400 news.test line too long, closing connection\r\n")
      .expect_fail(core::errc::line_too_long);
}

TEST(NntpServer, EofBetweenCommandsIsACleanEndButMidCommandIsNot) {
  server a(opts());
  transcript(a).expect_write(greeting).eof().expect_done();
  server b(opts());
  transcript(b).expect_write(greeting).feed("CAPABILI").eof().expect_fail(errc::unexpected_close);
}

TEST(NntpServer, ImplicitTlsNeverOffersStarttls) {
  server_options o = opts(true);
  o.implicit_tls = true;
  server s(o);
  transcript(s)
      .expect_write(greeting)
      .feed("CAPABILITIES\r\n")
      .expect_write(caps_after_tls)
      .feed("STARTTLS\r\n")
      .expect_write("502 Command unavailable\r\n")
      .feed("AUTHINFO USER a\r\n")
      .expect_write("481 Authentication failed\r\n");
}

// Our client against our server when the server offers no upgrade.
TEST(NntpRoundTrip, NoTlsServerFailsAtVerifyAndWarnsAtMay) {
  testing::expect_no_offer_handled<client, server>(opts());
}

}  // namespace
}  // namespace otls::proto::nntp
