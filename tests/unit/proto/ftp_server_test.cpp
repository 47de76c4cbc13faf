// FTP server role as transcripts (RFC 959, RFC 2228, RFC 4217, RFC 2389 FEAT), and the client
// role run against it in memory.
#include "otls/proto/ftp/server.hpp"

#include <gtest/gtest.h>

#include "dialect_harness.hpp"
#include "otls/proto/ftp/client.hpp"
#include "transcript.hpp"

namespace otls::proto::ftp {
namespace {

using testing::transcript;

constexpr std::string_view greeting = "220 ftp.test FTP server (otls) ready\r\n";
constexpr std::string_view feat_before_tls =
    "211-Features:\r\n AUTH TLS\r\n PBSZ\r\n PROT\r\n UTF8\r\n211 End\r\n";
constexpr std::string_view feat_after_tls =
    "211-Features:\r\n PBSZ\r\n PROT\r\n UTF8\r\n211 End\r\n";

server_options opts(bool required = false) {
  server_options o;
  o.hostname = "ftp.test";
  o.starttls_required = required;
  o.max_errors = 5;
  return o;
}

// AUTH TLS and the handshake (the greeting is out); the server then waits for a command inside
// TLS.
transcript& upgraded(transcript& t) {
  return t.feed("AUTH TLS\r\n")
      .expect_write("234 AUTH TLS successful\r\n")
      .expect_start_tls("")
      .tls_established()
      .expect_need_more();
}

TEST(FtpServer, GreetsAndListsAuthOnlyBeforeTls) {
  server s(opts());
  transcript t(s);
  t.expect_write(greeting)
      .expect_need_more()
      .feed("feat\r\n")
      .expect_write(feat_before_tls)
      .feed("AUTH TLS\r\n")
      .expect_write("234 AUTH TLS successful\r\n")
      .expect_start_tls("")
      .tls_established()
      .expect_need_more()
      .feed("FEAT\r\n")
      .expect_write(feat_after_tls)
      .feed("PBSZ 0\r\n")
      .expect_write("200 PBSZ=0\r\n")
      .feed("PROT P\r\n")
      .expect_write("200 Protection level set to P\r\n")
      .feed("QUIT\r\n")
      .expect_write("221 Goodbye\r\n")
      .expect_done();
  EXPECT_TRUE(s.tls_active());
  EXPECT_TRUE(s.data_protected());
  transcript(s).expect_done();  // stays done
}

TEST(FtpServer, AuthMechanisms) {
  for (std::string_view mechanism : {"TLS", "tls", "SSL", "TLS-C"}) {
    SCOPED_TRACE(std::string(mechanism));
    server s(opts());
    std::string upper(mechanism);
    for (char& c : upper) c = static_cast<char>(c >= 'a' && c <= 'z' ? c - 32 : c);
    transcript(s)
        .expect_write(greeting)
        .feed("AUTH " + std::string(mechanism) + "\r\n")
        .expect_write("234 AUTH " + upper + " successful\r\n")
        .expect_start_tls("");
  }
}

TEST(FtpServer, PipelinedCommandsAfterAuthAreLeftOverNotExecuted) {
  server s(opts());
  transcript(s)
      .expect_write(greeting)
      .feed("AUTH TLS\r\nUSER anonymous\r\nPASS x\r\n")
      .expect_write("234 AUTH TLS successful\r\n")
      .expect_start_tls("USER anonymous\r\nPASS x\r\n")
      .tls_established()
      .expect_need_more()  // nothing left to answer inside TLS
      .feed("PWD\r\n")
      .expect_write("530 Please login with USER and PASS\r\n");
  EXPECT_FALSE(s.logged_in());
}

TEST(FtpServer, PipelinedHalfLineIsLeftOverToo) {
  server s(opts());
  transcript(s)
      .expect_write(greeting)
      .feed("AUTH TLS\r\nQUI")
      .expect_write("234 AUTH TLS successful\r\n")
      .expect_start_tls("QUI")
      .tls_established()
      .feed("T\r\n")  // not joined with the plaintext "QUI" (QUIT would be 221)
      .expect_write("530 Please login with USER and PASS\r\n");
}

TEST(FtpServer, AuthRefusals) {
  server s(opts());
  transcript t(s);
  t.expect_write(greeting)
      .feed("AUTH XYZ\r\n")
      .expect_write("504 Security mechanism not understood\r\n")
      .feed("AUTH\r\n")
      .expect_write("501 Syntax: AUTH TLS\r\n");
  upgraded(t)
      .feed("AUTH TLS\r\n")  // RFC 2228 §3: no second AUTH inside the protected session
      .expect_write("503 Security data exchange already completed\r\n");
}

TEST(FtpServer, NoTlsAvailableIsRefusedAndNotListed) {
  server_options o = opts();
  o.tls_available = false;
  server s(o);
  transcript(s)
      .expect_write(greeting)
      .feed("FEAT\r\n")
      .expect_write("211-Features:\r\n UTF8\r\n211 End\r\n")
      .feed("AUTH TLS\r\n")
      // A server without TLS does not implement AUTH (502): our client then reports
      // starttls_not_supported, not a refusal.
      .expect_write("502 TLS is not available on this server\r\n")
      .expect_need_more();
}

TEST(FtpServer, ProtectionCommandsNeedTlsAndPbszFirst) {
  server_options o = opts();
  o.max_errors = 10;
  server s(o);
  transcript t(s);
  t.expect_write(greeting)
      .feed("PBSZ 0\r\n")
      .expect_write("503 PBSZ needs AUTH TLS first\r\n")
      .feed("PROT P\r\n")
      .expect_write("503 PROT needs AUTH TLS first\r\n");
  upgraded(t)
      .feed("PROT P\r\n")
      .expect_write("503 PBSZ must come before PROT\r\n")
      .feed("PBSZ x\r\n")
      .expect_write("501 Syntax: PBSZ 0\r\n")
      .feed("PBSZ\r\n")
      .expect_write("501 Syntax: PBSZ 0\r\n")
      .feed("PBSZ 0\r\n")
      .expect_write("200 PBSZ=0\r\n")
      .feed("PROT S\r\n")
      .expect_write("536 Protection level not supported by TLS\r\n")
      .feed("PROT E\r\n")
      .expect_write("536 Protection level not supported by TLS\r\n");
  EXPECT_FALSE(s.data_protected());
}

TEST(FtpServer, ProtLevels) {
  server_options o = opts();
  o.max_errors = 10;
  server s(o);
  transcript t(s);
  upgraded(t.expect_write(greeting))
      .feed("PBSZ 0\r\n")
      .expect_write("200 PBSZ=0\r\n")
      .feed("PROT X\r\n")
      .expect_write("504 Unknown protection level\r\n")
      .feed("PROT PP\r\n")
      .expect_write("501 Syntax: PROT C|P\r\n")
      .feed("prot p\r\n")
      .expect_write("200 Protection level set to P\r\n");
  EXPECT_TRUE(s.data_protected());
  t.feed("PROT C\r\n").expect_write("200 Protection level set to C\r\n");
  EXPECT_FALSE(s.data_protected());
}

TEST(FtpServer, StarttlsRequiredRefusesClearDataAndCommandsBeforeTls) {
  server s(opts(true));
  transcript t(s);
  t.expect_write(greeting)
      .feed("USER anonymous\r\n")
      .expect_write("530 TLS required on the control channel: use AUTH TLS\r\n")
      .feed("PBSZ 0\r\n")
      .expect_write("530 TLS required on the control channel: use AUTH TLS\r\n")
      // Harmless commands stay available.
      .feed("SYST\r\n")
      .expect_write("215 UNIX Type: L8\r\n")
      .feed("NOOP\r\n")
      .expect_write("200 NOOP ok\r\n")
      .feed("FEAT\r\n")
      .expect_write(feat_before_tls);
  upgraded(t)
      .feed("PBSZ 0\r\n")
      .expect_write("200 PBSZ=0\r\n")
      .feed("PROT C\r\n")
      .expect_write("534 Data connections must be protected (PROT P)\r\n")
      .feed("PROT P\r\n")
      .expect_write("200 Protection level set to P\r\n");
  EXPECT_TRUE(s.data_protected());
}

TEST(FtpServer, AnonymousLoginInsideTls) {
  server s(opts());
  transcript t(s);
  upgraded(t.expect_write(greeting))
      .feed("PWD\r\n")
      .expect_write("530 Please login with USER and PASS\r\n")
      .feed("USER anonymous\r\n")
      .expect_write("331 Anonymous login ok, send your e-mail address as password\r\n")
      .feed("PASS otls@\r\n")
      .expect_write("230 Anonymous access granted\r\n");
  EXPECT_TRUE(s.logged_in());
  t.feed("PWD\r\n")
      .expect_write("257 \"/\" is the current directory\r\n")
      .feed("CWD /\r\n")
      .expect_write("250 Directory changed to /\r\n")
      .feed("TYPE I\r\n")
      .expect_write("200 Type set to I\r\n")
      .feed("XYZZY\r\n")
      .expect_write("500 XYZZY not understood\r\n");
}

TEST(FtpServer, NamedUserIsRefused) {
  server s(opts());
  transcript t(s);
  upgraded(t.expect_write(greeting))
      .feed("PASS x\r\n")
      .expect_write("503 Login with USER first\r\n")
      .feed("USER alice\r\n")
      .expect_write("331 Password required for alice\r\n")
      .feed("PASS s3cret\r\n")
      .expect_write("530 Login incorrect\r\n");
  EXPECT_FALSE(s.logged_in());
}

TEST(FtpServer, PlaintextLoginIsForgottenAtTheUpgrade) {
  // Where TLS is optional a login in plaintext works, but it does not survive AUTH TLS.
  server s(opts());
  transcript t(s);
  t.expect_write(greeting)
      .feed("USER ftp\r\n")
      .expect_write("331 Anonymous login ok, send your e-mail address as password\r\n")
      .feed("PASS x\r\n")
      .expect_write("230 Anonymous access granted\r\n");
  EXPECT_TRUE(s.logged_in());
  t.feed("AUTH TLS\r\n")
      .expect_write("234 AUTH TLS successful\r\n")
      .expect_start_tls()
      .tls_established();
  EXPECT_FALSE(s.logged_in());
  t.feed("PWD\r\n").expect_write("530 Please login with USER and PASS\r\n");
}

TEST(FtpServer, TransferCommandsAre502) {
  server_options o = opts();
  o.max_errors = 20;
  server s(o);
  transcript t(s);
  upgraded(t.expect_write(greeting)).feed("USER anonymous\r\n").expect_write_containing("331 ");
  t.feed("PASS a@b\r\n").expect_write_containing("230 ");
  for (std::string_view cmd : {"EPSV", "PASV", "LIST", "RETR x", "STOR x", "PORT 1,2,3,4,5,6"}) {
    t.feed(std::string(cmd) + "\r\n")
        .expect_write("502 No data channel on this server (control channel only)\r\n");
  }
}

TEST(FtpServer, QuitBeforeAnything) {
  server s(opts(true));
  transcript(s)
      .expect_write(greeting)
      .feed("QUIT\r\n")
      .expect_write("221 Goodbye\r\n")
      .expect_done();
}

TEST(FtpServer, UnknownAndGarbageCommandsThenTooManyErrors) {
  server s(opts());
  transcript t(s);
  t.expect_write(greeting)
      .feed("XYZZY\r\n")  // as ProFTPD: unknown commands before the login are 530
      .expect_write("530 Please login with USER and PASS\r\n")
      .feed("\x16\x03\x01\r\n")
      .expect_write("500 Syntax error, command unrecognized\r\n")
      .feed("TOOLONGVERB\r\n")
      .expect_write("500 Syntax error, command unrecognized\r\n")
      .feed("AUTH XYZ\r\n")
      .expect_write("504 Security mechanism not understood\r\n")
      .feed("BOGUS\r\n")
      .expect_write("421 Too many errors, closing control connection\r\n")
      .expect_fail(errc::too_many_errors);
  transcript(s).expect_fail(errc::too_many_errors);  // stays failed
}

TEST(FtpServer, OversizedLineIsRefusedAndClosed) {
  server s(opts());
  transcript(s)
      .expect_write(greeting)
      .feed(std::string(100'000, 'A'))
      .expect_write("500 Command line too long, closing control connection\r\n")
      .expect_fail(core::errc::line_too_long);
}

TEST(FtpServer, LongestCommandLineIsAccepted) {
  server s(opts());
  transcript(s)
      .expect_write(greeting)
      .feed("NOOP " + std::string(max_command_line - 5, 'x') + "\r\n")
      .expect_write("200 NOOP ok\r\n")
      .feed("NOOP " + std::string(max_command_line - 4, 'x') + "\r\n")
      .expect_write("500 Command line too long, closing control connection\r\n")
      .expect_fail(core::errc::line_too_long);
}

TEST(FtpServer, BareLfAccepted) {
  server s(opts());
  transcript(s)
      .expect_write(greeting)
      .feed("NOOP\n")
      .expect_write("200 NOOP ok\r\n")
      .feed("QUIT\n")
      .expect_write("221 Goodbye\r\n")
      .expect_done();
}

TEST(FtpServer, EofBetweenCommandsIsACleanEndButMidCommandIsNot) {
  server a(opts());
  transcript(a).expect_write(greeting).eof().expect_done();
  server b(opts());
  transcript(b).expect_write(greeting).feed("FEA").eof().expect_fail(errc::unexpected_close);
}

TEST(FtpServer, ImplicitTlsNeverListsAuth) {
  server_options o = opts(true);
  o.implicit_tls = true;
  server s(o);
  transcript(s)
      .expect_write(greeting)
      .feed("FEAT\r\n")
      .expect_write(feat_after_tls)
      .feed("AUTH TLS\r\n")
      .expect_write("503 Security data exchange already completed\r\n")
      .feed("USER anonymous\r\n")
      .expect_write_containing("331 ");
}

// ---- our client against our server -----------------------------------------------------------

TEST(FtpRoundTrip, FullUpgrade) {
  client c(client_options{});
  server s(server_options{});
  const auto r = testing::run_pair(c, s);
  EXPECT_EQ(testing::kind_name(r.client_end), std::string("done")) << r.client_error.message();
  EXPECT_EQ(testing::kind_name(r.server_end), std::string("done")) << r.server_error.message();
  EXPECT_TRUE(r.upgraded);
  EXPECT_TRUE(c.facts().starttls_offered);
  EXPECT_TRUE(c.facts().starttls_accepted);
  EXPECT_TRUE(c.data_protected());
  EXPECT_TRUE(s.data_protected());
  EXPECT_EQ(c.facts().capabilities_before_tls,
            (std::vector<std::string>{"AUTH TLS", "PBSZ", "PROT", "UTF8"}));
  EXPECT_EQ(c.facts().capabilities_after_tls, (std::vector<std::string>{"PBSZ", "PROT", "UTF8"}));
}

TEST(FtpRoundTrip, LoginSucceedsButTheServerHasNoDataChannel) {
  // The server role refuses EPSV and PASV (502): the transfer fails, after a good login.
  client_options co;
  co.log_in = true;
  co.transfer_data = true;
  client c(co);
  server_options so;
  so.starttls_required = true;
  server s(so);
  const auto r = testing::run_pair(c, s);
  EXPECT_EQ(testing::kind_name(r.client_end), std::string("fail"));
  EXPECT_EQ(r.client_error, errc::data_channel_failure) << r.client_error.message();
  EXPECT_EQ(testing::kind_name(r.server_end), std::string("done")) << r.server_error.message();
  EXPECT_TRUE(r.upgraded);
  EXPECT_TRUE(s.logged_in());
  EXPECT_EQ(c.facts().logged_in_as, "anonymous");
  EXPECT_FALSE(c.facts().data.has_value());
  EXPECT_EQ(c.diag().peer_text,
            std::vector<std::string>{"502 No data channel on this server (control channel only)"});
}

TEST(FtpRoundTrip, LoginOnly) {
  client_options co;
  co.log_in = true;
  client c(co);
  server s(server_options{});
  const auto r = testing::run_pair(c, s);
  EXPECT_EQ(testing::kind_name(r.client_end), std::string("done")) << r.client_error.message();
  EXPECT_TRUE(s.logged_in());
  EXPECT_EQ(c.facts().logged_in_as, "anonymous");
}

TEST(FtpRoundTrip, NamedUserIsLoginFailed) {
  client_options co;
  co.log_in = true;
  co.user = "alice";
  co.password = "s3cret";
  client c(co);
  server s(server_options{});
  const auto r = testing::run_pair(c, s);
  EXPECT_EQ(r.client_error, errc::login_failed) << r.client_error.message();
  EXPECT_FALSE(s.logged_in());
  EXPECT_TRUE(c.facts().logged_in_as.empty());
}

TEST(FtpRoundTrip, NoTlsAtMaySendsNoCredentials) {
  client_options co;
  co.require_tls = false;
  co.log_in = true;
  co.transfer_data = true;
  client c(co);
  server_options so;
  so.tls_available = false;
  server s(so);
  const auto r = testing::run_pair(c, s);
  EXPECT_EQ(testing::kind_name(r.client_end), std::string("done")) << r.client_error.message();
  EXPECT_FALSE(r.upgraded);
  EXPECT_FALSE(s.logged_in());
  EXPECT_TRUE(c.facts().logged_in_as.empty());
  EXPECT_TRUE(c.facts().ended_in_plaintext);
  EXPECT_EQ(c.facts().warnings.size(), 2u);
}

// Our client against our server when the server offers no upgrade.
TEST(FtpRoundTrip, NoTlsServerFailsAtVerifyAndWarnsAtMay) {
  testing::expect_no_offer_handled<client, server>(server_options{});
}

}  // namespace
}  // namespace otls::proto::ftp
