// PostgreSQL server role as transcripts: SSLRequest → 'S' → TLS → StartupMessage →
// ErrorResponse; pipelined bytes discarded (CVE-2021-23214); GSSENCRequest, 'N', bad packets.
#include "otls/proto/postgres/server.hpp"

#include <gtest/gtest.h>

#include "otls/proto/postgres/message.hpp"
#include "transcript.hpp"

namespace otls::proto::postgres {
namespace {

using testing::transcript;
using namespace std::string_literals;

std::string u32(std::uint32_t v) {
  return {static_cast<char>(v >> 24), static_cast<char>(v >> 16), static_cast<char>(v >> 8),
          static_cast<char>(v)};
}

std::string startup_message() {
  const std::string body = u32(protocol_3_0) + "user\0alice\0database\0db\0\0"s;
  return u32(static_cast<std::uint32_t>(body.size() + 4)) + body;
}

const std::string no_database = error_response("3D000", "otls test server: no database here");

TEST(PostgresServer, UpgradeThenErrorResponseInsideTls) {
  server s(server_options{});
  transcript(s)
      .expect_need_more()
      .feed(ssl_request())
      .expect_write("S")
      .expect_start_tls("")
      .tls_established()
      .expect_need_more()
      .feed(startup_message())
      .expect_write(no_database)
      .expect_done();
  EXPECT_NE(no_database.find("otls test server: no database here"), std::string::npos);
  EXPECT_EQ(no_database[0], 'E');
}

TEST(PostgresServer, RequestSplitAtEveryByte) {
  server s(server_options{});
  transcript t(s);
  const std::string r = ssl_request();
  for (std::size_t i = 0; i + 1 < r.size(); ++i) t.feed(r.substr(i, 1)).expect_need_more();
  t.feed(r.substr(r.size() - 1)).expect_write("S").expect_start_tls("");
}

TEST(PostgresServer, PipelinedBytesAreHandedOverAndNeverAnswered) {
  // CVE-2021-23214: a StartupMessage sent in plaintext behind the SSLRequest must not be
  // processed as if it came through TLS.
  server s(server_options{});
  transcript(s)
      .feed(ssl_request() + startup_message())
      .expect_write("S")
      .expect_start_tls(startup_message())
      .tls_established()
      .expect_need_more()
      .eof()
      .expect_done();
}

TEST(PostgresServer, NWhenTlsIsUnavailableThenErrorInPlaintext) {
  server_options o;
  o.tls_available = false;
  server s(o);
  transcript(s)
      .feed(ssl_request())
      .expect_write("N")
      .expect_need_more()
      .feed(startup_message())
      .expect_write(no_database)
      .expect_done();
}

TEST(PostgresServer, GssencRequestGetsNThenSsl) {
  server s(server_options{});
  transcript(s)
      .feed(u32(8) + u32(gssenc_request_code))
      .expect_write("N")
      .feed(ssl_request())
      .expect_write("S")
      .expect_start_tls("");
}

TEST(PostgresServer, StartupWithoutSslRequestIsClosedWithoutReply) {
  server s(server_options{});
  transcript(s).feed(startup_message()).expect_fail(errc::unexpected_reply);
}

TEST(PostgresServer, ImpossibleLengthsAreMalformed) {
  for (const std::string& bad : {u32(7) + u32(0), u32(0x7fffffff), "GET / HTTP/1.1\r\n"s}) {
    server s(server_options{});
    transcript(s).feed(bad).expect_fail(errc::malformed_reply);
  }
}

TEST(PostgresServer, UnknownRequestCodeIsMalformed) {
  server s(server_options{});
  transcript(s).feed(u32(8) + u32(12345)).expect_fail(errc::malformed_reply);
}

TEST(PostgresServer, CancelRequestJustCloses) {
  server s(server_options{});
  transcript(s).feed(u32(16) + u32(cancel_request_code) + u32(1) + u32(2)).expect_done();
}

TEST(PostgresServer, SslRequestInsideTlsIsRefused) {
  server s(server_options{});
  transcript(s)
      .feed(ssl_request())
      .expect_write("S")
      .expect_start_tls("")
      .tls_established()
      .feed(ssl_request())
      .expect_fail(errc::unexpected_reply);
}

TEST(PostgresServer, CloseMidPacket) {
  server s(server_options{});
  transcript(s)
      .feed(ssl_request().substr(0, 5))
      .expect_need_more()
      .eof()
      .expect_fail(errc::unexpected_close);
}

TEST(PostgresServer, QuietCloseBeforeAnything) {
  server s(server_options{});
  transcript(s).expect_need_more().eof().expect_done();
}

}  // namespace
}  // namespace otls::proto::postgres
