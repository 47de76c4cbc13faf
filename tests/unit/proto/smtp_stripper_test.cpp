// The STRIPTLS rewriter used by the demo lab: removes the offer and keeps framing valid, and
// between our client and our server it makes the client report starttls_not_supported.
#include "otls/proto/smtp/offer_stripper.hpp"

#include <gtest/gtest.h>

#include "dialect_harness.hpp"
#include "otls/proto/smtp/client.hpp"
#include "otls/proto/smtp/server.hpp"

namespace otls::proto::smtp {
namespace {

TEST(SmtpStripper, RemovesFinalStarttlsAndFixesFraming) {
  offer_stripper s;
  EXPECT_EQ(s.from_server("220 hi\r\n"), "220 hi\r\n");
  EXPECT_EQ(s.from_server("250-mx\r\n250-PIPELINING\r\n250 STARTTLS\r\n"),
            "250-mx\r\n250 PIPELINING\r\n");
  EXPECT_EQ(s.offers_removed(), 1u);
}

TEST(SmtpStripper, RemovesMiddleStarttlsAcrossChunks) {
  offer_stripper s;
  std::string out = s.from_server("250-mx\r\n250-Start");
  EXPECT_EQ(out, "");  // held until the reply is complete
  out += s.from_server("TLS\r\n250 8BITMIME\r\n");
  EXPECT_EQ(out, "250-mx\r\n250 8BITMIME\r\n");
}

TEST(SmtpStripper, LeavesLookalikesAlone) {
  offer_stripper s;
  EXPECT_EQ(s.from_server("250-mx\r\n250 STARTTLSX\r\n"), "250-mx\r\n250 STARTTLSX\r\n");
  EXPECT_EQ(s.offers_removed(), 0u);
}

TEST(SmtpStripper, PassesNonSmtpThrough) {
  offer_stripper s;
  const std::string blob(5000, 'x');
  EXPECT_EQ(s.from_server(blob), blob);
}

// Our client against our own server, then the same pair with the stripper in between.
TEST(SmtpRoles, StripperAgainstOwnServerIsCaught) {
  for (variant v : {variant::smtp, variant::lmtp}) {
    offer_stripper m;
    testing::expect_stripper_is_caught<client, server>(m, v);
  }
}

}  // namespace
}  // namespace otls::proto::smtp
