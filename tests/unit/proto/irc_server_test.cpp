// IRC server role as transcripts (IRCv3 tls extension, capability negotiation 3.2, RFC 2812):
// no greeting (openssl s_client -starttls irc gives up on one), CAP LS offering tls before TLS
// only, STARTTLS → 670, pipelined bytes left over for the driver to discard, 691 refusals,
// registration, and our client against it.
#include "otls/proto/irc/server.hpp"

#include <gtest/gtest.h>

#include "dialect_harness.hpp"
#include "otls/proto/irc/client.hpp"
#include "otls/proto/irc/offer_stripper.hpp"
#include "transcript.hpp"

namespace otls::proto::irc {
namespace {

using testing::transcript;

server_options opts() {
  server_options o;
  o.hostname = "irc.test";
  return o;
}

TEST(IrcServer, OffersTlsOnlyBeforeTls) {
  server s(opts());
  transcript(s)
      .expect_need_more()
      .feed("CAP LS 302\r\n")
      .expect_write(":irc.test CAP * LS :tls\r\n")
      .feed("STARTTLS\r\n")
      .expect_write(":irc.test 670 * :STARTTLS successful, proceed with TLS handshake\r\n")
      .expect_start_tls("")
      .tls_established()
      .expect_need_more()
      .feed("CAP LS 302\r\n")
      .expect_write(":irc.test CAP * LS :\r\n")
      .feed("STARTTLS\r\n")
      .expect_write(":irc.test 691 * :STARTTLS failure (TLS already active)\r\n")
      .feed("CAP END\r\nQUIT\r\n")
      .expect_write("ERROR :Closing link: (Quit)\r\n")
      .expect_done();
}

TEST(IrcServer, PipelinedCommandsAfterStarttlsAreLeftOverNotExecuted) {
  server s(opts());
  transcript(s)
      .feed("STARTTLS\r\nNICK evil\r\nUSER a 0 * :b\r\nPRIVMSG x :y")
      .expect_write(":irc.test 670 * :STARTTLS successful, proceed with TLS handshake\r\n")
      .expect_start_tls("NICK evil\r\nUSER a 0 * :b\r\nPRIVMSG x :y")
      .tls_established()
      .expect_need_more();
}

TEST(IrcServer, PlaintextNickAndUserAreForgottenAtTheUpgrade) {
  // DESIGN.md rule 2: NICK/USER sent before STARTTLS (an injector's, perhaps) do not register
  // the client inside TLS; CAP END alone registers nobody, and a fresh NICK/USER does.
  server s(opts());
  transcript(s)
      .feed("CAP LS 302\r\nNICK evil\r\nUSER evil 0 * :Evil\r\n")
      .expect_write(":irc.test CAP * LS :tls\r\n")
      .expect_need_more()
      .feed("STARTTLS\r\n")
      .expect_write(":irc.test 670 evil :STARTTLS successful, proceed with TLS handshake\r\n")
      .expect_start_tls("")
      .tls_established()
      .feed("CAP END\r\n")
      .expect_need_more()
      .feed("NICK alice\r\nUSER alice 0 * :Alice\r\n")
      .expect_write(
          ":irc.test 001 alice :Welcome to the otls IRC test server alice\r\n"
          ":irc.test 422 alice :MOTD File is missing\r\n");
}

TEST(IrcServer, NoTlsAvailable) {
  server_options o = opts();
  o.tls_available = false;
  server s(o);
  transcript(s)
      .feed("CAP LS\r\n")
      .expect_write(":irc.test CAP * LS :\r\n")
      .feed("STARTTLS\r\n")
      .expect_write(":irc.test 691 * :STARTTLS not available\r\n")
      .expect_need_more();
}

TEST(IrcServer, RegistrationWaitsForCapEndAndThenRefusesStarttls) {
  server s(opts());
  transcript(s)
      .feed("CAP LS 302\r\nNICK alice\r\nUSER alice 0 * :Alice\r\n")
      .expect_write(":irc.test CAP * LS :tls\r\n")
      .expect_need_more()
      .feed("CAP END\n")
      .expect_write(
          ":irc.test 001 alice :Welcome to the otls IRC test server alice\r\n"
          ":irc.test 422 alice :MOTD File is missing\r\n")
      .feed("STARTTLS\r\n")
      .expect_write(
          ":irc.test 691 alice :STARTTLS is not permitted after client registration is "
          "complete\r\n")
      .feed("PING :abc\r\n")
      .expect_write(":irc.test PONG irc.test :abc\r\n")
      .feed("PRIVMSG #x :hi\r\n")
      .expect_write(":irc.test 421 alice PRIVMSG :Unknown command\r\n");
}

TEST(IrcServer, StarttlsRequiredRefusesPlaintextRegistration) {
  server_options o = opts();
  o.starttls_required = true;
  server s(o);
  transcript(s)
      .feed("NICK bob\r\nUSER bob 0 * :Bob\r\n")
      .expect_write("ERROR :Closing link: TLS is required here, use STARTTLS or implicit TLS\r\n")
      .expect_done();
}

TEST(IrcServer, CapReqIsNakedAndBadCapIsRefused) {
  server s(opts());
  transcript(s)
      .feed("CAP REQ :tls sasl\r\nCAP LIST\r\nCAP FOO\r\nCAP\r\n")
      .expect_write(":irc.test CAP * NAK :tls sasl\r\n")
      .expect_write(":irc.test CAP * LIST :\r\n")
      .expect_write(":irc.test 410 * FOO :Invalid CAP command\r\n")
      .expect_write(":irc.test 461 * CAP :Not enough parameters\r\n");
}

TEST(IrcServer, UnknownAndGarbageThenTooManyErrors) {
  server_options o = opts();
  o.max_errors = 3;
  server s(o);
  transcript(s)
      .feed("FOO\r\n\x80\r\nJOIN #x\r\n")
      .expect_write(":irc.test 451 * :You have not registered\r\n")
      .expect_write(":irc.test 421 * :Unknown command\r\n")
      .expect_write(
          ":irc.test 451 * :You have not registered\r\nERROR :Closing link: too many errors\r\n")
      .expect_fail(errc::too_many_errors);
}

TEST(IrcServer, EmptyLinesAndPongAreIgnored) {
  server s(opts());
  transcript(s).feed("\r\n   \r\nPONG :x\r\n").expect_need_more();
}

TEST(IrcServer, OversizedLineIsRefusedAndClosed) {
  server s(opts());
  transcript(s)
      .feed(std::string(max_line + 5, 'A'))
      .expect_write("ERROR :Closing link: input line too long\r\n")
      .expect_fail(core::errc::line_too_long);
}

TEST(IrcServer, EofBetweenCommandsIsCleanButMidCommandIsNot) {
  server a(opts());
  transcript(a).feed("CAP LS\r\n").expect_write(":irc.test CAP * LS :tls\r\n").eof().expect_done();
  server b(opts());
  transcript(b).feed("CAP L").eof().expect_fail(errc::unexpected_close);
}

TEST(IrcServer, ImplicitTlsNeverOffersTls) {
  server_options o = opts();
  o.implicit_tls = true;
  server s(o);
  transcript(s)
      .feed("CAP LS 302\r\nSTARTTLS\r\n")
      .expect_write(":irc.test CAP * LS :\r\n")
      .expect_write(":irc.test 691 * :STARTTLS failure (TLS already active)\r\n");
}

TEST(IrcRoundTrip, ClientUpgradesAgainstOurServer) {
  client c(client_options{});
  server s(opts());
  const auto r = testing::run_pair(c, s);
  EXPECT_EQ(testing::kind_name(r.client_end), std::string("done")) << r.client_error.message();
  EXPECT_EQ(testing::kind_name(r.server_end), std::string("done")) << r.server_error.message();
  EXPECT_TRUE(r.upgraded);
  EXPECT_EQ(c.facts().capabilities_before_tls, std::vector<std::string>{"tls"});
  EXPECT_TRUE(c.facts().capabilities_after_tls.empty());
}

TEST(IrcRoundTrip, NoTlsServerFailsAtVerifyAndWarnsAtMay) {
  testing::expect_no_offer_handled<client, server>(opts());
}

TEST(IrcRoundTrip, StripperAgainstOwnServerIsCaught) {
  offer_stripper stripper;
  testing::expect_stripper_is_caught<client, server>(stripper);
}

}  // namespace
}  // namespace otls::proto::irc
