// ManageSieve server role as transcripts (RFC 5804 §1.7, §2.2, §2.12), and the client role run
// against it in memory.
#include "otls/proto/sieve/server.hpp"

#include <gtest/gtest.h>

#include "dialect_harness.hpp"
#include "otls/proto/sieve/client.hpp"
#include "transcript.hpp"

namespace otls::proto::sieve {
namespace {

using testing::transcript;

constexpr std::string_view caps_before_tls =
    "\"IMPLEMENTATION\" \"otls\"\r\n\"SIEVE\" \"\"\r\n\"SASL\" \"\"\r\n\"STARTTLS\"\r\n"
    "\"VERSION\" \"1.0\"\r\n";
constexpr std::string_view caps_in_tls =
    "\"IMPLEMENTATION\" \"otls\"\r\n\"SIEVE\" \"\"\r\n\"SASL\" \"PLAIN\"\r\n\"VERSION\" "
    "\"1.0\"\r\n";
const std::string greeting =
    std::string(caps_before_tls) + "OK \"sieve.test ManageSieve ready\"\r\n";

server_options opts(bool required = false) {
  server_options o;
  o.hostname = "sieve.test";
  o.starttls_required = required;
  o.max_errors = 5;
  return o;
}

TEST(SieveServer, GreetsUpgradesAndResendsCapabilitiesUnasked) {
  server s(opts());
  transcript(s)
      .expect_write(greeting)
      .expect_need_more()
      .feed("CAPABILITY\r\n")
      .expect_write(std::string(caps_before_tls) + "OK \"Capability completed\"\r\n")
      .feed("STARTTLS\r\n")
      .expect_write("OK \"Begin TLS negotiation now\"\r\n")
      .expect_start_tls("")
      .tls_established()
      .expect_write(std::string(caps_in_tls) + "OK \"TLS negotiation successful\"\r\n")
      .expect_need_more()
      .feed("StartTLS\r\n")
      .expect_write("NO \"TLS is already active\"\r\n")
      .feed("CAPABILITY\r\n")
      .expect_write(std::string(caps_in_tls) + "OK \"Capability completed\"\r\n")
      .feed("LOGOUT\r\n")
      .expect_write("OK \"Bye\"\r\n")
      .expect_done();
  EXPECT_TRUE(s.tls_active());
}

TEST(SieveServer, PipelinedCommandsAfterStarttlsAreLeftOverNotExecuted) {
  server s(opts());
  transcript(s)
      .expect_write(greeting)
      .feed("STARTTLS\r\nAUTHENTICATE \"PLAIN\" \"AGEAYg==\"\r\nLOGOUT\r\nNOO")
      .expect_write("OK \"Begin TLS negotiation now\"\r\n")
      .expect_start_tls("AUTHENTICATE \"PLAIN\" \"AGEAYg==\"\r\nLOGOUT\r\nNOO")
      .tls_established()
      .expect_write(std::string(caps_in_tls) + "OK \"TLS negotiation successful\"\r\n")
      .expect_need_more()  // the pipelined commands are gone: nothing is answered inside TLS
      .feed("NOOP\r\n")
      .expect_write("OK \"Done\"\r\n");
}

TEST(SieveServer, NoopEchoesItsTag) {
  server s(opts());
  transcript(s)
      .expect_write(greeting)
      .feed("noop \"STARTTLS-RESYNC-CAPA\"\r\n")
      .expect_write("OK (TAG \"STARTTLS-RESYNC-CAPA\") \"Done\"\r\n")
      .feed("NOOP {3+}\r\na\"b\r\n")
      .expect_write("OK (TAG \"a\\\"b\") \"Done\"\r\n")
      .feed("NOOP x y\r\n")
      .expect_write("NO \"Syntax: NOOP [tag]\"\r\n");
}

TEST(SieveServer, StarttlsWithArgumentsOrUnavailable) {
  server s(opts());
  transcript(s)
      .expect_write(greeting)
      .feed("STARTTLS now\r\n")
      .expect_write("NO \"Syntax: STARTTLS takes no arguments\"\r\n");
  server_options o = opts();
  o.tls_available = false;
  server u(o);
  transcript t(u);
  t.expect_write_containing("\"SASL\" \"PLAIN\"\r\n");
  EXPECT_EQ(t.last_write().find("STARTTLS"), std::string::npos);
  t.feed("STARTTLS\r\n").expect_write("NO \"TLS is not available\"\r\n");
}

TEST(SieveServer, AuthenticateIsRefusedWithEncryptNeededWhenTlsIsRequired) {
  server s(opts(true));
  transcript(s)
      .expect_write(greeting)
      .feed("AUTHENTICATE \"PLAIN\" \"AGEAYg==\"\r\n")
      .expect_write(
          "NO (ENCRYPT-NEEDED) \"Authentication is not permitted without TLS: use STARTTLS\"\r\n")
      .feed("STARTTLS\r\n")
      .expect_write("OK \"Begin TLS negotiation now\"\r\n")
      .expect_start_tls()
      .tls_established()
      .expect_write_containing("\"SASL\" \"PLAIN\"")
      .feed("AUTHENTICATE \"PLAIN\" \"AGEAYg==\"\r\n")
      .expect_write("NO \"Authentication failed\"\r\n");
}

TEST(SieveServer, ScriptCommandsNeedALogin) {
  server s(opts());
  transcript(s)
      .expect_write(greeting)
      .feed("LISTSCRIPTS\r\n")
      .expect_write("NO \"Authenticate first\"\r\n")
      .feed("PUTSCRIPT \"evil\" {10+}\r\nSTARTTLS\r\n\r\n")
      .expect_write("NO \"Authenticate first\"\r\n")  // the literal's STARTTLS is data
      .expect_need_more();
}

TEST(SieveServer, UnknownGarbageAndTooManyErrors) {
  server s(opts());
  transcript(s)
      .expect_write(greeting)
      .feed("XYZZY\r\n")
      .expect_write("NO \"Unknown command\"\r\n")
      .feed("\"STRING\" first\r\n")
      .expect_write("NO \"Syntax error: a command name was expected\"\r\n")
      .feed("NOOP \"bad\\q\"\r\n")
      .expect_write_containing("NO \"Syntax error: ")
      .feed("\x16\x03\x01\x02\r\n")
      .expect_write("NO \"Syntax error: control character in a line\"\r\n")
      .feed("\r\n")
      .expect_write("BYE \"Too many errors\"\r\n")
      .expect_fail(errc::too_many_errors);
}

TEST(SieveServer, SyntaxErrorSkipsOnlyItsLine) {
  server s(opts());
  transcript(s)
      .expect_write(greeting)
      .feed("NOOP \"cr\rx\" junk\r\nNOOP\r\n")
      .expect_write("NO \"Syntax error: CR, LF or NUL inside a quoted string\"\r\n")
      .expect_write("OK \"Done\"\r\n");
}

TEST(SieveServer, OversizedLineOrLiteralCloses) {
  server a(opts());
  transcript(a)
      .expect_write(greeting)
      .feed(std::string(20'000, 'A'))
      .expect_write_containing("BYE \"a line is longer than")
      .expect_fail(core::errc::line_too_long);
  server b(opts());
  transcript(b)
      .expect_write(greeting)
      .feed("PUTSCRIPT \"x\" {100000000+}\r\n")
      .expect_write_containing("BYE \"a literal of 100000000 octets exceeds")
      .expect_fail(core::errc::line_too_long);
}

TEST(SieveServer, BareLfAndCaseAccepted) {
  server s(opts());
  transcript(s)
      .expect_write(greeting)
      .feed("noop\n")
      .expect_write("OK \"Done\"\r\n")
      .feed("logout\n")
      .expect_write("OK \"Bye\"\r\n")
      .expect_done();
}

TEST(SieveServer, EofBetweenCommandsIsCleanButMidCommandIsNot) {
  server a(opts());
  transcript(a).expect_write(greeting).eof().expect_done();
  server b(opts());
  transcript(b)
      .expect_write(greeting)
      .feed("PUTSCRIPT \"x\" {5+}\r\nab")
      .eof()
      .expect_fail(errc::unexpected_close);
}

TEST(SieveServer, ImplicitTlsNeverOffersStarttls) {
  server_options o = opts();
  o.implicit_tls = true;
  server s(o);
  transcript(s)
      .expect_write(std::string(caps_in_tls) + "OK \"sieve.test ManageSieve ready\"\r\n")
      .feed("STARTTLS\r\n")
      .expect_write("NO \"TLS is already active\"\r\n");
}

using testing::run_pair;

TEST(SieveRoundTrip, ClientUpgradesAgainstOurServer) {
  for (bool required : {false, true}) {
    client c(client_options{});
    server s(opts(required));
    const auto r = run_pair(c, s);
    EXPECT_EQ(r.client_end, action::kind::done);
    EXPECT_EQ(r.server_end, action::kind::done);
    EXPECT_TRUE(c.facts().starttls_accepted);
    EXPECT_EQ(c.facts().banner, std::vector<std::string>{"sieve.test ManageSieve ready"});
    EXPECT_EQ(
        c.facts().capabilities_after_tls,
        (std::vector<std::string>{"IMPLEMENTATION otls", "SIEVE", "SASL PLAIN", "VERSION 1.0"}));
  }
}

TEST(SieveRoundTrip, NoTlsServerFailsAtVerifyAndWarnsAtMay) {
  testing::expect_no_offer_handled<client, server>(opts());
}

}  // namespace
}  // namespace otls::proto::sieve
