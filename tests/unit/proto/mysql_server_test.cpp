// MySQL/MariaDB server role as transcripts: handshake offering CLIENT_SSL, SSLRequest, TLS, the
// HandshakeResponse answered with an ERR_Packet; pipelined bytes discarded; bad packets.
#include "otls/proto/mysql/server.hpp"

#include <gtest/gtest.h>

#include "otls/proto/mysql/client.hpp"
#include "transcript.hpp"

namespace otls::proto::mysql {
namespace {

using testing::transcript;
using namespace std::string_literals;

std::string ssl_request(std::uint8_t sequence = 1) {
  return frame(sequence, ssl_request_payload(client_ssl_request_flags));
}

// A HandshakeResponse41 as a real client sends it inside TLS (sequence 2).
std::string handshake_response(std::uint8_t sequence = 2) {
  std::string p = ssl_request_payload(client_ssl_request_flags);
  p += "root\0\x00"s;
  return frame(sequence, p);
}

std::string greeting(const server_options& o) {
  server s(o);
  return s.next().bytes;
}

TEST(MysqlServer, HandshakeOffersSslAndParses) {
  const auto h = parse_handshake(greeting(server_options{}).substr(4));
  ASSERT_TRUE(h);
  EXPECT_EQ(h->protocol_version, 10);
  EXPECT_EQ(h->server_version, "8.0.0-otls");
  EXPECT_TRUE(h->capabilities & client_ssl);
  EXPECT_TRUE(h->capabilities & client_protocol_41);
  EXPECT_EQ(h->auth_plugin, "mysql_native_password");
  server_options no_tls;
  no_tls.tls_available = false;
  EXPECT_FALSE(parse_handshake(greeting(no_tls).substr(4))->capabilities & client_ssl);
}

TEST(MysqlServer, UpgradeThenErrInsideTls) {
  server s(server_options{});
  const std::string err = frame(3, "\xff\x19\x04#42000otls test server: no database here"s);
  transcript(s)
      .expect_write(greeting(server_options{}))
      .expect_need_more()
      .feed(ssl_request())
      .expect_start_tls("")
      .tls_established()
      .expect_need_more()
      .feed(handshake_response())
      .expect_write(err)
      .expect_done();
  EXPECT_TRUE(s.facts().starttls_accepted);
}

TEST(MysqlServer, PipelinedBytesAreHandedOverAndNeverAnswered) {
  server s(server_options{});
  transcript(s)
      .expect_write(greeting(server_options{}))
      .feed(ssl_request() + handshake_response())
      .expect_start_tls(handshake_response())
      .tls_established()
      .expect_need_more()
      .eof()
      .expect_done();
}

TEST(MysqlServer, SslRequestWhenNotOfferedIsRefused) {
  server_options o;
  o.tls_available = false;
  server s(o);
  transcript(s).expect_write(greeting(o)).feed(ssl_request()).expect_fail(errc::unexpected_reply);
}

TEST(MysqlServer, PlaintextLoginGetsTheError) {
  server s(server_options{});
  transcript(s)
      .expect_write(greeting(server_options{}))
      .feed(handshake_response(1))
      .expect_write_containing("no database here")
      .expect_done();
}

TEST(MysqlServer, BadPackets) {
  for (const std::string& bad : {"\xff\xff\xff\x01"s, frame(1, "short")}) {
    server s(server_options{});
    transcript(s)
        .expect_write(greeting(server_options{}))
        .feed(bad)
        .expect_fail(errc::malformed_reply);
  }
}

TEST(MysqlServer, CloseMidPacket) {
  server s(server_options{});
  transcript(s)
      .expect_write(greeting(server_options{}))
      .feed(ssl_request().substr(0, 10))
      .expect_need_more()
      .eof()
      .expect_fail(errc::unexpected_close);
}

}  // namespace
}  // namespace otls::proto::mysql
