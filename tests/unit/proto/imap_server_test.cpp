// IMAP server role as transcripts (RFC 9051 §6.1, §6.2, §7.1, §7.5; RFC 2595; RFC 7888), and the
// client role run against it in memory.
#include "otls/proto/imap/server.hpp"

#include <gtest/gtest.h>

#include "dialect_harness.hpp"
#include "otls/proto/imap/client.hpp"
#include "transcript.hpp"

namespace otls::proto::imap {
namespace {

using testing::transcript;

server_options opts(bool required = false) {
  server_options o;
  o.hostname = "imap.test";
  o.starttls_required = required;
  o.max_errors = 5;
  return o;
}

TEST(ImapServer, GreetsAndAdvertisesStarttlsOnlyBeforeTls) {
  server s(opts());
  transcript t(s);
  t.expect_write("* OK [CAPABILITY IMAP4rev1 LITERAL- STARTTLS] imap.test ready\r\n")
      .expect_need_more()
      .feed("a001 capability\r\n")
      .expect_write("* CAPABILITY IMAP4rev1 LITERAL- STARTTLS\r\na001 OK CAPABILITY completed\r\n")
      .feed("a002 NOOP\r\n")
      .expect_write("a002 OK NOOP completed\r\n")
      .feed("a003 STARTTLS\r\n")
      .expect_write("a003 OK Begin TLS negotiation now\r\n")
      .expect_start_tls("")
      .tls_established()
      .expect_need_more()  // no new greeting after TLS (RFC 9051 §6.2.1)
      .feed("a004 CAPABILITY\r\n")
      .expect_write("* CAPABILITY IMAP4rev1 LITERAL-\r\na004 OK CAPABILITY completed\r\n")
      .feed("a005 STARTTLS\r\n")
      .expect_write("a005 BAD TLS is already active\r\n")
      .feed("a006 LOGOUT\r\n")
      .expect_write("* BYE imap.test logging out\r\na006 OK LOGOUT completed\r\n")
      .expect_done();
  EXPECT_TRUE(s.tls_active());
}

TEST(ImapServer, PipelinedCommandsAfterStarttlsAreLeftOverNotExecuted) {
  server s(opts());
  transcript(s)
      .expect_write_containing("STARTTLS")
      .feed("a1 STARTTLS\r\na2 LOGIN evil pass\r\na3 CAPABILITY\r\na4 LOG")
      .expect_write("a1 OK Begin TLS negotiation now\r\n")
      .expect_start_tls("a2 LOGIN evil pass\r\na3 CAPABILITY\r\na4 LOG")
      .tls_established()
      .expect_need_more()  // nothing left to answer inside TLS
      .feed("b1 NOOP\r\n")
      .expect_write("b1 OK NOOP completed\r\n");
}

TEST(ImapServer, StarttlsWithArgumentsIsBad) {
  server s(opts());
  transcript(s)
      .expect_write_containing("ready")
      .feed("a STARTTLS now\r\n")
      .expect_write("a BAD STARTTLS takes no arguments\r\n");
}

TEST(ImapServer, NoTlsAvailableIsNoAndNotAdvertised) {
  server_options o = opts();
  o.tls_available = false;
  server s(o);
  transcript t(s);
  t.expect_write("* OK [CAPABILITY IMAP4rev1 LITERAL-] imap.test ready\r\n")
      .feed("a STARTTLS\r\n")
      .expect_write("a NO TLS is not available\r\n");
}

TEST(ImapServer, StarttlsRequiredRefusesLoginWithPrivacyRequired) {
  server s(opts(true));
  transcript(s)
      .expect_write(
          "* OK [CAPABILITY IMAP4rev1 LITERAL- STARTTLS LOGINDISABLED] imap.test ready\r\n")
      .feed("a1 LOGIN user pass\r\n")
      .expect_write("a1 NO [PRIVACYREQUIRED] Use STARTTLS first\r\n")
      .feed("a2 AUTHENTICATE PLAIN\r\n")
      .expect_write("a2 NO [PRIVACYREQUIRED] Use STARTTLS first\r\n")
      .feed("a3 STARTTLS\r\n")
      .expect_write("a3 OK Begin TLS negotiation now\r\n")
      .expect_start_tls()
      .tls_established()
      .feed("a4 CAPABILITY\r\n")
      .expect_write("* CAPABILITY IMAP4rev1 LITERAL-\r\na4 OK CAPABILITY completed\r\n")
      .feed("a5 LOGIN user pass\r\n")
      .expect_write("a5 NO [AUTHENTICATIONFAILED] Authentication failed: no mailboxes here\r\n");
}

TEST(ImapServer, LoginWithoutRequirementFailsAuthentication) {
  server s(opts(false));
  transcript(s)
      .expect_write_containing("ready")
      .feed("a1 LOGIN user pass\r\n")
      .expect_write("a1 NO [AUTHENTICATIONFAILED] Authentication failed: no mailboxes here\r\n")
      .feed("a2 LOGIN\r\n")
      .expect_write("a2 BAD LOGIN needs arguments\r\n");
}

TEST(ImapServer, SynchronizingLiteralsGetAContinuationEach) {
  server s(opts());
  transcript(s)
      .expect_write_containing("ready")
      .feed("a1 LOGIN {4}\r\n")
      .expect_write("+ Ready for additional command text\r\n")
      .expect_need_more()  // exactly one "+" per literal
      .feed("us")
      .expect_need_more()
      .feed("er {4}\r\n")
      .expect_write("+ Ready for additional command text\r\n")
      .feed("pa\r\n\r\n")
      .expect_write("a1 NO [AUTHENTICATIONFAILED] Authentication failed: no mailboxes here\r\n");
}

TEST(ImapServer, EmptySynchronizingLiteralStillGetsAContinuation) {
  server s(opts());
  transcript(s)
      .expect_write_containing("ready")
      .feed("a1 LOGIN {0}\r\n")
      .expect_write("+ Ready for additional command text\r\n")
      .feed(" {0}\r\n")
      .expect_write("+ Ready for additional command text\r\n")
      .feed("\r\n")
      .expect_write("a1 NO [AUTHENTICATIONFAILED] Authentication failed: no mailboxes here\r\n");
}

TEST(ImapServer, NonSynchronizingLiteralsNeedNoContinuation) {
  server s(opts());
  transcript(s)
      .expect_write_containing("ready")
      .feed("a1 LOGIN {4+}\r\nuser {4+}\r\npass\r\na2 NOOP\r\n")
      .expect_write("a1 NO [AUTHENTICATIONFAILED] Authentication failed: no mailboxes here\r\n")
      .expect_write("a2 OK NOOP completed\r\n");
}

TEST(ImapServer, LiteralLooksLikeCommandsButIsData) {
  server s(opts());
  transcript(s)
      .expect_write_containing("ready")
      .feed("a1 XYZ {13+}\r\nb1 STARTTLS\r\n\r\n")
      .expect_write("a1 BAD Command unknown or not allowed in this state\r\n")
      .expect_need_more();
}

TEST(ImapServer, OversizedLiteralIsTooBigAndCloses) {
  for (std::string_view header : {"a1 LOGIN {4097}\r\n", "a1 LOGIN {5000+}\r\n"}) {
    server s(opts());
    transcript(s)
        .expect_write_containing("ready")
        .feed(header)
        .expect_write("a1 BAD [TOOBIG] Command too large\r\n* BYE imap.test closing connection\r\n")
        .expect_fail(core::errc::buffer_limit);
  }
}

TEST(ImapServer, OversizedLineIsRefusedAndClosed) {
  server s(opts());
  transcript(s)
      .expect_write_containing("ready")
      .feed(std::string(100'000, 'A'))
      .expect_write(
          "* BAD [TOOBIG] Command line too long\r\n* BYE imap.test closing connection\r\n")
      .expect_fail(core::errc::line_too_long);
}

TEST(ImapServer, UntaggedBadForLinesWithoutTag) {
  server s(opts());
  transcript(s)
      .expect_write_containing("ready")
      .feed("\r\n")
      .expect_write("* BAD Missing or invalid tag\r\n")
      .feed("* CAPABILITY\r\n")
      .expect_write("* BAD Missing or invalid tag\r\n")
      .feed("tag\r\n")
      .expect_write("tag BAD Missing command\r\n");
}

TEST(ImapServer, UnknownAndGarbageCommandsAreBadThenTooManyErrors) {
  server s(opts());
  transcript t(s);
  t.expect_write_containing("ready");
  for (int i = 0; i < 4; ++i)
    t.feed(i % 2 ? "x SELECT INBOX\r\n" : "\x16\x03\x01\r\n")
        .expect_write(i % 2 ? "x BAD Command unknown or not allowed in this state\r\n"
                            : "* BAD Missing or invalid tag\r\n");
  t.feed("y BOGUS\r\n")
      .expect_write(
          "y BAD Command unknown or not allowed in this state\r\n* BYE Too many invalid "
          "commands\r\n")
      .expect_fail(errc::too_many_errors);
}

TEST(ImapServer, BareLfIsAcceptedLikeDovecot) {
  server s(opts());
  transcript(s)
      .expect_write_containing("ready")
      .feed("a NOOP\n")
      .expect_write("a OK NOOP completed\r\n");
}

TEST(ImapServer, ArgumentsWhereNoneBelong) {
  server s(opts());
  transcript(s)
      .expect_write_containing("ready")
      .feed("a CAPABILITY x\r\n")
      .expect_write("a BAD CAPABILITY takes no arguments\r\n")
      .feed("b NOOP x\r\n")
      .expect_write("b BAD NOOP takes no arguments\r\n");
}

TEST(ImapServer, EofBetweenCommandsIsACleanEndButMidCommandIsNot) {
  server a(opts());
  transcript(a).expect_write_containing("ready").eof().expect_done();
  server b(opts());
  transcript(b).expect_write_containing("ready").feed("a NOOP").eof().expect_fail(
      errc::unexpected_close);
  server c(opts());
  transcript(c)
      .expect_write_containing("ready")
      .feed("a LOGIN {5}\r\nab")
      .expect_write("+ Ready for additional command text\r\n")
      .eof()
      .expect_fail(errc::unexpected_close);
}

TEST(ImapServer, ImplicitTlsNeverOffersStarttls) {
  server_options o = opts(true);
  o.implicit_tls = true;
  server s(o);
  transcript(s)
      .expect_write("* OK [CAPABILITY IMAP4rev1 LITERAL-] imap.test ready\r\n")
      .feed("a STARTTLS\r\n")
      .expect_write("a BAD TLS is already active\r\n")
      .feed("b LOGIN u p\r\n")
      .expect_write("b NO [AUTHENTICATIONFAILED] Authentication failed: no mailboxes here\r\n");
}

// Our client against our server when the server offers no upgrade.
TEST(ImapRoundTrip, NoTlsServerFailsAtVerifyAndWarnsAtMay) {
  testing::expect_no_offer_handled<client, server>(opts());
}

}  // namespace
}  // namespace otls::proto::imap
