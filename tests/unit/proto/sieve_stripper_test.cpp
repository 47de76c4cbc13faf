// The ManageSieve STRIPTLS rewriter used by the demo lab: removes the "STARTTLS" capability line
// (quoted or as a literal), keeps every other byte, and the client then reports
// starttls_not_supported.
#include "otls/proto/sieve/offer_stripper.hpp"

#include <gtest/gtest.h>

#include "dialect_harness.hpp"
#include "otls/proto/sieve/client.hpp"
#include "otls/proto/sieve/server.hpp"
#include "transcript.hpp"

namespace otls::proto::sieve {
namespace {

using testing::transcript;

TEST(SieveStripper, RemovesStarttlsFromDovecotGreeting) {
  offer_stripper s;
  EXPECT_EQ(s.from_server("\"IMPLEMENTATION\" \"Dovecot (Debian) Pigeonhole\"\r\n\"SASL\" "
                          "\"\"\r\n\"STARTTLS\"\r\n\"VERSION\" \"1.0\"\r\nOK \"ready.\"\r\n"),
            "\"IMPLEMENTATION\" \"Dovecot (Debian) Pigeonhole\"\r\n\"SASL\" \"\"\r\n\"VERSION\" "
            "\"1.0\"\r\nOK \"ready.\"\r\n");
  EXPECT_EQ(s.offers_removed(), 1u);
}

TEST(SieveStripper, AcrossChunksAnyCaseLiteralFormAndBareLf) {
  offer_stripper s;
  std::string out = s.from_server("\"SASL\" \"\"\n\"Start");
  EXPECT_EQ(out, "\"SASL\" \"\"\n");
  out += s.from_server("tls\"\n{8}\r");
  out += s.from_server("\nstarttls\r\nOK\n");
  EXPECT_EQ(out, "\"SASL\" \"\"\nOK\n");
  EXPECT_EQ(s.offers_removed(), 2u);
}

TEST(SieveStripper, LeavesLookalikesAlone) {
  offer_stripper s;
  const std::string in =
      "\"STARTTLSX\"\r\n\"X\" \"STARTTLS\"\r\nOK \"STARTTLS\"\r\n{8}\r\nSTARTTLX\r\n{9}\r\n"
      "STARTTLS!\r\nSTARTTLS\r\n";
  EXPECT_EQ(s.from_server(in), in);
  EXPECT_EQ(s.offers_removed(), 0u);
}

TEST(SieveStripper, PassesNonSieveThrough) {
  offer_stripper s;
  const std::string blob(20'000, 'x');
  EXPECT_EQ(s.from_server(blob), blob);
  EXPECT_EQ(s.from_server("\"STARTTLS\"\r\n"), "\"STARTTLS\"\r\n");
}

TEST(SieveStripper, ClientBehindTheStripperReportsNotSupported) {
  offer_stripper meddler;
  client c(client_options{});
  transcript(c)
      .feed(meddler.from_server("\"IMPLEMENTATION\" \"x\"\r\n\"SASL\" \"\"\r\n\"STARTTLS\"\r\n"
                                "OK \"ready\"\r\n"))
      .expect_write("LOGOUT\r\n")
      .feed(meddler.from_server("OK \"Logout completed.\"\r\n"))
      .expect_fail(errc::starttls_not_supported);
  EXPECT_EQ(c.facts().capabilities_before_tls,
            (std::vector<std::string>{"IMPLEMENTATION x", "SASL"}));
}

// Our client against our own server, then the same pair with the stripper in between.
TEST(SieveRoles, StripperAgainstOwnServerIsCaught) {
  offer_stripper m;
  testing::expect_stripper_is_caught<client, server>(m);
}

}  // namespace
}  // namespace otls::proto::sieve
