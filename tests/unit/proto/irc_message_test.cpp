// IRC message parsing (RFC 2812 §2.3.1, IRCv3 message-tags), CAP LS lists and STS values
// (IRCv3 capability negotiation 3.2, IRCv3 STS), and the `tls` stripper.
#include "otls/proto/irc/message.hpp"

#include <gtest/gtest.h>

#include "otls/proto/dialect.hpp"
#include "otls/proto/irc/offer_stripper.hpp"

namespace otls::proto::irc {
namespace {

TEST(IrcMessage, ParsesTagsPrefixCommandAndParams) {
  const auto m = parse_message("@time=x;id=1 :irc.test 670 * :STARTTLS successful, go ahead");
  ASSERT_TRUE(m);
  EXPECT_EQ(m->tags, "time=x;id=1");
  EXPECT_EQ(m->prefix, "irc.test");
  EXPECT_EQ(m->command, "670");
  EXPECT_EQ(m->numeric(), 670);
  EXPECT_EQ(m->params, (std::vector<std::string>{"*", "STARTTLS successful, go ahead"}));
}

TEST(IrcMessage, LowerCaseCommandsExtraSpacesAndEmptyTrailing) {
  const auto m = parse_message("cap   *  LS :");
  ASSERT_TRUE(m);
  EXPECT_EQ(m->command, "CAP");
  EXPECT_EQ(m->numeric(), -1);
  EXPECT_EQ(m->params, (std::vector<std::string>{"*", "LS", ""}));
}

TEST(IrcMessage, FifteenthParameterTakesTheRest) {
  const auto m = parse_message("X 1 2 3 4 5 6 7 8 9 10 11 12 13 14 rest of it");
  ASSERT_TRUE(m);
  ASSERT_EQ(m->params.size(), 15u);
  EXPECT_EQ(m->params.back(), "rest of it");
}

TEST(IrcMessage, RejectsNonMessages) {
  EXPECT_FALSE(parse_message(""));
  EXPECT_FALSE(parse_message(":prefix-only"));
  EXPECT_FALSE(parse_message("@tags-only"));
  EXPECT_FALSE(parse_message("12 x"));
  EXPECT_FALSE(parse_message("1234 x"));
  EXPECT_FALSE(parse_message("CAP1 LS"));
  EXPECT_FALSE(parse_message(std::string("PING \0x", 8)));
}

TEST(IrcMessage, ReaderSkipsEmptyLinesAndBoundsLines) {
  message_reader r;
  r.feed("\r\n\nPING :a\r\nPI");
  auto m = r.next();
  ASSERT_TRUE(m && *m);
  EXPECT_EQ((*m)->command, "PING");
  m = r.next();
  ASSERT_TRUE(m);
  EXPECT_FALSE(*m);
  EXPECT_TRUE(r.mid_message());
  EXPECT_EQ(r.take_leftover(), "PI");
  message_reader big;
  big.feed(std::string(max_line + 1, 'A') + "\r\n");
  EXPECT_EQ(big.next().error(), core::errc::line_too_long);
  message_reader tagged;  // IRCv3 tags may make a line far longer than 512 bytes
  tagged.feed("@" + std::string(8000, 't') + " PING :x\r\n");
  m = tagged.next();
  ASSERT_TRUE(m && *m);
}

TEST(IrcMessage, CapRepliesAndCapabilities) {
  auto cap = parse_cap_reply(*parse_message(":s CAP * LS * :a b=c"));
  ASSERT_TRUE(cap);
  EXPECT_EQ(cap->subcommand, "LS");
  EXPECT_TRUE(cap->more);
  EXPECT_EQ(cap->list, "a b=c");
  cap = parse_cap_reply(*parse_message(":s CAP nick ls :tls"));
  ASSERT_TRUE(cap);
  EXPECT_EQ(cap->subcommand, "LS");
  EXPECT_FALSE(cap->more);
  EXPECT_FALSE(parse_cap_reply(*parse_message(":s NOTICE * :CAP * LS :tls")));
  const auto caps = parse_capabilities("  tls  sts=port=6697,duration=0 sasl=  ");
  ASSERT_EQ(caps.size(), 3u);
  EXPECT_EQ(caps[1].name, "sts");
  EXPECT_EQ(caps[1].value, "port=6697,duration=0");
  EXPECT_EQ(caps[2].as_text(), "sasl");
}

TEST(IrcMessage, StsPolicy) {
  auto p = parse_sts("port=6697,duration=2592000,preload,unknown=1");
  EXPECT_EQ(p.port, 6697u);
  EXPECT_EQ(p.duration, 2592000ul);
  EXPECT_TRUE(p.preload);
  p = parse_sts("port=0,duration=x");
  EXPECT_FALSE(p.port);
  EXPECT_FALSE(p.duration);
  p = parse_sts("port=99999");
  EXPECT_FALSE(p.port);
}

TEST(IrcStripper, RemovesTlsFromInspircdCapLsAcrossChunks) {
  offer_stripper s;
  std::string out = s.from_server(
      ":irc.test NOTICE * :*** Looking up your hostname...\r\n:irc.test CAP * LS "
      ":inspircd.org/poison ");
  out += s.from_server("tls inspircd.org/standard-replies\r\n:irc.test 670 * :x\n");
  EXPECT_EQ(out,
            ":irc.test NOTICE * :*** Looking up your hostname...\r\n"
            ":irc.test CAP * LS :inspircd.org/poison inspircd.org/standard-replies\r\n"
            ":irc.test 670 * :x\n");
  EXPECT_EQ(s.offers_removed(), 1u);
}

TEST(IrcStripper, LeavesLookalikesAlone) {
  offer_stripper s;
  const std::string in =
      ":s NOTICE * :tls\r\n:s CAP * ACK :tls\r\n:s CAP * LS :tlsx tls=maybe-not x-tls\r\n";
  const std::string out = s.from_server(in);
  // "tls=..." is still the tls capability (a value does not change its name): removed.
  EXPECT_EQ(out, ":s NOTICE * :tls\r\n:s CAP * ACK :tls\r\n:s CAP * LS :tlsx x-tls\r\n");
  EXPECT_EQ(s.offers_removed(), 1u);
}

TEST(IrcStripper, HandshakeAfterThe670PassesUnbuffered) {
  // A client that sends STARTTLS without CAP (openssl s_client) gets the 670; the server's
  // TLS bytes behind it have no line end and must not wait in the stripper.
  offer_stripper s;
  const std::string hello("\x16\x03\x03\x00\x7a\x02\x00\x00\x76\x03\x03tls CAP", 18);
  EXPECT_EQ(s.from_server(":irc.test 670 * :STARTTLS successful\r\n" + hello),
            ":irc.test 670 * :STARTTLS successful\r\n" + hello);
  EXPECT_EQ(s.from_server(":s CAP * LS :tls\r\n"), ":s CAP * LS :tls\r\n");  // untouched now
  EXPECT_EQ(s.offers_removed(), 0u);
}

TEST(IrcStripper, PassesNonIrcThrough) {
  offer_stripper s;
  const std::string big(max_line + 10, 'x');
  EXPECT_EQ(s.from_server(big), big);
  EXPECT_EQ(s.from_server(":s CAP * LS :tls\r\n"), ":s CAP * LS :tls\r\n");
  EXPECT_EQ(s.offers_removed(), 0u);
}

}  // namespace
}  // namespace otls::proto::irc
