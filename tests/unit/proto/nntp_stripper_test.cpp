// The NNTP STRIPTLS rewriter used by the demo lab: removes the offer, keeps the block framing,
// and meets the client role, which then reports starttls_not_supported.
#include "otls/proto/nntp/offer_stripper.hpp"

#include <gtest/gtest.h>

#include "dialect_harness.hpp"
#include "otls/proto/nntp/client.hpp"
#include "otls/proto/nntp/server.hpp"
#include "transcript.hpp"

namespace otls::proto::nntp {
namespace {

TEST(NntpStripper, RemovesStarttlsKeepsTerminator) {
  offer_stripper s;
  EXPECT_EQ(s.from_server("200 news ready\r\n"), "200 news ready\r\n");
  EXPECT_EQ(s.from_server("101 Capability list:\r\nVERSION 2\r\nREADER\r\nSTARTTLS\r\n.\r\n"),
            "101 Capability list:\r\nVERSION 2\r\nREADER\r\n.\r\n");
  EXPECT_EQ(s.offers_removed(), 1u);
}

TEST(NntpStripper, AcrossChunksAndOddCase) {
  offer_stripper s;
  std::string out = s.from_server("101 caps\r\nVERSION 2\r\nStart");
  EXPECT_EQ(out, "101 caps\r\nVERSION 2\r\n");  // complete lines go on at once
  out += s.from_server("TLS\r\nREADER\r\n.\r\n");
  EXPECT_EQ(out, "101 caps\r\nVERSION 2\r\nREADER\r\n.\r\n");
  EXPECT_EQ(s.offers_removed(), 1u);
}

TEST(NntpStripper, OnlyInsideCapabilityBlocks) {
  offer_stripper s;
  // HELP text and single-line responses pass untouched, as do lookalike capabilities.
  const std::string help = "100 Help text follows\r\nSTARTTLS\r\n.\r\n";
  EXPECT_EQ(s.from_server(help), help);
  const std::string caps = "101 caps\r\nSTARTTLSX\r\nX-STARTTLS\r\n.\r\n";
  EXPECT_EQ(s.from_server(caps), caps);
  EXPECT_EQ(s.from_server("500 STARTTLS\r\n"), "500 STARTTLS\r\n");
  EXPECT_EQ(s.offers_removed(), 0u);
}

TEST(NntpStripper, HandsOffAfterTheGoAhead) {
  offer_stripper s;
  const std::string hello("\x16\x03\x03\x00\x7a\x02\x00\x00\x76\x03\x03\n", 12);
  EXPECT_EQ(s.from_server("382 Continue with TLS negotiation\r\n" + hello),
            "382 Continue with TLS negotiation\r\n" + hello);
  EXPECT_EQ(s.from_server("101 caps\r\nSTARTTLS\r\n.\r\n"), "101 caps\r\nSTARTTLS\r\n.\r\n");
}

TEST(NntpStripper, PassesNonNntpThrough) {
  offer_stripper s;
  const std::string blob(5000, 'x');
  EXPECT_EQ(s.from_server(blob), blob);
  EXPECT_EQ(s.from_server("101 caps\r\nSTARTTLS\r\n"), "101 caps\r\nSTARTTLS\r\n");
}

TEST(NntpStripper, ClientThenReportsNotSupported) {
  offer_stripper s;
  client c(client_options{});
  testing::transcript t(c);
  t.feed(s.from_server("200 news ready\r\n")).expect_write("CAPABILITIES\r\n");
  t.feed(s.from_server("101 caps\r\nVERSION 2\r\nREADER\r\nSTARTTLS\r\n.\r\n"))
      .expect_write("QUIT\r\n")
      .feed(s.from_server("205 bye\r\n"))
      .expect_fail(errc::starttls_not_supported);
  EXPECT_EQ(s.offers_removed(), 1u);
}

// Our client against our own server, then the same pair with the stripper in between.
TEST(NntpRoles, StripperAgainstOwnServerIsCaught) {
  offer_stripper m;
  testing::expect_stripper_is_caught<client, server>(m);
}

}  // namespace
}  // namespace otls::proto::nntp
