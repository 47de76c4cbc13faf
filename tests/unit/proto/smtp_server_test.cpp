// SMTP/LMTP server role as transcripts (RFC 5321, RFC 3207 §4, RFC 2033), and the client role run
// against it in memory.
#include "otls/proto/smtp/server.hpp"

#include <gtest/gtest.h>

#include "dialect_harness.hpp"
#include "otls/proto/smtp/client.hpp"
#include "transcript.hpp"

namespace otls::proto::smtp {
namespace {

using testing::transcript;

server_options opts(bool required = false) {
  server_options o;
  o.hostname = "mx.test";
  o.starttls_required = required;
  o.max_errors = 5;
  return o;
}

TEST(SmtpServer, GreetsAndAdvertisesStarttlsOnlyBeforeTls) {
  server s(opts(), variant::smtp);
  transcript t(s);
  t.expect_write("220 mx.test ESMTP otls\r\n")
      .expect_need_more()
      .feed("ehlo client.test\r\n")
      .expect_write_containing("250 STARTTLS\r\n");
  EXPECT_EQ(t.last_write().rfind("250-mx.test\r\n", 0), 0u);
  t.feed("STARTTLS\r\n")
      .expect_write("220 2.0.0 Ready to start TLS\r\n")
      .expect_start_tls("")
      .tls_established()
      .expect_need_more()
      .feed("EHLO client.test\r\n")
      .expect_write_containing("250 ENHANCEDSTATUSCODES\r\n");
  EXPECT_EQ(t.last_write().find("STARTTLS"), std::string::npos);
  EXPECT_TRUE(s.tls_active());
  t.feed("STARTTLS\r\n").expect_write("554 5.5.1 Error: TLS already active\r\n");
  t.feed("QUIT\r\n").expect_write("221 2.0.0 Bye\r\n").expect_done();
}

TEST(SmtpServer, PipelinedCommandsAfterStarttlsAreLeftOverNotExecuted) {
  server s(opts(), variant::smtp);
  transcript(s)
      .expect_write("220 mx.test ESMTP otls\r\n")
      .feed("EHLO c\r\n")
      .expect_write_containing("STARTTLS")
      .feed("STARTTLS\r\nMAIL FROM:<evil@x>\r\nRCPT TO:<v@y>\r\n")
      .expect_write("220 2.0.0 Ready to start TLS\r\n")
      .expect_start_tls("MAIL FROM:<evil@x>\r\nRCPT TO:<v@y>\r\n")
      .tls_established()
      .expect_need_more()  // nothing left to answer inside TLS
      .feed("MAIL FROM:<a@b>\r\n")
      .expect_write("503 5.5.1 Error: send EHLO first\r\n");
}

TEST(SmtpServer, StarttlsWithArgumentsIs501) {
  server s(opts(), variant::smtp);
  transcript(s)
      .expect_write("220 mx.test ESMTP otls\r\n")
      .feed("STARTTLS now\r\n")
      .expect_write("501 5.5.4 Syntax: STARTTLS\r\n");
}

TEST(SmtpServer, NoTlsAvailableIs454AndNotAdvertised) {
  server_options o = opts();
  o.tls_available = false;
  server s(o, variant::smtp);
  transcript t(s);
  t.expect_write("220 mx.test ESMTP otls\r\n").feed("EHLO c\r\n").expect_write_containing("250 ");
  EXPECT_EQ(t.last_write().find("STARTTLS"), std::string::npos);
  t.feed("STARTTLS\r\n").expect_write("454 4.7.0 TLS not available\r\n");
}

TEST(SmtpServer, StarttlsRequiredRefusesMostCommands) {
  server s(opts(true), variant::smtp);
  transcript(s)
      .expect_write("220 mx.test ESMTP otls\r\n")
      .feed("NOOP\r\n")
      .expect_write("250 2.0.0 Ok\r\n")
      .feed("RSET\r\n")
      .expect_write("250 2.0.0 Ok\r\n")
      .feed("HELO c\r\n")
      .expect_write("530 5.7.0 Must issue a STARTTLS command first\r\n")
      .feed("EHLO c\r\n")
      .expect_write_containing("STARTTLS")
      .feed("MAIL FROM:<a@b>\r\n")
      .expect_write("530 5.7.0 Must issue a STARTTLS command first\r\n")
      .feed("STARTTLS\r\n")
      .expect_write("220 2.0.0 Ready to start TLS\r\n")
      .expect_start_tls()
      .tls_established()
      .feed("EHLO c\r\n")
      .expect_write_containing("250 ")
      .feed("MAIL FROM:<a@b>\r\n")
      .expect_write("250 2.1.0 Ok\r\n");
}

TEST(SmtpServer, MessageSinkSequencing) {
  server s(opts(), variant::smtp);
  transcript(s)
      .expect_write("220 mx.test ESMTP otls\r\n")
      .feed("RCPT TO:<a@b>\r\n")
      .expect_write("503 5.5.1 Error: need MAIL command\r\n")
      .feed("HELO c\r\n")
      .expect_write("250 mx.test\r\n")
      .feed("MAIL FROM:<a@b>\r\n")
      .expect_write("250 2.1.0 Ok\r\n")
      .feed("DATA\r\n")
      .expect_write("503 5.5.1 Error: need RCPT command\r\n")
      .feed("RCPT TO:<c@d>\r\n")
      .expect_write("250 2.1.5 Ok\r\n")
      .feed("DATA\r\n")
      .expect_write("354 End data with <CR><LF>.<CR><LF>\r\n")
      .feed("Subject: x\r\n\r\n..dot\r\nbody\r\n.\r\nQUIT\r\n")
      .expect_write("250 2.0.0 Ok: accepted and discarded\r\n")
      .expect_write("221 2.0.0 Bye\r\n")
      .expect_done();
  EXPECT_EQ(s.messages_received(), 1u);
}

TEST(LmtpServer, OneReplyPerRecipient) {
  server s(opts(), variant::lmtp);
  transcript(s)
      .expect_write("220 mx.test LMTP otls\r\n")
      .feed("EHLO c\r\n")
      .expect_write("500 5.5.2 Error: command not recognized\r\n")
      .feed("LHLO c\r\nMAIL FROM:<a@b>\r\nRCPT TO:<c@d>\r\nRCPT TO:<e@f>\r\nDATA\r\n")
      .expect_write_containing("250 ")
      .expect_write("250 2.1.0 Ok\r\n")
      .expect_write("250 2.1.5 Ok\r\n")
      .expect_write("250 2.1.5 Ok\r\n")
      .expect_write("354 End data with <CR><LF>.<CR><LF>\r\n")
      .feed(".\r\n")
      .expect_write(
          "250 2.0.0 Ok: accepted and discarded\r\n250 2.0.0 Ok: accepted and discarded\r\n");
}

TEST(SmtpServer, UnknownAndGarbageCommandsAre500ThenTooManyErrors) {
  server s(opts(), variant::smtp);
  transcript t(s);
  t.expect_write("220 mx.test ESMTP otls\r\n");
  for (int i = 0; i < 4; ++i)
    t.feed(i % 2 ? "XYZZY\r\n" : "\x16\x03\x01\r\n")
        .expect_write("500 5.5.2 Error: command not recognized\r\n");
  t.feed("BOGUS\r\n")
      .expect_write("421 4.7.0 mx.test Error: too many errors\r\n")
      .expect_fail(errc::too_many_errors);
}

TEST(SmtpServer, BareLfIsRefusedAndClosed) {
  server s(opts(), variant::smtp);
  transcript(s)
      .expect_write("220 mx.test ESMTP otls\r\n")
      .feed("EHLO c\n")
      .expect_write("521 5.5.2 mx.test Error: bare <LF> received\r\n")
      .expect_fail(core::errc::bare_line_feed);
}

TEST(SmtpServer, OversizedLineIsRefusedAndClosed) {
  server s(opts(), variant::smtp);
  transcript(s)
      .expect_write("220 mx.test ESMTP otls\r\n")
      .feed(std::string(100'000, 'A'))
      .expect_write("500 5.5.2 mx.test Error: line too long\r\n")
      .expect_fail(core::errc::line_too_long);
}

TEST(SmtpServer, EhloNeedsAnArgument) {
  server s(opts(), variant::smtp);
  transcript(s)
      .expect_write("220 mx.test ESMTP otls\r\n")
      .feed("EHLO\r\n")
      .expect_write("501 5.5.4 Syntax: EHLO hostname\r\n");
}

TEST(SmtpServer, EofBetweenCommandsIsACleanEndButMidCommandIsNot) {
  server a(opts(), variant::smtp);
  transcript(a).expect_write("220 mx.test ESMTP otls\r\n").eof().expect_done();
  server b(opts(), variant::smtp);
  transcript(b)
      .expect_write("220 mx.test ESMTP otls\r\n")
      .feed("EHLO half")
      .eof()
      .expect_fail(errc::unexpected_close);
}

TEST(SmtpServer, ImplicitTlsNeverOffersStarttls) {
  server_options o = opts();
  o.implicit_tls = true;
  server s(o, variant::smtp);
  transcript t(s);
  t.expect_write("220 mx.test ESMTP otls\r\n").feed("EHLO c\r\n").expect_write_containing("250 ");
  EXPECT_EQ(t.last_write().find("STARTTLS"), std::string::npos);
}

// Our client against our server when the server offers no upgrade.
TEST(SmtpRoundTrip, NoTlsServerFailsAtVerifyAndWarnsAtMay) {
  testing::expect_no_offer_handled<client, server>(opts(), variant::smtp);
}

}  // namespace
}  // namespace otls::proto::smtp
