// The POP3 STRIPTLS rewriter used by the demo lab: removes the STLS capability line, keeps the
// "." terminator and every other byte, and the client then reports starttls_not_supported.
#include "otls/proto/pop3/offer_stripper.hpp"

#include <gtest/gtest.h>

#include "dialect_harness.hpp"
#include "otls/proto/pop3/client.hpp"
#include "otls/proto/pop3/server.hpp"
#include "transcript.hpp"

namespace otls::proto::pop3 {
namespace {

using testing::transcript;

TEST(Pop3Stripper, RemovesStlsFromDovecotCapa) {
  offer_stripper s;
  EXPECT_EQ(s.from_server("+OK Dovecot (Debian) ready.\r\n"), "+OK Dovecot (Debian) ready.\r\n");
  EXPECT_EQ(s.from_server("+OK\r\nCAPA\r\nTOP\r\nRESP-CODES\r\nSTLS\r\nSASL\r\n.\r\n"),
            "+OK\r\nCAPA\r\nTOP\r\nRESP-CODES\r\nSASL\r\n.\r\n");
  EXPECT_EQ(s.offers_removed(), 1u);
}

TEST(Pop3Stripper, RemovesAcrossChunksAnyCaseKeepsBareLf) {
  offer_stripper s;
  std::string out = s.from_server("+OK\nUSER\nst");
  EXPECT_EQ(out, "+OK\nUSER\n");  // the partial line is held until its end is known
  out += s.from_server("ls \n.\n");
  EXPECT_EQ(out, "+OK\nUSER\n.\n");
  EXPECT_EQ(s.offers_removed(), 1u);
}

TEST(Pop3Stripper, LeavesLookalikesAndStatusLinesAlone) {
  offer_stripper s;
  const std::string in = "+OK STLS\r\n-ERR STLS\r\n+OK\r\nSTLSX\r\nX-STLS\r\n..STLS\r\n.\r\n";
  EXPECT_EQ(s.from_server(in), in);
  EXPECT_EQ(s.offers_removed(), 0u);
}

TEST(Pop3Stripper, PassesNonPop3Through) {
  offer_stripper s;
  const std::string blob(10'000, 'x');
  EXPECT_EQ(s.from_server(blob), blob);
  EXPECT_EQ(s.from_server("STLS\r\n"), "STLS\r\n");  // no longer meddling
}

TEST(Pop3Stripper, ClientBehindTheStripperReportsNotSupported) {
  offer_stripper meddler;
  client c(client_options{});
  transcript(c)
      .feed(meddler.from_server("+OK Dovecot (Debian) ready.\r\n"))
      .expect_write("CAPA\r\n")
      .feed(meddler.from_server("+OK\r\nCAPA\r\nSTLS\r\nSASL\r\n.\r\n"))
      .expect_write("QUIT\r\n")
      .feed(meddler.from_server("+OK Logging out.\r\n"))
      .expect_fail(errc::starttls_not_supported);
  EXPECT_EQ(c.facts().capabilities_before_tls, (std::vector<std::string>{"CAPA", "SASL"}));
}

// Our client against our own server, then the same pair with the stripper in between.
TEST(Pop3Roles, StripperAgainstOwnServerIsCaught) {
  offer_stripper m;
  testing::expect_stripper_is_caught<client, server>(m);
}

}  // namespace
}  // namespace otls::proto::pop3
