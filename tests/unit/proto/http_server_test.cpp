// HTTP Upgrade to TLS, server role as transcripts (RFC 2817 §3, §4.2), including the
// CVE-2025-49812 desynchronisation: nothing sent in plaintext but the upgrading OPTIONS * is
// ever answered inside TLS.
#include "otls/proto/http/server.hpp"

#include <gtest/gtest.h>

#include "otls/proto/http/message.hpp"
#include "transcript.hpp"

namespace otls::proto::http {
namespace {

using testing::transcript;

constexpr std::string_view upgrade_request =
    "OPTIONS * HTTP/1.1\r\nHost: www.test\r\nUpgrade: TLS/1.0\r\nConnection: Upgrade\r\n\r\n";
constexpr std::string_view switching =
    "HTTP/1.1 101 Switching Protocols\r\nUpgrade: TLS/1.0, HTTP/1.1\r\nConnection: Upgrade\r\n\r\n";
constexpr std::string_view options_answer =
    "HTTP/1.1 200 OK\r\nServer: otls\r\nAllow: OPTIONS, GET, HEAD\r\nConnection: close\r\n"
    "Content-Length: 0\r\n\r\n";
constexpr std::string_view body_426 =
    "TLS is required: send OPTIONS * with Upgrade: TLS/1.0 (RFC 2817)\r\n";
const std::string upgrade_required =
    "HTTP/1.1 426 Upgrade Required\r\nServer: otls\r\nUpgrade: TLS/1.0, HTTP/1.1\r\n"
    "Connection: Upgrade\r\nContent-Type: text/plain\r\nContent-Length: " +
    std::to_string(body_426.size()) + "\r\n\r\n" + std::string(body_426);
constexpr std::string_view get = "GET /secret HTTP/1.1\r\nHost: www.test\r\nCookie: a=b\r\n\r\n";

server_options opts(bool required = false) {
  server_options o;
  o.hostname = "www.test";
  o.starttls_required = required;
  o.max_errors = 3;
  return o;
}

// The response a server wrote must itself be one well-framed HTTP response.
void expect_one_response(std::string_view bytes, unsigned status) {
  response_reader reader;
  reader.feed(bytes);
  auto r = reader.next();
  ASSERT_TRUE(r) << reader.error_detail();
  ASSERT_TRUE(*r) << "incomplete: " << bytes;
  EXPECT_EQ((*r)->status, status);
  EXPECT_EQ(reader.take_leftover(), "") << "bytes beyond the framed response";
}

TEST(HttpServer, UpgradesOnOptionsStarAndAnswersItInsideTls) {
  server s(opts());
  transcript(s)
      .expect_need_more()  // HTTP has no greeting
      .feed(upgrade_request)
      .expect_write(switching)
      .expect_start_tls("")
      .tls_established()
      .expect_write(options_answer)
      .expect_done();
  EXPECT_TRUE(s.tls_active());
  expect_one_response(options_answer, 200);
}

TEST(HttpServer, PipelinedRequestBehindTheUpgradeIsNeverAnsweredInsideTls) {
  // CVE-2025-49812: the attacker's plaintext GET behind the OPTIONS must not be answered in
  // the victim's TLS session. It is handed back as leftover (the driver discards and logs it).
  server s(opts());
  transcript(s)
      .feed(std::string(upgrade_request) + std::string(get))
      .expect_write(switching)
      .expect_start_tls(get)
      .tls_established()
      .expect_write(options_answer)
      .expect_done();
}

TEST(HttpServer, PipelinedBytesInALaterReadAreLeftOverToo) {
  server s(opts());
  transcript(s)
      .feed(upgrade_request)
      .expect_write(switching)
      .feed("GET / HT")
      .expect_start_tls("GET / HT")
      .tls_established()
      .feed("TP/1.1\r\n\r\n")
      .expect_write(options_answer)
      .expect_done();
}

TEST(HttpServer, MandatoryRefusesAGetBeforeOptionsWith426ThenUpgrades) {
  server s(opts(true));
  transcript t(s);
  t.feed(get).expect_write(upgrade_required);
  expect_one_response(upgrade_required, 426);
  t.feed("POST /x HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\n\r\nhello")
      .expect_write(upgrade_required)  // the body was framed, not read as a request
      .feed(upgrade_request)
      .expect_write(switching)
      .expect_start_tls("")
      .tls_established()
      .expect_write(options_answer)
      .expect_done();
}

TEST(HttpServer, MandatoryClosesAfterTooMany426) {
  server s(opts(true));
  transcript t(s);
  t.feed(get).expect_write(upgrade_required).feed(get).expect_write(upgrade_required).feed(get);
  t.expect_write_containing("Connection: Upgrade, close\r\n");
  t.expect_fail(errc::too_many_errors);
}

TEST(HttpServer, OptionalAnswersPlainRequestsOnceAndCloses) {
  server s(opts());
  transcript t(s);
  t.feed(std::string(get) + "GET /second HTTP/1.1\r\nHost: a\r\n\r\n")
      .expect_write_containing("HTTP/1.1 200 OK\r\n");
  EXPECT_NE(t.last_write().find("Connection: close\r\n"), std::string::npos);
  expect_one_response(t.last_write(), 200);
  t.expect_done();
}

TEST(HttpServer, HeadGetsNoBody) {
  server s(opts());
  transcript t(s);
  t.feed("HEAD / HTTP/1.1\r\nHost: a\r\n\r\n").expect_write_containing("HTTP/1.1 200 OK\r\n");
  EXPECT_EQ(t.last_write().substr(t.last_write().size() - 4), "\r\n\r\n");
}

TEST(HttpServer, OnlyOptionsStarWithTheRightHeadersUpgrades) {
  const std::string_view not_upgrades[] = {
      // another request with Upgrade would be answered inside TLS: the CVE
      "GET / HTTP/1.1\r\nHost: a\r\nUpgrade: TLS/1.0\r\nConnection: Upgrade\r\n\r\n",
      "OPTIONS / HTTP/1.1\r\nHost: a\r\nUpgrade: TLS/1.0\r\nConnection: Upgrade\r\n\r\n",
      // RFC 9110 §7.8: Upgrade in HTTP/1.0 is ignored; Connection must name it
      "OPTIONS * HTTP/1.0\r\nHost: a\r\nUpgrade: TLS/1.0\r\nConnection: Upgrade\r\n\r\n",
      "OPTIONS * HTTP/1.1\r\nHost: a\r\nUpgrade: TLS/1.0\r\n\r\n",
      "OPTIONS * HTTP/1.1\r\nHost: a\r\nUpgrade: h2c\r\nConnection: Upgrade\r\n\r\n",
      "OPTIONS * HTTP/1.1\r\nHost: a\r\n\r\n",
  };
  for (const auto request : not_upgrades) {
    SCOPED_TRACE(std::string(request));
    server optional(opts());
    transcript(optional).feed(request).expect_write_containing("HTTP/1.1 200 OK\r\n").expect_done();
    server mandatory(opts(true));
    transcript(mandatory).feed(request).expect_write(upgrade_required).expect_need_more();
  }
}

TEST(HttpServer, TolerantUpgradeTokens) {
  server s(opts());
  transcript(s)
      .feed(
          "OPTIONS * HTTP/1.1\r\nHost: a\r\nupgrade: HTTP/2.0, tls/1.3\r\n"
          "connection: keep-alive, upgrade\r\n\r\n")
      .expect_write(switching)
      .expect_start_tls("");
}

TEST(HttpServer, NoTlsAvailableNeverUpgrades) {
  server_options o = opts(true);
  o.tls_available = false;
  server s(o);
  transcript t(s);
  t.feed(upgrade_request).expect_write_containing("HTTP/1.1 200 OK\r\n");
  EXPECT_EQ(t.last_write().find("Upgrade"), std::string::npos);
  t.expect_done();
}

TEST(HttpServer, OversizedHeaderGets431AndCloses) {
  server s(opts());
  transcript t(s);
  t.feed("GET / HTTP/1.1\r\nX-Big: " + std::string(max_header_bytes, 'a') + "\r\n\r\n")
      .expect_write_containing("HTTP/1.1 431 ");
  expect_one_response(t.last_write(), 431);
  t.expect_fail(errc::malformed_reply);
}

TEST(HttpServer, GarbageGets400AndCloses) {
  server s(opts());
  transcript(s)
      .feed("\x16\x03\x01 not http\r\n\r\n")
      .expect_write_containing("HTTP/1.1 400 Bad Request\r\n")
      .expect_fail(errc::malformed_reply);
}

TEST(HttpServer, CloseMidRequestFails) {
  server s(opts());
  transcript(s)
      .feed("OPTIONS * HTTP/1.1\r\nHo")
      .expect_need_more()
      .eof()
      .expect_fail(errc::unexpected_close);
  server t(opts());
  transcript(t).eof().expect_done();
}

}  // namespace
}  // namespace otls::proto::http
