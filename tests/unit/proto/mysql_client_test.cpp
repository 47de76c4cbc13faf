// MySQL/MariaDB client role as transcripts: the initial handshake of MariaDB 10.11 (Debian 12),
// the SSLRequest packet, injection behind the handshake, error packets, truncations and a
// fail-count sweep.
#include "otls/proto/mysql/client.hpp"

#include <gtest/gtest.h>

#include "dialect_harness.hpp"
#include "otls/proto/mysql/offer_stripper.hpp"
#include "otls/proto/mysql/server.hpp"
#include "transcript.hpp"

namespace otls::proto::mysql {
namespace {

using testing::transcript;
using namespace std::string_literals;

// MariaDB 10.11's initial handshake, byte for byte as its layout goes: protocol 10, version,
// connection id 3, scramble part 1, filler, capabilities 0xfffe (lower; SSL is 0x0800 in it)
// and 0x81ff (upper), charset 45, status 2, auth data length 21, 6 filler bytes + 4 bytes of
// MariaDB capabilities, scramble part 2 (12 + NUL), plugin name.
std::string mariadb_handshake(bool with_ssl = true) {
  std::string p =
      "\x0a"
      "5.5.5-10.11.6-MariaDB-0+deb12u1\x00"
      "\x03\x00\x00\x00"
      "ABCDEFGH\x00"s;
  p += with_ssl ? "\xfe\xff"s : "\xfe\xf7"s;
  p += "\x2d\x02\x00\xff\x81\x15"s;
  p += "\x00\x00\x00\x00\x00\x00\x1d\x00\x00\x00"s;
  p += "IJKLMNOPQRST\x00"s;
  p += "mysql_native_password\x00"s;
  return frame(0, p);
}

const std::string ssl_request_packet =
    "\x20\x00\x00\x01"  // length 32, sequence 1
    "\x01\x8a\x00\x00"  // LONG_PASSWORD | PROTOCOL_41 | SSL | SECURE_CONNECTION
    "\x00\x00\x00\x01"  // max packet 16 MiB
    "\x21"              // utf8_general_ci
    "\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00"s;

client_options opts(bool require_tls = true) {
  client_options o;
  o.require_tls = require_tls;
  return o;
}

TEST(MysqlClient, UpgradeAgainstMariadb) {
  client c(opts());
  transcript(c)
      .expect_need_more()
      .feed(mariadb_handshake())
      .expect_write(ssl_request_packet)
      .expect_start_tls("")
      .tls_established()
      .expect_done();
  EXPECT_EQ(c.facts().banner, std::vector<std::string>{"5.5.5-10.11.6-MariaDB-0+deb12u1"});
  EXPECT_TRUE(c.facts().starttls_offered);
  EXPECT_TRUE(c.facts().starttls_accepted);
  const auto& caps = c.facts().capabilities_before_tls;
  EXPECT_NE(std::find(caps.begin(), caps.end(), "SSL"), caps.end());
  EXPECT_NE(std::find(caps.begin(), caps.end(), "PROTOCOL_41"), caps.end());
  EXPECT_NE(std::find(caps.begin(), caps.end(), "auth=mysql_native_password"), caps.end());
  EXPECT_TRUE(c.facts().capabilities_after_tls.empty());
  EXPECT_FALSE(c.server_handshake().has_value());  // forgotten at the handshake
}

TEST(MysqlClient, HandshakeSplitAtEveryByte) {
  client c(opts());
  const std::string h = mariadb_handshake();
  transcript t(c);
  for (std::size_t i = 0; i + 1 < h.size(); ++i) t.feed(h.substr(i, 1)).expect_need_more();
  t.feed(h.substr(h.size() - 1)).expect_write(ssl_request_packet).expect_start_tls("");
}

TEST(MysqlClient, BytesBehindTheHandshakeAreInjection) {
  // The server says nothing between its handshake and TLS: any such byte was injected.
  client c(opts());
  const std::string injected = "\x07\x00\x00\x02\x00\x00\x00\x02\x00\x00\x00"s;
  transcript(c)
      .feed(mariadb_handshake() + injected)
      .expect_write(ssl_request_packet)
      .expect_start_tls(injected);
}

TEST(MysqlClient, NoSslIsStarttlsNotSupported) {
  client c(opts());
  transcript(c).feed(mariadb_handshake(false)).expect_fail(errc::starttls_not_supported);
  EXPECT_FALSE(c.facts().starttls_offered);
  EXPECT_EQ(c.facts().banner, std::vector<std::string>{"5.5.5-10.11.6-MariaDB-0+deb12u1"});
  EXPECT_NE(c.diag().detail.find("does not offer SSL"), std::string::npos);
}

TEST(MysqlClient, NoSslAtLevelMayEndsInPlaintext) {
  client c(opts(false));
  transcript(c).feed(mariadb_handshake(false)).expect_done();
  EXPECT_TRUE(c.facts().ended_in_plaintext);
}

TEST(MysqlClient, ErrorPacketIsServiceUnavailableWithItsWords) {
  client c(opts());
  transcript(c)
      .feed(
          frame(0, "\xff\x69\x04Host '10.0.0.9' is not allowed to connect to this MariaDB server"s))
      .expect_fail(errc::service_unavailable);
  EXPECT_EQ(c.diag().peer_text,
            std::vector<std::string>{
                "1129 Host '10.0.0.9' is not allowed to connect to this MariaDB server"});
}

TEST(MysqlClient, OldProtocolVersionIsUnexpected) {
  client c(opts());
  std::string h = mariadb_handshake();
  h[4] = 9;
  transcript(c).feed(h).expect_fail(errc::unexpected_reply);
}

TEST(MysqlClient, OversizedFirstPacketIsMalformed) {
  client c(opts());
  transcript(c).feed("\xff\xff\xff\x00"s).expect_fail(errc::malformed_reply);
}

TEST(MysqlClient, TruncatedHandshakesAreMalformed) {
  const std::string full = mariadb_handshake();
  const std::string payload = full.substr(4);
  for (std::size_t n : {0u, 1u, 5u, 33u, 40u, 50u, 60u}) {
    SCOPED_TRACE(n);
    client c(opts());
    transcript(c).feed(frame(0, payload.substr(0, n))).expect_fail(errc::malformed_reply);
  }
}

TEST(MysqlClient, WrongSequenceIsMalformed) {
  client c(opts());
  std::string h = mariadb_handshake();
  h[3] = 5;
  transcript(c).feed(h).expect_fail(errc::malformed_reply);
}

TEST(MysqlClient, CloseMidHandshake) {
  client c(opts());
  transcript(c)
      .feed(mariadb_handshake().substr(0, 20))
      .expect_need_more()
      .eof()
      .expect_fail(errc::unexpected_close);
}

TEST(MysqlClient, FailCountSweep) {
  const std::vector<std::string> script{mariadb_handshake()};
  const std::vector<std::string> faults{"",
                                        "\x01\x00\x00\x00\x0a"s,
                                        frame(0, "\xff\x10\x04Too many connections"s),
                                        mariadb_handshake(false),
                                        "HTTP/1.1 400 Bad Request\r\n\r\n",
                                        mariadb_handshake().substr(0, 30),
                                        mariadb_handshake() + "x"};
  testing::sweep_options o;
  o.leftover_ends_session = true;
  testing::fail_count_sweep([] { return std::make_unique<client>(opts()); }, script, faults, o);
}

TEST(MysqlClient, AgainstOurServer) {
  testing::expect_no_offer_handled<client, server>(server_options{});
  offer_stripper stripper;
  testing::expect_stripper_is_caught<client, server>(stripper);
}

TEST(MysqlStripper, ClearsSslInAHandshakeSplitAcrossReads) {
  offer_stripper s;
  const std::string h = mariadb_handshake();
  std::string out;
  for (char ch : h) out += s.from_server(std::string(1, ch));
  EXPECT_EQ(out, mariadb_handshake(false));
  EXPECT_EQ(s.offers_removed(), 1u);
  EXPECT_EQ(s.from_server("later"), "later");
}

TEST(MysqlStripper, LeavesOtherPacketsAlone) {
  offer_stripper s;
  const std::string e = frame(0, "\xff\x10\x04Too many connections"s);
  EXPECT_EQ(s.from_server(e), e);
  EXPECT_EQ(s.offers_removed(), 0u);
}

}  // namespace
}  // namespace otls::proto::mysql
