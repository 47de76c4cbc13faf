// The FTP STRIPTLS rewriter used by the demo lab: removes AUTH from FEAT lists, turns the 234
// go-ahead into a refusal, and meets the client role, which then reports starttls_not_supported.
#include "otls/proto/ftp/offer_stripper.hpp"

#include <gtest/gtest.h>

#include "dialect_harness.hpp"
#include "otls/proto/ftp/client.hpp"
#include "otls/proto/ftp/server.hpp"
#include "transcript.hpp"

namespace otls::proto::ftp {
namespace {

using testing::transcript;

constexpr std::string_view proftpd_feat =
    "211-Features:\r\n AUTH TLS\r\n CCC\r\n CLNT\r\n CSID\r\n EPRT\r\n EPSV\r\n HOST\r\n"
    " LANG C.UTF-8*\r\n MDTM\r\n MFF modify;UNIX.group;UNIX.mode;\r\n MFMT\r\n"
    " MLST modify*;perm*;size*;type*;unique*;UNIX.group*;UNIX.groupname*;UNIX.mode*;"
    "UNIX.owner*;UNIX.ownername*;\r\n PBSZ\r\n PROT\r\n RANG STREAM\r\n REST STREAM\r\n SIZE\r\n"
    " SSCN\r\n TVFS\r\n UTF8\r\n211 End\r\n";

std::string without_auth_line(std::string_view feat) {
  std::string out(feat);
  const auto at = out.find(" AUTH TLS\r\n");
  out.erase(at, std::string_view(" AUTH TLS\r\n").size());
  return out;
}

TEST(FtpStripper, RemovesAuthFromFeatAndRefusesTheGoAhead) {
  offer_stripper s;
  const std::string greeting = "220 ProFTPD Server (otls interop ProFTPD) [127.0.0.1]\r\n";
  EXPECT_EQ(s.from_server(greeting), greeting);
  EXPECT_EQ(s.from_server(proftpd_feat), without_auth_line(proftpd_feat));
  EXPECT_EQ(s.offers_removed(), 1u);
  EXPECT_EQ(s.from_server("234 AUTH TLS successful\r\n"), "502 Command not implemented\r\n");
  EXPECT_EQ(s.offers_removed(), 2u);
}

TEST(FtpStripper, AcrossChunksBareLfAndOddCase) {
  offer_stripper s;
  std::string out = s.from_server("211-Features:\n EPSV\r\n Au");
  EXPECT_EQ(out, "211-Features:\r\n EPSV\r\n");  // complete lines go on at once
  out += s.from_server("th ssl;tls\r\n UTF8\r\n211 E");
  out += s.from_server("nd\r\n23");
  EXPECT_EQ(out, "211-Features:\r\n EPSV\r\n UTF8\r\n211 End\r\n");
  EXPECT_EQ(s.from_server("4 go\r\n"), "502 Command not implemented\r\n");
  EXPECT_EQ(s.offers_removed(), 2u);
}

TEST(FtpStripper, OnlyInsideFeatLists) {
  offer_stripper s;
  // HELP text and other multi-line replies pass untouched, as do lookalike features.
  const std::string help =
      "214-The following commands are recognized:\r\n AUTH CCC FEAT\r\n"
      "AUTH TLS\r\n214 Direct comments to root\r\n";
  EXPECT_EQ(s.from_server(help), help);
  const std::string feat = "211-Features:\r\n AUTHX TLS\r\n XAUTH\r\n211 End\r\n";
  EXPECT_EQ(s.from_server(feat), feat);
  EXPECT_EQ(s.from_server("500 AUTH not understood\r\n"), "500 AUTH not understood\r\n");
  EXPECT_EQ(s.offers_removed(), 0u);
}

TEST(FtpStripper, A234InsideAMultiLineReplyIsFreeText) {
  offer_stripper s;
  const std::string motd = "230-Welcome\r\n234 lines of news\r\n230 Logged in\r\n";
  EXPECT_EQ(s.from_server(motd), motd);
  EXPECT_EQ(s.offers_removed(), 0u);
}

TEST(FtpStripper, PassesNonFtpThrough) {
  offer_stripper s;
  const std::string blob(10'000, 'x');
  EXPECT_EQ(s.from_server(blob), blob);
  // Once passing through, nothing is touched any more.
  EXPECT_EQ(s.from_server("211-Features:\r\n AUTH TLS\r\n211 End\r\n"),
            "211-Features:\r\n AUTH TLS\r\n211 End\r\n");
  EXPECT_EQ(s.from_server("234 go\r\n"), "234 go\r\n");
  EXPECT_EQ(s.offers_removed(), 0u);
}

TEST(FtpStripper, ClientThenReportsNotSupported) {
  offer_stripper s;
  client c(client_options{});
  transcript(c)
      .feed(s.from_server("220 ProFTPD Server (otls interop ProFTPD) [127.0.0.1]\r\n"))
      .expect_write("FEAT\r\n")
      .feed(s.from_server(proftpd_feat))
      .expect_write("AUTH TLS\r\n")
      .feed(s.from_server("234 AUTH TLS successful\r\n"))
      .expect_write("QUIT\r\n")
      .feed(s.from_server("221 Goodbye.\r\n"))
      .expect_fail(errc::starttls_not_supported);
  EXPECT_FALSE(c.facts().starttls_offered);
  EXPECT_FALSE(c.facts().starttls_accepted);
  EXPECT_FALSE(c.facts().ended_in_plaintext);
  EXPECT_EQ(c.facts().capabilities_before_tls.size(), 19u);
  EXPECT_EQ(s.offers_removed(), 2u);
}

// run_pair() cannot carry this case: once the stripper has rewritten the 234, the server asks
// for start_tls alone while the client sends QUIT in plaintext. In a real session the server's
// handshake then fails on that QUIT and it closes. This pump models exactly that.
struct stripped_result {
  proto::action::kind client_end = proto::action::kind::need_more;
  error_code client_error;
  bool server_tried_tls = false;
  bool upgraded = false;
};

stripped_result run_through_stripper(client& c, server& s, offer_stripper& m) {
  stripped_result r;
  bool server_closed = false;
  for (int step = 0; step < 200; ++step) {
    const proto::action ca = c.next();
    switch (ca.what) {
      case proto::action::kind::write:
        if (!server_closed) s.feed(ca.bytes);
        break;
      case proto::action::kind::start_tls:
        r.upgraded = true;  // never expected: the client saw no go-ahead
        c.on_eof();
        break;
      case proto::action::kind::done:
      case proto::action::kind::fail:
        r.client_end = ca.what;
        r.client_error = ca.error;
        return r;
      default:
        break;
    }
    if (server_closed) continue;
    for (;;) {
      const proto::action sa = s.next();
      if (sa.what == proto::action::kind::write) {
        c.feed(m.from_server(sa.bytes));
        continue;
      }
      if (sa.what == proto::action::kind::start_tls) {
        // The server's handshake meets whatever the client sends next: not a ClientHello.
        r.server_tried_tls = true;
      }
      if (sa.what != proto::action::kind::need_more) {
        server_closed = true;
        c.on_eof();
      }
      break;
    }
  }
  ADD_FAILURE() << "the client did not end";
  return r;
}

TEST(FtpRoles, StripperAgainstOwnServerIsCaught) {
  {
    SCOPED_TRACE("without the stripper");
    client c(client_options{});
    server s(server_options{});
    const auto r = testing::run_pair(c, s);
    EXPECT_EQ(testing::kind_name(r.client_end), std::string("done")) << r.client_error.message();
    EXPECT_TRUE(r.upgraded);
  }
  for (const bool log_in : {false, true}) {
    SCOPED_TRACE(log_in ? "through the stripper, with a login" : "through the stripper");
    offer_stripper m;
    client_options co;
    co.log_in = log_in;
    co.transfer_data = log_in;
    client c(co);
    server s(server_options{});
    const auto r = run_through_stripper(c, s, m);
    EXPECT_EQ(testing::kind_name(r.client_end), std::string("fail"));
    EXPECT_EQ(r.client_error, errc::starttls_not_supported) << r.client_error.message();
    EXPECT_FALSE(r.upgraded);
    EXPECT_TRUE(r.server_tried_tls);
    EXPECT_FALSE(c.facts().starttls_offered);
    EXPECT_FALSE(c.facts().ended_in_plaintext);
    EXPECT_FALSE(s.logged_in());
    EXPECT_EQ(m.offers_removed(), 2u);
  }
}

TEST(FtpRoles, StripperAtMayEndsInPlaintextWithoutCredentials) {
  offer_stripper m;
  client_options co;
  co.require_tls = false;
  co.log_in = true;
  co.user = "alice";
  co.password = "s3cret";
  client c(co);
  server s(server_options{});
  const auto r = run_through_stripper(c, s, m);
  EXPECT_EQ(testing::kind_name(r.client_end), std::string("done")) << r.client_error.message();
  EXPECT_FALSE(r.upgraded);
  EXPECT_TRUE(c.facts().ended_in_plaintext);
  EXPECT_TRUE(c.facts().logged_in_as.empty());
  EXPECT_FALSE(s.logged_in());
}

}  // namespace
}  // namespace otls::proto::ftp
