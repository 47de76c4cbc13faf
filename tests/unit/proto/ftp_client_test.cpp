// FTP client role as transcripts (RFC 959, RFC 4217, RFC 2389, RFC 2428), with replies recorded
// from ProFTPD 1.3.8 (mod_tls), the --data login and listing, plus a fail-count sweep.
#include "otls/proto/ftp/client.hpp"

#include <algorithm>
#include <memory>

#include <gtest/gtest.h>

#include "dialect_harness.hpp"
#include "otls/core/error.hpp"
#include "transcript.hpp"

namespace otls::proto::ftp {
namespace {

using testing::transcript;

constexpr std::string_view greeting = "220 ProFTPD Server (otls interop ProFTPD) [127.0.0.1]\r\n";
constexpr std::string_view feat =
    "211-Features:\r\n AUTH TLS\r\n CCC\r\n CLNT\r\n CSID\r\n EPRT\r\n EPSV\r\n HOST\r\n"
    " LANG C.UTF-8*\r\n MDTM\r\n MFF modify;UNIX.group;UNIX.mode;\r\n MFMT\r\n"
    " MLST modify*;perm*;size*;type*;unique*;UNIX.group*;UNIX.groupname*;UNIX.mode*;"
    "UNIX.owner*;UNIX.ownername*;\r\n PBSZ\r\n PROT\r\n RANG STREAM\r\n REST STREAM\r\n SIZE\r\n"
    " SSCN\r\n TVFS\r\n UTF8\r\n211 End\r\n";
// The same list without AUTH (a server without mod_tls, or a stripped one).
constexpr std::string_view feat_without_auth =
    "211-Features:\r\n EPRT\r\n EPSV\r\n MDTM\r\n SIZE\r\n UTF8\r\n211 End\r\n";
constexpr std::string_view auth_ok = "234 AUTH TLS successful\r\n";
constexpr std::string_view pbsz_ok = "200 PBSZ 0 successful\r\n";
constexpr std::string_view prot_ok = "200 Protection set to Private\r\n";
constexpr std::string_view user_ok =
    "331 Anonymous login ok, send your complete email address as your password\r\n";
constexpr std::string_view pass_ok = "230 Anonymous access granted, restrictions apply\r\n";
constexpr std::string_view epsv_ok = "229 Entering Extended Passive Mode (|||57453|)\r\n";
constexpr std::string_view pasv_ok = "227 Entering Passive Mode (127,0,0,1,209,247).\r\n";
constexpr std::string_view list_start = "150 Opening ASCII mode data connection for file list\r\n";
constexpr std::string_view list_done = "226 Transfer complete\r\n";
constexpr std::string_view bye = "221 Goodbye.\r\n";

client_options opts(bool require_tls = true) {
  client_options o;
  o.require_tls = require_tls;
  return o;
}

client_options data_opts(bool require_tls = true) {
  client_options o = opts(require_tls);
  o.log_in = true;
  o.transfer_data = true;
  return o;
}

// Greeting through PROT P, TLS up; the next action is whatever follows PROT P.
transcript& upgrade(transcript& t) {
  return t.expect_need_more()
      .feed(greeting)
      .expect_write("FEAT\r\n")
      .feed(feat)
      .expect_write("AUTH TLS\r\n")
      .feed(auth_ok)
      .expect_start_tls("")
      .tls_established()
      .expect_write("FEAT\r\n")
      .feed(feat)
      .expect_write("PBSZ 0\r\n")
      .feed(pbsz_ok)
      .expect_write("PROT P\r\n")
      .feed(prot_ok);
}

// Upgrade, then the anonymous login; the next action is EPSV.
transcript& logged_in(transcript& t) {
  return upgrade(t)
      .expect_write("USER anonymous\r\n")
      .feed(user_ok)
      .expect_write("PASS otls@\r\n")
      .feed(pass_ok);
}

TEST(FtpClient, FullUpgradeAgainstProftpd) {
  client c(opts());
  transcript t(c);
  upgrade(t).expect_write("QUIT\r\n").expect_need_more().feed(bye).expect_done();
  EXPECT_EQ(c.facts().banner,
            std::vector<std::string>{"ProFTPD Server (otls interop ProFTPD) [127.0.0.1]"});
  EXPECT_TRUE(c.facts().starttls_offered);
  EXPECT_TRUE(c.facts().starttls_accepted);
  EXPECT_FALSE(c.facts().ended_in_plaintext);
  EXPECT_TRUE(c.facts().warnings.empty());
  EXPECT_TRUE(c.data_protected());
  EXPECT_TRUE(c.facts().logged_in_as.empty());  // no login without log_in
  EXPECT_FALSE(c.facts().data.has_value());
  ASSERT_EQ(c.facts().capabilities_before_tls.size(), 20u);
  EXPECT_EQ(c.facts().capabilities_before_tls.front(), "AUTH TLS");
  EXPECT_EQ(c.facts().capabilities_before_tls.back(), "UTF8");
  EXPECT_EQ(c.facts().capabilities_after_tls, c.facts().capabilities_before_tls);
  EXPECT_TRUE(c.features().has("MLST"));
  EXPECT_TRUE(c.diag().empty());
}

TEST(FtpClient, CapabilitiesBeforeAndAfterTlsAreKeptApart) {
  // Rule 2: the post-TLS list comes from the FEAT asked inside TLS only.
  client c(opts());
  transcript(c)
      .feed(greeting)
      .expect_write("FEAT\r\n")
      .feed(feat)
      .expect_write("AUTH TLS\r\n")
      .feed(auth_ok)
      .expect_start_tls()
      .tls_established()
      .expect_write("FEAT\r\n")
      .feed("211-Features:\r\n PBSZ\r\n PROT\r\n UTF8\r\n211 End\r\n")
      .expect_write("PBSZ 0\r\n");
  EXPECT_EQ(c.facts().capabilities_before_tls.size(), 20u);
  EXPECT_EQ(c.facts().capabilities_after_tls, (std::vector<std::string>{"PBSZ", "PROT", "UTF8"}));
  EXPECT_FALSE(c.features().has("AUTH"));
  EXPECT_FALSE(c.features().has("MLST"));
}

TEST(FtpClient, FeatRefusedInsideTlsStillProtectsData) {
  // FEAT is informative only: a 500 inside TLS leaves an empty list, and PBSZ/PROT follow.
  client c(opts());
  transcript(c)
      .feed(greeting)
      .expect_write("FEAT\r\n")
      .feed(feat)
      .expect_write("AUTH TLS\r\n")
      .feed(auth_ok)
      .expect_start_tls()
      .tls_established()
      .expect_write("FEAT\r\n")
      .feed("500 FEAT not understood\r\n")
      .expect_write("PBSZ 0\r\n");
  EXPECT_TRUE(c.facts().capabilities_after_tls.empty());
  EXPECT_EQ(c.facts().capabilities_before_tls.size(), 20u);
}

TEST(FtpClient, ImplicitTlsSendsNoAuth) {
  client_options o = opts();
  o.implicit_tls = true;
  client c(o);
  transcript(c)
      .expect_need_more()
      .feed(greeting)
      .expect_write("FEAT\r\n")
      .feed(feat)
      .expect_write("PBSZ 0\r\n")
      .feed(pbsz_ok)
      .expect_write("PROT P\r\n")
      .feed(prot_ok)
      .expect_write("QUIT\r\n")
      .feed(bye)
      .expect_done();
  EXPECT_TRUE(c.facts().capabilities_before_tls.empty());
  EXPECT_EQ(c.facts().capabilities_after_tls.size(), 20u);
  EXPECT_FALSE(c.facts().starttls_accepted);
  EXPECT_FALSE(c.facts().ended_in_plaintext);
  EXPECT_TRUE(c.data_protected());
}

TEST(FtpClient, DataFlowOverEpsv) {
  client c(data_opts());
  transcript t(c);
  logged_in(t)
      .expect_write("EPSV\r\n")
      .feed(epsv_ok)
      .expect_open_data(57453, true)
      .data_opened()
      .expect_write("LIST\r\n")
      .expect_need_more()
      .feed(list_start)
      .expect_finish_data()
      .data_finished("listing\r\n")
      .expect_need_more()
      .feed(list_done)
      .expect_write("QUIT\r\n")
      .feed(bye)
      .expect_done();
  EXPECT_EQ(c.facts().logged_in_as, "anonymous");
  ASSERT_TRUE(c.facts().data.has_value());
  EXPECT_EQ(c.facts().data->command, "LIST");
  EXPECT_TRUE(c.facts().data->protected_by_tls);
  EXPECT_EQ(c.facts().data->bytes, 9u);
  EXPECT_EQ(c.facts().data->lines, std::vector<std::string>{"listing"});
  EXPECT_TRUE(c.facts().warnings.empty());
  EXPECT_TRUE(c.diag().empty());
}

TEST(FtpClient, ListingLinesAreBoundedAndBareLfSplits) {
  client c(data_opts());
  transcript t(c);
  std::string listing = "a\nb\r\n";
  for (int i = 0; i < 100; ++i) listing += "line\r\n";
  logged_in(t)
      .expect_write("EPSV\r\n")
      .feed(epsv_ok)
      .expect_open_data(57453, true)
      .data_opened()
      .expect_write("LIST\r\n")
      .feed(list_start)
      .expect_finish_data()
      .data_finished(listing)
      .feed(list_done)
      .expect_write("QUIT\r\n");
  ASSERT_TRUE(c.facts().data.has_value());
  EXPECT_EQ(c.facts().data->bytes, listing.size());
  ASSERT_EQ(c.facts().data->lines.size(), 64u);
  EXPECT_EQ(c.facts().data->lines[0], "a");
  EXPECT_EQ(c.facts().data->lines[1], "b");
  EXPECT_EQ(c.facts().data->lines[2], "line");
}

TEST(FtpClient, EpsvRefusedFallsBackToPasv) {
  client c(data_opts());
  transcript t(c);
  logged_in(t)
      .expect_write("EPSV\r\n")
      .feed("500 EPSV not understood\r\n")
      .expect_write("PASV\r\n")
      .feed(pasv_ok)
      .expect_open_data(209 * 256 + 247, true, "127.0.0.1")
      .data_opened()
      .expect_write("LIST\r\n")
      .feed(list_start)
      .expect_finish_data()
      .data_finished("")
      .feed(list_done)
      .expect_write("QUIT\r\n")
      .feed(bye)
      .expect_done();
  ASSERT_TRUE(c.facts().data.has_value());
  EXPECT_EQ(c.facts().data->bytes, 0u);
  EXPECT_TRUE(c.facts().data->lines.empty());
}

TEST(FtpClient, PasvRefusedTooIsDataChannelFailure) {
  client c(data_opts());
  transcript t(c);
  logged_in(t)
      .expect_write("EPSV\r\n")
      .feed("500 EPSV not understood\r\n")
      .expect_write("PASV\r\n")
      .feed("500 PASV not understood\r\n")
      .expect_write("QUIT\r\n")
      .feed(bye)
      .expect_fail(errc::data_channel_failure);
  EXPECT_EQ(c.diag().peer_text, std::vector<std::string>{"500 PASV not understood"});
  EXPECT_EQ(c.facts().logged_in_as, "anonymous");
  EXPECT_FALSE(c.facts().data.has_value());
}

TEST(FtpClient, UnparsablePassiveRepliesAreDataChannelFailures) {
  for (const bool epsv : {true, false}) {
    SCOPED_TRACE(epsv ? "EPSV" : "PASV");
    client c(data_opts());
    transcript t(c);
    logged_in(t).expect_write("EPSV\r\n");
    if (epsv) {
      t.feed("229 Entering Extended Passive Mode (|||0|)\r\n");
    } else {
      t.feed("502 no\r\n")
          .expect_write("PASV\r\n")
          .feed("227 Entering Passive Mode (127,0,0,1,256,1).\r\n");
    }
    t.expect_write("QUIT\r\n").feed(bye).expect_fail(errc::data_channel_failure);
  }
}

TEST(FtpClient, NamedUserAndPassword) {
  client_options o = data_opts();
  o.transfer_data = false;
  o.user = "alice";
  o.password = "s3cret";
  client c(o);
  transcript t(c);
  upgrade(t)
      .expect_write("USER alice\r\n")
      .feed("331 Password required for alice\r\n")
      .expect_write("PASS s3cret\r\n")
      .feed("230 User alice logged in\r\n")
      .expect_write("QUIT\r\n")  // log_in without transfer_data: no EPSV
      .feed(bye)
      .expect_done();
  EXPECT_EQ(c.facts().logged_in_as, "alice");
  EXPECT_FALSE(c.facts().data.has_value());
}

TEST(FtpClient, LineBreaksInCredentialsAreNeverSent) {
  // "alice\r\nDELE x" would smuggle a second command behind USER.
  for (const auto& [user, password] : {std::pair<std::string, std::string>{"alice\r\nDELE x", "p"},
                                       {"alice", std::string("p\nDELE x")},
                                       {"alice", std::string("p\0x", 3)}}) {
    client_options o = data_opts();
    o.user = user;
    o.password = password;
    client c(o);
    transcript t(c);
    upgrade(t).expect_write("QUIT\r\n").feed(bye).expect_fail(errc::login_failed);
    EXPECT_TRUE(c.facts().logged_in_as.empty());
  }
}

TEST(FtpClient, UserAloneCanLogIn) {
  // 230 straight after USER: no password wanted.
  client_options o = data_opts();
  o.transfer_data = false;
  client c(o);
  transcript t(c);
  upgrade(t)
      .expect_write("USER anonymous\r\n")
      .feed("230 Anonymous access granted\r\n")
      .expect_write("QUIT\r\n")
      .feed(bye)
      .expect_done();
  EXPECT_EQ(c.facts().logged_in_as, "anonymous");
}

TEST(FtpClient, TransferDataAloneLogsInAnonymously) {
  client_options o = opts();
  o.transfer_data = true;
  client c(o);
  transcript t(c);
  logged_in(t).expect_write("EPSV\r\n");
  EXPECT_EQ(c.facts().logged_in_as, "anonymous");
}

class FtpLoginRefusal : public ::testing::TestWithParam<const char*> {};

TEST_P(FtpLoginRefusal, IsLoginFailed) {
  client c(data_opts());
  transcript t(c);
  upgrade(t)
      .expect_write("USER anonymous\r\n")
      .feed(user_ok)
      .expect_write("PASS otls@\r\n")
      .feed(GetParam())
      .expect_write("QUIT\r\n")
      .feed(bye)
      .expect_fail(errc::login_failed);
  EXPECT_TRUE(c.facts().logged_in_as.empty());
  ASSERT_FALSE(c.diag().peer_text.empty());
  EXPECT_EQ(c.diag().peer_text.back().substr(0, 3), std::string(GetParam()).substr(0, 3));
  EXPECT_NE(c.diag().detail.find("anonymous"), std::string::npos);
}

INSTANTIATE_TEST_SUITE_P(ProftpdReplies, FtpLoginRefusal,
                         ::testing::Values("530 Login incorrect.\r\n",
                                           "530-Unable to set anonymous privileges.\r\n"
                                           "530 Login incorrect.\r\n",
                                           "332 Need account for login.\r\n",
                                           "503 Login with USER first\r\n"));

TEST(FtpClient, UserRefusedIsLoginFailed) {
  client c(data_opts());
  transcript t(c);
  upgrade(t)
      .expect_write("USER anonymous\r\n")
      .feed("530 Login incorrect.\r\n")
      .expect_write("QUIT\r\n")
      .eof()
      .expect_fail(errc::login_failed);
}

TEST(FtpClient, AccountWantedSaysSo) {
  client c(data_opts());
  transcript t(c);
  upgrade(t)
      .expect_write("USER anonymous\r\n")
      .feed("332 Need account for login.\r\n")
      .expect_write("QUIT\r\n")
      .feed(bye)
      .expect_fail(errc::login_failed);
  EXPECT_NE(c.diag().detail.find("ACCT"), std::string::npos);
}

TEST(FtpClient, Login421IsServiceUnavailable) {
  client c(data_opts());
  transcript t(c);
  upgrade(t)
      .expect_write("USER anonymous\r\n")
      .feed("421 Login timeout (300 seconds): closing control connection\r\n")
      .expect_fail(errc::service_unavailable);
}

class FtpListRefusal : public ::testing::TestWithParam<const char*> {};

TEST_P(FtpListRefusal, IsDataChannelFailure) {
  client c(data_opts());
  transcript t(c);
  logged_in(t)
      .expect_write("EPSV\r\n")
      .feed(epsv_ok)
      .expect_open_data(57453, true)
      .data_opened()
      .expect_write("LIST\r\n")
      .feed(GetParam())
      .expect_write("QUIT\r\n")
      .feed(bye)
      .expect_fail(errc::data_channel_failure);
  const std::string sent = GetParam();
  EXPECT_EQ(c.diag().peer_text, std::vector<std::string>{sent.substr(0, sent.size() - 2)});
  EXPECT_FALSE(c.facts().data.has_value());
}

INSTANTIATE_TEST_SUITE_P(
    ProftpdReplies, FtpListRefusal,
    ::testing::Values("425 Unable to build data connection: Operation not permitted\r\n",
                      "550 SSL/TLS required on the control channel\r\n",
                      "522 SSL/TLS required on the data channel\r\n"));

TEST(FtpClient, TransferFailureAfter150IsDataChannelFailure) {
  client c(data_opts());
  transcript t(c);
  logged_in(t)
      .expect_write("EPSV\r\n")
      .feed(epsv_ok)
      .expect_open_data(57453, true)
      .data_opened()
      .expect_write("LIST\r\n")
      .feed(list_start)
      .expect_finish_data()
      .data_finished("partial")
      .feed("426 Data connection closed; transfer aborted\r\n")
      .expect_write("QUIT\r\n")
      .feed(bye)
      .expect_fail(errc::data_channel_failure);
}

TEST(FtpClient, DataConnectionNotOpenedIsDataChannelFailure) {
  client c(data_opts());
  transcript t(c);
  logged_in(t)
      .expect_write("EPSV\r\n")
      .feed(epsv_ok)
      .expect_open_data(57453, true)
      .data_opened(make_error_code(boost::system::errc::connection_refused))
      .expect_write("QUIT\r\n")
      .feed(bye)
      .expect_fail(errc::data_channel_failure);
  EXPECT_NE(c.diag().detail.find("could not be opened"), std::string::npos);
}

TEST(FtpClient, DataConnectionFailingIsDataChannelFailure) {
  client c(data_opts());
  transcript t(c);
  logged_in(t)
      .expect_write("EPSV\r\n")
      .feed(epsv_ok)
      .expect_open_data(57453, true)
      .data_opened()
      .expect_write("LIST\r\n")
      .feed(list_start)
      .expect_finish_data()
      .data_finished("half a list", make_error_code(boost::system::errc::timed_out))
      .expect_write("QUIT\r\n")
      .feed(bye)
      .expect_fail(errc::data_channel_failure);
  EXPECT_FALSE(c.facts().data.has_value());  // nothing reported from a failed transfer
  EXPECT_NE(c.diag().detail.find("data connection failed"), std::string::npos);
}

TEST(FtpClient, DriverThatDoesNotReportFails) {
  client c(data_opts());
  transcript t(c);
  logged_in(t)
      .expect_write("EPSV\r\n")
      .feed(epsv_ok)
      .expect_open_data(57453, true)
      .expect_fail(errc::data_channel_failure);  // no on_data_opened()
}

TEST(FtpClient, TransferCompleteStraightAfterList) {
  // A 226 without a preliminary 150: the data is already complete; it is still read.
  client c(data_opts());
  transcript t(c);
  logged_in(t)
      .expect_write("EPSV\r\n")
      .feed(epsv_ok)
      .expect_open_data(57453, true)
      .data_opened()
      .expect_write("LIST\r\n")
      .feed(list_done)
      .expect_finish_data()
      .data_finished("listing\r\n")
      .expect_write("QUIT\r\n")
      .feed(bye)
      .expect_done();
  ASSERT_TRUE(c.facts().data.has_value());
  EXPECT_EQ(c.facts().data->lines, std::vector<std::string>{"listing"});
}

TEST(FtpClient, ProtRefusedWhenRequiredFails) {
  for (std::string_view refusal :
       {"536 PROT S unsupported\r\n", "534 Unwilling to accept security parameters\r\n"}) {
    client c(data_opts());
    transcript(c)
        .feed(greeting)
        .expect_write("FEAT\r\n")
        .feed(feat)
        .expect_write("AUTH TLS\r\n")
        .feed(auth_ok)
        .expect_start_tls()
        .tls_established()
        .expect_write("FEAT\r\n")
        .feed(feat)
        .expect_write("PBSZ 0\r\n")
        .feed(pbsz_ok)
        .expect_write("PROT P\r\n")
        .feed(refusal)
        .expect_write("QUIT\r\n")  // no USER: the transfer would cross in plaintext
        .feed(bye)
        .expect_fail(errc::data_protection_refused);
    EXPECT_FALSE(c.data_protected());
    EXPECT_TRUE(c.facts().logged_in_as.empty());
    EXPECT_NE(c.diag().detail.find("PROT P"), std::string::npos);
  }
}

TEST(FtpClient, PbszRefusedWhenRequiredFails) {
  client c(opts());
  transcript(c)
      .feed(greeting)
      .expect_write("FEAT\r\n")
      .feed(feat)
      .expect_write("AUTH TLS\r\n")
      .feed(auth_ok)
      .expect_start_tls()
      .tls_established()
      .expect_write("FEAT\r\n")
      .feed(feat)
      .expect_write("PBSZ 0\r\n")
      .feed("500 PBSZ not understood\r\n")
      .expect_write("QUIT\r\n")
      .eof()
      .expect_fail(errc::data_protection_refused);
  EXPECT_NE(c.diag().detail.find("PBSZ 0"), std::string::npos);
}

TEST(FtpClient, ProtRefusedAtMayWarnsAndTransfersUnprotected) {
  client c(data_opts(false));
  transcript(c)
      .feed(greeting)
      .expect_write("FEAT\r\n")
      .feed(feat)
      .expect_write("AUTH TLS\r\n")
      .feed(auth_ok)
      .expect_start_tls()
      .tls_established()
      .expect_write("FEAT\r\n")
      .feed(feat)
      .expect_write("PBSZ 0\r\n")
      .feed(pbsz_ok)
      .expect_write("PROT P\r\n")
      .feed("536 PROT S unsupported\r\n")
      // The login itself is inside TLS: it goes ahead.
      .expect_write("USER anonymous\r\n")
      .feed(user_ok)
      .expect_write("PASS otls@\r\n")
      .feed(pass_ok)
      .expect_write("EPSV\r\n")
      .feed(epsv_ok)
      .expect_open_data(57453, false)
      .data_opened()
      .expect_write("LIST\r\n")
      .feed(list_start)
      .expect_finish_data()
      .data_finished("x\r\n")
      .feed(list_done)
      .expect_write("QUIT\r\n")
      .feed(bye)
      .expect_done();
  EXPECT_FALSE(c.data_protected());
  EXPECT_FALSE(c.facts().ended_in_plaintext);  // the control channel was protected
  ASSERT_EQ(c.facts().warnings.size(), 1u);
  EXPECT_NE(c.facts().warnings[0].find("536 PROT S unsupported"), std::string::npos);
  EXPECT_NE(c.facts().warnings[0].find("PLAINTEXT"), std::string::npos);
  ASSERT_TRUE(c.facts().data.has_value());
  EXPECT_FALSE(c.facts().data->protected_by_tls);
}

// AUTH refusals from a server whose FEAT did not list AUTH TLS: it does not implement it.
class FtpAuthUnlisted : public ::testing::TestWithParam<const char*> {};

TEST_P(FtpAuthUnlisted, IsStarttlsNotSupported) {
  client c(opts());
  transcript(c)
      .feed(greeting)
      .expect_write("FEAT\r\n")
      .feed(feat_without_auth)
      .expect_write("AUTH TLS\r\n")  // sent all the same
      .feed(GetParam())
      .expect_write("QUIT\r\n")
      .feed(bye)
      .expect_fail(errc::starttls_not_supported);
  EXPECT_FALSE(c.facts().starttls_offered);
  EXPECT_FALSE(c.facts().starttls_accepted);
  EXPECT_FALSE(c.facts().ended_in_plaintext);
  const std::string sent = GetParam();
  EXPECT_EQ(c.diag().peer_text, std::vector<std::string>{sent.substr(0, sent.size() - 2)});
}

INSTANTIATE_TEST_SUITE_P(Replies, FtpAuthUnlisted,
                         ::testing::Values("500 AUTH not understood\r\n",
                                           "502 Command not implemented\r\n",
                                           "504 Security mechanism not understood\r\n"));

TEST(FtpClient, NoFeatAndNoAuthIsNotSupported) {
  client c(opts());
  transcript(c)
      .feed(greeting)
      .expect_write("FEAT\r\n")
      .feed("500 FEAT not understood\r\n")
      .expect_write("AUTH TLS\r\n")
      .feed("500 AUTH not understood\r\n")
      .expect_write("QUIT\r\n")
      .feed(bye)
      .expect_fail(errc::starttls_not_supported);
  EXPECT_TRUE(c.facts().capabilities_before_tls.empty());
}

// Refusals that name a policy or a temporary problem, whether or not AUTH TLS was listed.
class FtpAuthRefusal : public ::testing::TestWithParam<std::tuple<const char*, bool>> {};

TEST_P(FtpAuthRefusal, IsStarttlsRejected) {
  const auto [refusal, listed] = GetParam();
  client c(opts());
  transcript(c)
      .feed(greeting)
      .expect_write("FEAT\r\n")
      .feed(listed ? feat : feat_without_auth)
      .expect_write("AUTH TLS\r\n")
      .feed(refusal)
      .expect_write("QUIT\r\n")
      .eof()
      .expect_fail(errc::starttls_rejected);
  EXPECT_EQ(c.facts().starttls_offered, listed);
  EXPECT_FALSE(c.facts().starttls_accepted);
  ASSERT_FALSE(c.diag().peer_text.empty());
  EXPECT_EQ(c.diag().peer_text.front().substr(0, 3), std::string(refusal).substr(0, 3));
}

INSTANTIATE_TEST_SUITE_P(
    Replies, FtpAuthRefusal,
    ::testing::Combine(::testing::Values("534 Unwilling to accept security parameters\r\n",
                                         "431 TLS is not available on this server\r\n",
                                         "334 ADAT=xyz\r\n", "200 sure\r\n"),
                       ::testing::Bool()));

TEST(FtpClient, ListedThenUnknownIsRejected) {
  // FEAT listed AUTH TLS, then the server says it does not know it: a refusal, not an absence.
  for (std::string_view refusal :
       {"504 Security mechanism not understood\r\n", "500 AUTH not understood\r\n"}) {
    client c(opts());
    transcript(c)
        .feed(greeting)
        .expect_write("FEAT\r\n")
        .feed(feat)
        .expect_write("AUTH TLS\r\n")
        .feed(refusal)
        .expect_write("QUIT\r\n")
        .feed(bye)
        .expect_fail(errc::starttls_rejected);
    EXPECT_TRUE(c.facts().starttls_offered);
  }
}

TEST(FtpClient, Auth421IsServiceUnavailable) {
  client c(opts());
  transcript(c)
      .feed(greeting)
      .expect_write("FEAT\r\n")
      .feed(feat)
      .expect_write("AUTH TLS\r\n")
      .feed("421 Service not available, closing control connection\r\n")
      .expect_fail(errc::service_unavailable);
}

TEST(FtpClient, RefusalAtMayContinuesInPlaintextWithoutCredentials) {
  // Level may, no AUTH: the session ends politely in plaintext and never sends USER or PASS,
  // although a login and a transfer were asked for.
  client_options o = data_opts(false);
  o.user = "alice";
  o.password = "s3cret";
  client c(o);
  transcript(c)
      .feed(greeting)
      .expect_write("FEAT\r\n")
      .feed(feat_without_auth)
      .expect_write("AUTH TLS\r\n")
      .feed("500 AUTH not understood\r\n")
      .expect_write("QUIT\r\n")
      .feed(bye)
      .expect_done();
  EXPECT_TRUE(c.facts().ended_in_plaintext);
  EXPECT_FALSE(c.facts().starttls_accepted);
  EXPECT_TRUE(c.facts().logged_in_as.empty());
  EXPECT_FALSE(c.facts().data.has_value());
  ASSERT_EQ(c.facts().warnings.size(), 2u);
  const auto& w = c.facts().warnings;
  EXPECT_TRUE(std::any_of(w.begin(), w.end(), [](const std::string& s) {
    return s.find("credentials") != std::string::npos;
  }));
  EXPECT_TRUE(std::any_of(w.begin(), w.end(), [](const std::string& s) {
    return s.find("500 AUTH not understood") != std::string::npos;
  }));
}

TEST(FtpClient, RefusalAtMayWithoutLoginWarnsOnce) {
  client c(opts(false));
  transcript(c)
      .feed(greeting)
      .expect_write("FEAT\r\n")
      .feed(feat)
      .expect_write("AUTH TLS\r\n")
      .feed("534 Unwilling to accept security parameters\r\n")
      .expect_write("QUIT\r\n")
      .eof()
      .expect_done();
  EXPECT_TRUE(c.facts().ended_in_plaintext);
  EXPECT_EQ(c.facts().warnings.size(), 1u);
  EXPECT_EQ(c.diag().peer_text,
            std::vector<std::string>{"534 Unwilling to accept security parameters"});
}

TEST(FtpClient, ResponseInjectionLeavesLeftover) {
  // Rule 1: the driver refuses to handshake when anything follows the 234 line.
  client c(opts());
  transcript(c)
      .feed(greeting)
      .expect_write("FEAT\r\n")
      .feed(feat)
      .expect_write("AUTH TLS\r\n")
      .feed("234 AUTH TLS successful\r\nleftover")
      .expect_start_tls("leftover");
}

TEST(FtpClient, InjectedRepliesAreLeftoverNotRead) {
  client c(opts());
  transcript(c)
      .feed(greeting)
      .expect_write("FEAT\r\n")
      .feed(feat)
      .expect_write("AUTH TLS\r\n")
      .feed("234 AUTH TLS successful\r\n211-Features:\r\n PBSZ\r\n211 End\r\n200 ok\r\n")
      .expect_start_tls("211-Features:\r\n PBSZ\r\n211 End\r\n200 ok\r\n");
}

TEST(FtpClient, TlsLayerStartsWithAFreshParser) {
  // A half reply before the handshake must not be joined with what comes inside TLS.
  client c(opts());
  transcript(c)
      .feed(greeting)
      .expect_write("FEAT\r\n")
      .feed(feat)
      .expect_write("AUTH TLS\r\n")
      .feed("234 AUTH TLS successful\r\n211-fake")
      .expect_start_tls("211-fake")
      .tls_established()
      .expect_write("FEAT\r\n")
      .feed("211-Features:\r\n PROT\r\n211 End\r\n")
      .expect_write("PBSZ 0\r\n");
  EXPECT_EQ(c.facts().capabilities_after_tls, std::vector<std::string>{"PROT"});
}

TEST(FtpClient, MultiLineReplySplitAcrossChunksWithBareLf) {
  client c(opts());
  transcript t(c);
  t.feed(greeting).expect_write("FEAT\r\n");
  std::string bare(feat);
  for (std::size_t i = bare.find("\r\n"); i != std::string::npos; i = bare.find("\r\n", i))
    bare.erase(i, 1);
  for (std::size_t i = 0; i < bare.size(); i += 7) {
    t.expect_need_more().feed(std::string_view(bare).substr(i, 7));
  }
  t.expect_write("AUTH TLS\r\n");
  EXPECT_EQ(c.facts().capabilities_before_tls.size(), 20u);
  EXPECT_TRUE(c.facts().starttls_offered);
}

TEST(FtpClient, PreliminaryReplyBeforeGreeting) {
  client c(opts());
  transcript(c)
      .feed("120 Service ready in 1 minute\r\n")
      .expect_need_more()
      .feed(greeting)
      .expect_write("FEAT\r\n");
  EXPECT_EQ(c.facts().banner,
            std::vector<std::string>{"ProFTPD Server (otls interop ProFTPD) [127.0.0.1]"});
}

TEST(FtpClient, EndlessPreliminaryRepliesFail) {
  client c(opts());
  transcript t(c);
  for (int i = 0; i < 8; ++i) t.feed("120 wait\r\n").expect_need_more();
  t.feed("120 wait\r\n").expect_fail(errc::unexpected_reply);
}

TEST(FtpClient, Greeting421IsServiceUnavailable) {
  client c(opts());
  transcript(c)
      .feed("421 Too many connections, try again later\r\n")
      .expect_fail(errc::service_unavailable);
  EXPECT_EQ(c.diag().peer_text,
            std::vector<std::string>{"421 Too many connections, try again later"});
  transcript(c).expect_fail(errc::service_unavailable);  // stays failed
}

TEST(FtpClient, OtherGreetingIsUnexpected) {
  client c(opts());
  transcript(c).feed("530 Access denied\r\n").expect_fail(errc::unexpected_reply);
}

TEST(FtpClient, MultiLineGreetingBanner) {
  client c(opts());
  transcript(c).feed("220-Welcome\r\n  to the lab\r\n220 ready\r\n").expect_write("FEAT\r\n");
  EXPECT_EQ(c.facts().banner, (std::vector<std::string>{"Welcome", "  to the lab", "ready"}));
}

TEST(FtpClient, GarbageIsMalformed) {
  client c(opts());
  transcript(c)
      .feed(std::string_view("\x16\x03\x01\x02\x00\r\n", 7))
      .expect_fail(errc::malformed_reply);
}

TEST(FtpClient, OversizedLineFails) {
  client c(opts());
  transcript(c).feed("220 " + std::string(100'000, 'x')).expect_fail(core::errc::line_too_long);
}

TEST(FtpClient, CloseMidReplyAndBeforeGreeting) {
  {
    client c(opts());
    transcript(c)
        .feed(greeting)
        .expect_write("FEAT\r\n")
        .feed("211-Features:\r\n AUTH TLS\r\n")
        .eof()
        .expect_fail(errc::unexpected_close);
    EXPECT_NE(c.diag().detail.find("middle of a reply"), std::string::npos);
  }
  {
    client c(opts());
    transcript(c).eof().expect_fail(errc::unexpected_close);
  }
}

TEST(FtpClient, ServerClosesAfterQuitIsFine) {
  client c(opts());
  transcript t(c);
  upgrade(t).expect_write("QUIT\r\n").expect_need_more().eof().expect_done();
}

TEST(FtpClient, OneMorePreliminaryReplyAfterTheDataIsTolerated) {
  client c(data_opts());
  transcript t(c);
  logged_in(t)
      .expect_write("EPSV\r\n")
      .feed(epsv_ok)
      .expect_open_data(57453, true)
      .data_opened()
      .expect_write("LIST\r\n")
      .feed(list_start)
      .expect_finish_data()
      .data_finished("x\r\n")
      .feed("150 again\r\n")
      .expect_need_more()
      .feed(list_done)
      .expect_write("QUIT\r\n");
}

// ---- fail-count sweep ------------------------------------------------------------------------

// The --data session, one entry per server reply.
std::vector<std::string> data_script() {
  return {std::string(greeting),   std::string(feat),      std::string(auth_ok),
          std::string(feat),       std::string(pbsz_ok),   std::string(prot_ok),
          std::string(user_ok),    std::string(pass_ok),   std::string(epsv_ok),
          std::string(list_start), std::string(list_done), std::string(bye)};
}

TEST(FtpClient, DataScriptRunsCleanWithoutFaults) {
  // The sweep's baseline: the script itself completes (its last reply answers QUIT).
  const auto script = data_script();
  client c(data_opts());
  const auto r = testing::run_with_fault(c, script, script.size(), "");
  EXPECT_EQ(r.end, testing::sweep_end::completed);
  ASSERT_TRUE(c.facts().data.has_value());
  EXPECT_EQ(c.facts().data->lines, std::vector<std::string>{"file"});
}

TEST(FtpClient, FailCountSweepOverTheDataSession) {
  const auto script = data_script();
  // Faults that must end the session at every step short of the last one (the reply to QUIT,
  // after which any end is a good end).
  const std::vector<std::string> faults = {
      "",  // the server hangs up
      "421 Service not available, closing control connection\r\n",
      "500 Syntax error\r\n",
      "550 SSL/TLS required on the control channel\r\n",
      "530-Unable to set anonymous privileges.\r\n530 Login incorrect.\r\n",
      "211-Features:\r\n AUTH TLS\r\n",  // cut mid-reply
      "garbage\r\n",
      std::string(5000, 'A'),
  };
  testing::sweep_options o;
  o.may_complete = [&](std::size_t fault_at, const std::string&) {
    return fault_at + 1 == script.size();
  };
  const auto cases = testing::fail_count_sweep([] { return std::make_unique<client>(data_opts()); },
                                               script, faults, o);
  EXPECT_EQ(cases.size(), script.size() * faults.size());
  // Level may: an AUTH refusal continues in plaintext and ends well; nothing else does.
  testing::sweep_options may = o;
  may.label = "(may)";
  may.may_complete = [&](std::size_t fault_at, const std::string& fault) {
    return fault_at + 1 == script.size() ||
           (fault_at == 2 && fault.size() > 3 && (fault[0] == '5' || fault[0] == '2'));
  };
  testing::fail_count_sweep([] { return std::make_unique<client>(data_opts(false)); }, script,
                            faults, may);
}

}  // namespace
}  // namespace otls::proto::ftp
