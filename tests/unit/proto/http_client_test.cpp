// HTTP Upgrade to TLS, client role as transcripts (RFC 2817 §3, §4.2), the fail-count sweep, and
// the client run against otls's own server role in memory.
#include "otls/proto/http/client.hpp"

#include <algorithm>

#include <gtest/gtest.h>

#include "dialect_harness.hpp"
#include "otls/proto/http/server.hpp"
#include "transcript.hpp"

namespace otls::proto::http {
namespace {

using testing::transcript;

constexpr std::string_view upgrade_request =
    "OPTIONS * HTTP/1.1\r\nHost: www.test\r\nUpgrade: TLS/1.0\r\nConnection: Upgrade\r\n\r\n";
constexpr std::string_view switching =
    "HTTP/1.1 101 Switching Protocols\r\nUpgrade: TLS/1.0, HTTP/1.1\r\nConnection: Upgrade\r\n\r\n";
constexpr std::string_view options_ok =
    "HTTP/1.1 200 OK\r\nServer: web.test/1\r\nAllow: OPTIONS, GET\r\nContent-Length: 0\r\n\r\n";

client_options opts(bool require_tls = true) {
  client_options o;
  o.server_name = "www.test";
  o.require_tls = require_tls;
  return o;
}

bool contains(const std::vector<std::string>& lines, std::string_view line) {
  return std::find(lines.begin(), lines.end(), line) != lines.end();
}

TEST(HttpClient, UpgradesThenReadsTheOptionsResponseInsideTls) {
  client c(opts());
  transcript(c)
      .expect_write(upgrade_request)
      .expect_need_more()
      .feed(switching)
      .expect_start_tls("")
      .tls_established()
      .expect_need_more()  // §3.3: the OPTIONS request is answered inside TLS; nothing to send
      .feed(options_ok)
      .expect_done();
  const auto& f = c.facts();
  EXPECT_TRUE(f.starttls_offered);
  EXPECT_TRUE(f.starttls_accepted);
  EXPECT_FALSE(f.ended_in_plaintext);
  EXPECT_EQ(f.banner, std::vector<std::string>{"HTTP/1.1 101 Switching Protocols"});
  EXPECT_TRUE(contains(f.capabilities_before_tls, "Upgrade: TLS/1.0, HTTP/1.1"));
  ASSERT_FALSE(f.capabilities_after_tls.empty());
  EXPECT_EQ(f.capabilities_after_tls.front(), "HTTP/1.1 200 OK");
  EXPECT_TRUE(contains(f.capabilities_after_tls, "Server: web.test/1"));
  EXPECT_TRUE(contains(f.capabilities_after_tls, "Allow: OPTIONS, GET"));
  EXPECT_FALSE(contains(f.capabilities_after_tls, "Content-Length: 0"));  // framing, not a fact
}

TEST(HttpClient, ByteAtATimeAndTolerantTokens) {
  client c(opts());
  transcript t(c);
  t.expect_write(upgrade_request);
  const std::string reply =
      "HTTP/1.1 101 Switching Protocols\r\nupgrade: tls/1.2\r\nconnection: keep-alive, "
      "UPGRADE\r\n\r\n";
  for (const char ch : reply.substr(0, reply.size() - 1)) t.expect_need_more().feed({&ch, 1});
  t.feed("\n").expect_start_tls("");
}

TEST(HttpClient, HostFieldForIpv6AndExplicitPort) {
  client_options o = opts();
  o.server_name = "2001:db8::1";
  EXPECT_NE(client(o).upgrade_request().find("\r\nHost: [2001:db8::1]\r\n"), std::string::npos);
  o.server_name = "www.test:8080";
  EXPECT_NE(client(o).upgrade_request().find("\r\nHost: www.test:8080\r\n"), std::string::npos);
  // The port the driver connected to, unless it is the default.
  o.server_name = "www.test";
  o.server_port = 8443;
  EXPECT_NE(client(o).upgrade_request().find("\r\nHost: www.test:8443\r\n"), std::string::npos);
  o.server_port = 80;
  EXPECT_NE(client(o).upgrade_request().find("\r\nHost: www.test\r\n"), std::string::npos);
  o.server_name = "2001:db8::1";
  o.server_port = 8080;
  EXPECT_NE(client(o).upgrade_request().find("\r\nHost: [2001:db8::1]:8080\r\n"),
            std::string::npos);
}

TEST(HttpClient, Plain200MeansUpgradeNotSupported) {
  client c(opts());
  transcript(c)
      .expect_write(upgrade_request)
      .feed(
          "HTTP/1.1 200 OK\r\nServer: Apache\r\nAllow: GET,HEAD,POST,OPTIONS\r\n"
          "Content-Length: 0\r\n\r\n")
      .expect_fail(errc::starttls_not_supported);
  EXPECT_EQ(c.diag().detail,
            "upgrade-not-supported: the server answered 200 to an RFC 2817 upgrade request");
  ASSERT_FALSE(c.diag().peer_text.empty());
  EXPECT_EQ(c.diag().peer_text.front(), "HTTP/1.1 200 OK");
  EXPECT_FALSE(c.facts().starttls_offered);
  EXPECT_FALSE(c.facts().starttls_accepted);
}

TEST(HttpClient, NotSupportedIsDecidedOnTheHeaderWithoutWaitingForTheBody) {
  client c(opts());
  transcript(c)
      .expect_write(upgrade_request)
      .feed("HTTP/1.1 405 Not Allowed\r\nContent-Length: 1000000\r\n\r\n<html>")
      .expect_fail(errc::starttls_not_supported);
  EXPECT_EQ(c.diag().detail,
            "upgrade-not-supported: the server answered 405 to an RFC 2817 upgrade request");
}

TEST(HttpClient, OpportunisticLevelContinuesInPlaintextAndSaysSo) {
  client c(opts(false));
  transcript(c)
      .expect_write(upgrade_request)
      .feed("HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")
      .expect_done();
  EXPECT_TRUE(c.facts().ended_in_plaintext);
  ASSERT_EQ(c.facts().warnings.size(), 1u);
  EXPECT_NE(c.facts().warnings[0].find("PLAINTEXT"), std::string::npos);
}

TEST(HttpClient, UpgradeRequiredWithTlsIsARefusedUpgrade) {
  client c(opts());
  transcript(c)
      .expect_write(upgrade_request)
      .feed(
          "HTTP/1.1 426 Upgrade Required\r\nUpgrade: TLS/1.0, HTTP/1.1\r\nConnection: Upgrade\r\n"
          "Content-Length: 0\r\n\r\n")
      .expect_fail(errc::starttls_rejected);
  EXPECT_EQ(c.diag().detail.rfind("upgrade-required: the server answered 426", 0), 0u)
      << c.diag().detail;
  EXPECT_EQ(c.diag().peer_text.front(), "HTTP/1.1 426 Upgrade Required");
}

TEST(HttpClient, UpgradeRequiredToAnotherProtocolIsNotSupported) {
  client c(opts());
  transcript(c)
      .expect_write(upgrade_request)
      .feed("HTTP/1.1 426 Upgrade Required\r\nUpgrade: h2c\r\nConnection: Upgrade\r\n\r\n")
      .expect_fail(errc::starttls_not_supported);
  EXPECT_NE(c.diag().detail.find("h2c"), std::string::npos);
}

TEST(HttpClient, BytesAfterThe101AreLeftOverForTheDriverToRefuse) {
  // Response injection (DESIGN.md rule 1): a plaintext "response" smuggled behind the 101 must
  // not be read as the answer that belongs inside TLS.
  const std::string injected = "HTTP/1.1 200 OK\r\nServer: evil\r\nContent-Length: 0\r\n\r\n";
  client c(opts());
  transcript(c)
      .expect_write(upgrade_request)
      .feed(std::string(switching) + injected)
      .expect_start_tls(injected);
  EXPECT_TRUE(c.facts().capabilities_after_tls.empty());
}

TEST(HttpClient, AfterTlsAFreshParserReads) {
  // A partial header before TLS must not be completed by bytes inside TLS.
  client c(opts());
  transcript(c)
      .expect_write(upgrade_request)
      .feed(std::string(switching) + "HTTP/1.1 2")
      .expect_start_tls("HTTP/1.1 2")
      .tls_established()
      .feed("00 OK\r\n\r\n")
      .expect_fail(errc::malformed_reply);
}

TEST(HttpClient, InterimResponsesAreSkippedButBounded) {
  client c(opts());
  transcript(c)
      .expect_write(upgrade_request)
      .feed("HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 103 Early Hints\r\nLink: </a>\r\n\r\n")
      .expect_need_more()
      .feed(switching)
      .expect_start_tls("");
  client d(opts());
  std::string many;
  for (unsigned i = 0; i <= max_interim_responses; ++i) many += "HTTP/1.1 100 Continue\r\n\r\n";
  transcript(d).expect_write(upgrade_request).feed(many).expect_fail(errc::unexpected_reply);
}

TEST(HttpClient, SwitchingToSomethingElseIsRefused) {
  client c(opts());
  transcript(c)
      .expect_write(upgrade_request)
      .feed("HTTP/1.1 101 Switching Protocols\r\nUpgrade: h2c\r\nConnection: Upgrade\r\n\r\n")
      .expect_fail(errc::unexpected_reply);
  client d(opts());
  transcript(d)
      .expect_write(upgrade_request)
      .feed("HTTP/1.1 101 Switching Protocols\r\nUpgrade: TLS/1.0\r\n\r\n")
      .expect_fail(errc::unexpected_reply);
  EXPECT_NE(d.diag().detail.find("Connection: Upgrade"), std::string::npos);
}

TEST(HttpClient, AnotherSwitchInsideTlsIsRefused) {
  client c(opts());
  transcript(c)
      .expect_write(upgrade_request)
      .feed(switching)
      .expect_start_tls("")
      .tls_established()
      .feed(switching)
      .expect_fail(errc::unexpected_reply);
}

TEST(HttpClient, NotHttpIsMalformedAtOnce) {
  client c(opts());
  transcript(c)
      .expect_write(upgrade_request)
      .feed("220 mail.test ESMTP\r\n")
      .expect_fail(errc::malformed_reply);
  EXPECT_NE(c.diag().detail.find("HTTP/"), std::string::npos);
}

TEST(HttpClient, OversizedHeaderIsRefused) {
  client c(opts());
  transcript(c)
      .expect_write(upgrade_request)
      .feed("HTTP/1.1 200 OK\r\nX-Big: " + std::string(max_header_bytes, 'a') + "\r\n\r\n")
      .expect_fail(errc::malformed_reply);
  EXPECT_NE(c.diag().detail.find("header larger than"), std::string::npos) << c.diag().detail;
}

TEST(HttpClient, CloseBeforeOrInsideTheResponse) {
  client c(opts());
  transcript(c).expect_write(upgrade_request).eof().expect_fail(errc::unexpected_close);
  client d(opts());
  transcript(d)
      .expect_write(upgrade_request)
      .feed("HTTP/1.1 101 Switching")
      .expect_need_more()
      .eof()
      .expect_fail(errc::unexpected_close);
  EXPECT_NE(d.diag().detail.find("middle"), std::string::npos);
}

TEST(HttpClient, FailCountSweep) {
  const std::vector<std::string> script{std::string(switching), std::string(options_ok)};
  const std::vector<std::string> faults{
      "",  // a bare close
      "HTTP/1.1 101 Switching Protocols\r\nUpgrade: h2c\r\nConnection: Upgrade\r\n\r\n",
      "HTTP/1.1 200 OK\r\nServer",  // cut mid-header
      "garbage\r\n\r\n",
      "HTTP/1.1 200 OK\r\nX: " + std::string(max_header_bytes + 10, 'x') + "\r\n\r\n",
      "HTTP/1.1 100 Continue\r\n\r\n",  // then a close
      "HTTP/1.1 426 Upgrade Required\r\nUpgrade: TLS/1.0\r\n\r\n",
      "HTTP/1.1 200 OK\r\n\r\n",
  };
  testing::sweep_options o;
  // Inside TLS any final status answers the OPTIONS request: the upgrade is complete.
  o.may_complete = [](std::size_t at, const std::string& fault) {
    return at == 1 &&
           (fault.find(" 426 ") != std::string::npos || fault == "HTTP/1.1 200 OK\r\n\r\n");
  };
  testing::fail_count_sweep([] { return std::make_unique<client>(opts()); }, script, faults, o);
}

TEST(HttpClient, AgainstOwnServerOptionalAndMandatory) {
  for (const bool required : {false, true}) {
    SCOPED_TRACE(required ? "mandatory" : "optional");
    server_options so;
    so.starttls_required = required;
    client c(opts());
    server s(so);
    const auto r = testing::run_pair(c, s);
    EXPECT_EQ(testing::kind_name(r.client_end), std::string("done")) << r.client_error.message();
    EXPECT_EQ(testing::kind_name(r.server_end), std::string("done")) << r.server_error.message();
    EXPECT_TRUE(r.upgraded);
    ASSERT_FALSE(c.facts().capabilities_after_tls.empty());
    EXPECT_EQ(c.facts().capabilities_after_tls.front(), "HTTP/1.1 200 OK");
    EXPECT_TRUE(contains(c.facts().capabilities_after_tls, "Allow: OPTIONS, GET, HEAD"));
  }
}

TEST(HttpClient, AgainstOwnServerWithoutTls) {
  testing::expect_no_offer_handled<client, server>(server_options{});
}

}  // namespace
}  // namespace otls::proto::http
