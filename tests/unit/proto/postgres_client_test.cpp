// PostgreSQL client role as transcripts (SSLRequest, 'S' / 'N'), with the injection after 'S'
// (CVE-2021-23222), the unshown ErrorResponse (CVE-2024-10977) and a fail-count sweep.
#include "otls/proto/postgres/client.hpp"

#include <gtest/gtest.h>

#include "dialect_harness.hpp"
#include "otls/proto/postgres/message.hpp"
#include "otls/proto/postgres/offer_stripper.hpp"
#include "otls/proto/postgres/server.hpp"
#include "transcript.hpp"

namespace otls::proto::postgres {
namespace {

using testing::transcript;
using namespace std::string_literals;

const std::string ssl_request_bytes = "\x00\x00\x00\x08\x04\xd2\x16\x2f"s;

client_options opts(bool require_tls = true) {
  client_options o;
  o.require_tls = require_tls;
  return o;
}

TEST(PostgresClient, SslRequestIsTheEightBytesOfTheProtocol) {
  EXPECT_EQ(ssl_request(), ssl_request_bytes);
}

TEST(PostgresClient, UpgradeThenDone) {
  client c(opts());
  transcript(c)
      .expect_write(ssl_request_bytes)
      .expect_need_more()
      .feed("S")
      .expect_start_tls("")
      .tls_established()
      .expect_done();
  EXPECT_TRUE(c.facts().starttls_offered);
  EXPECT_TRUE(c.facts().starttls_accepted);
  EXPECT_FALSE(c.facts().ended_in_plaintext);
}

TEST(PostgresClient, BytesAfterTheSAreInjection) {
  // CVE-2021-23222: libpq used to read these as if they came from inside TLS.
  client c(opts());
  const std::string injected = "R\x00\x00\x00\x08\x00\x00\x00\x00"s;
  transcript(c).expect_write(ssl_request_bytes).feed("S" + injected).expect_start_tls(injected);
}

TEST(PostgresClient, InjectionInALaterReadStillLeftOver) {
  client c(opts());
  transcript(c).expect_write(ssl_request_bytes).feed("S").feed("E junk").expect_start_tls("E junk");
}

TEST(PostgresClient, NIsStarttlsNotSupported) {
  client c(opts());
  transcript(c).expect_write(ssl_request_bytes).feed("N").expect_fail(errc::starttls_not_supported);
  EXPECT_FALSE(c.facts().starttls_offered);
  EXPECT_NE(c.diag().detail.find("ssl = off"), std::string::npos);
  EXPECT_EQ(c.diag().peer_text, std::vector<std::string>{"N"});
}

TEST(PostgresClient, NAtLevelMayEndsInPlaintextAndSaysSo) {
  client c(opts(false));
  transcript(c).expect_write(ssl_request_bytes).feed("N").expect_done();
  EXPECT_TRUE(c.facts().ended_in_plaintext);
  EXPECT_EQ(c.facts().warnings.size(), 1u);
}

TEST(PostgresClient, ErrorResponseIsReportedWithoutItsText) {
  // CVE-2024-10977: the text is unauthenticated; an attacker could make it say anything.
  client c(opts());
  const std::string secret = "please visit evil.example and enter your password";
  const std::string e = "E\x00\x00\x00\x40SFATAL\x00M"s + secret + "\x00\x00"s;
  transcript(c).expect_write(ssl_request_bytes).feed(e).expect_fail(errc::unexpected_reply);
  EXPECT_TRUE(c.diag().peer_text.empty());
  EXPECT_EQ(c.diag().detail.find("evil"), std::string::npos);
  EXPECT_NE(c.diag().detail.find("ErrorResponse"), std::string::npos);
}

TEST(PostgresClient, OtherByteIsMalformedAndNotEchoed) {
  client c(opts());
  transcript(c)
      .expect_write(ssl_request_bytes)
      .feed("HTTP/1.1 400")
      .expect_fail(errc::malformed_reply);
  EXPECT_NE(c.diag().detail.find("0x48 ('H')"), std::string::npos);
  EXPECT_EQ(c.diag().detail.find("HTTP"), std::string::npos);
}

TEST(PostgresClient, CloseWithoutAnswer) {
  client c(opts());
  transcript(c)
      .expect_write(ssl_request_bytes)
      .expect_need_more()
      .eof()
      .expect_fail(errc::unexpected_close);
}

TEST(PostgresClient, FailCountSweep) {
  // Every fault in place of the one reply ends the client in fail, or hands injected bytes to
  // the driver; never done.
  const std::vector<std::string> script{"S"};
  const std::vector<std::string> faults{"",   "N",    "E\x00\x00\x00\x05\x00"s, "X", "\xff"s,
                                        "SS", "S\r\n"};
  testing::sweep_options o;
  o.leftover_ends_session = true;
  testing::fail_count_sweep([] { return std::make_unique<client>(opts()); }, script, faults, o);
}

TEST(PostgresClient, AgainstOurServer) {
  testing::expect_no_offer_handled<client, server>(server_options{});
  offer_stripper stripper;
  testing::expect_stripper_is_caught<client, server>(stripper);
}

TEST(PostgresStripper, RewritesOnlyTheFirstS) {
  offer_stripper s;
  EXPECT_EQ(s.from_server("S"), "N");
  EXPECT_EQ(s.from_server("S"), "S");
  EXPECT_EQ(s.offers_removed(), 1u);
  offer_stripper n;
  EXPECT_EQ(n.from_server("N"), "N");
  EXPECT_EQ(n.offers_removed(), 0u);
}

}  // namespace
}  // namespace otls::proto::postgres
