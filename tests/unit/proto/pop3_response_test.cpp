// POP3 status lines, multi-line responses with dot-unstuffing (RFC 1939 §3), CAPA keywords
// (RFC 2449 §5) and command splitting.
#include "otls/proto/pop3/response.hpp"

#include <gtest/gtest.h>

#include "otls/proto/dialect.hpp"

namespace otls::proto::pop3 {
namespace {

TEST(Pop3Status, OkAndErrWithAndWithoutText) {
  auto ok = parse_status("+OK Dovecot (Debian) ready.");
  ASSERT_TRUE(ok);
  EXPECT_TRUE(ok->ok);
  EXPECT_EQ(ok->text, "Dovecot (Debian) ready.");
  auto bare = parse_status("+OK");
  ASSERT_TRUE(bare);
  EXPECT_EQ(bare->text, "");
  auto err = parse_status("-ERR [IN-USE] locked");
  ASSERT_TRUE(err);
  EXPECT_FALSE(err->ok);
  EXPECT_EQ(err->text, "[IN-USE] locked");
  EXPECT_EQ(err->as_peer_text(), std::vector<std::string>{"-ERR [IN-USE] locked"});
  auto lower = parse_status("+ok fine");
  ASSERT_TRUE(lower);
  EXPECT_TRUE(lower->ok);
}

TEST(Pop3Status, RejectsLookalikes) {
  for (std::string_view s :
       {"", "+", "+O", "+OKAY", "-ERROR", "OK", " +OK", "* OK", "220 hi", "+OK\tx"})
    EXPECT_FALSE(parse_status(s)) << s;
}

TEST(Pop3Reader, SingleLineWhenNotMultiline) {
  response_reader r;
  r.feed("+OK one\r\n+OK two\r\n");
  auto a = r.next(false);
  ASSERT_TRUE(a && *a);
  EXPECT_EQ((*a)->text, "one");
  EXPECT_TRUE((*a)->lines.empty());
  auto b = r.next(false);
  ASSERT_TRUE(b && *b);
  EXPECT_EQ((*b)->text, "two");
  auto c = r.next(false);
  ASSERT_TRUE(c);
  EXPECT_FALSE(*c);
}

TEST(Pop3Reader, MultilineWithDotUnstuffingAcrossChunks) {
  response_reader r;
  r.feed("+OK list\r\nCAPA\r\n..HIDDEN\r\n..");
  auto partial = r.next(true);
  ASSERT_TRUE(partial);
  EXPECT_FALSE(*partial);
  EXPECT_TRUE(r.mid_response());
  r.feed("\r\n\r\nUSER\r\n.\r\n");
  auto done = r.next(true);
  ASSERT_TRUE(done && *done);
  EXPECT_EQ((*done)->lines, (std::vector<std::string>{"CAPA", ".HIDDEN", ".", "", "USER"}));
  EXPECT_FALSE(r.mid_response());
}

TEST(Pop3Reader, ErrNeverOpensABody) {
  response_reader r;
  r.feed("-ERR unknown command\r\n+OK next\r\n");
  auto a = r.next(true);
  ASSERT_TRUE(a && *a);
  EXPECT_FALSE((*a)->ok);
  EXPECT_EQ(r.take_leftover(), "+OK next\r\n");
}

TEST(Pop3Reader, BareLfAccepted) {
  response_reader r;
  r.feed("+OK\nSTLS\n.\n");
  auto a = r.next(true);
  ASSERT_TRUE(a && *a);
  EXPECT_EQ((*a)->lines, std::vector<std::string>{"STLS"});
}

TEST(Pop3Reader, GarbageStatusIsMalformed) {
  response_reader r;
  r.feed("HTTP/1.1 400 Bad Request\r\n");
  auto a = r.next(false);
  ASSERT_FALSE(a);
  EXPECT_EQ(a.error(), errc::malformed_reply);
}

TEST(Pop3Reader, TooManyBodyLinesIsMalformed) {
  response_reader r;
  std::string body = "+OK\r\n";
  for (std::size_t i = 0; i <= max_multiline_lines; ++i) body += "X\r\n";
  r.feed(body);
  auto a = r.next(true);
  ASSERT_FALSE(a);
  EXPECT_EQ(a.error(), errc::malformed_reply);
}

TEST(Pop3Reader, OverlongLineFails) {
  response_reader r;
  r.feed("+OK " + std::string(max_response_line + 10, 'x'));
  auto a = r.next(false);
  ASSERT_FALSE(a);
  EXPECT_EQ(a.error(), core::errc::line_too_long);
}

TEST(Pop3Reader, LeftoverIncludesUnfinishedResponseRestuffed) {
  response_reader r;
  r.feed("+OK caps\r\n..X\r\nSTLS\r\nPART");
  auto a = r.next(true);
  ASSERT_TRUE(a);
  EXPECT_FALSE(*a);
  EXPECT_EQ(r.take_leftover(), "+OK caps\r\n..X\r\nSTLS\r\nPART");
  EXPECT_FALSE(r.mid_response());
}

TEST(Pop3Capabilities, NormalisesKeywordsKeepsArguments) {
  response resp{true, "", {"capa", "sasl PLAIN login", "STLS  ", "", "IMPLEMENTATION x y"}};
  const auto caps = capabilities::from_response(resp);
  EXPECT_EQ(caps.lines,
            (std::vector<std::string>{"CAPA", "SASL PLAIN login", "STLS", "IMPLEMENTATION x y"}));
  EXPECT_TRUE(caps.has("stls"));
  EXPECT_TRUE(caps.has("SASL"));
  EXPECT_FALSE(caps.has("PLAIN"));
  EXPECT_FALSE(caps.has("STL"));
}

TEST(Pop3Command, SplitsVerbAndArguments) {
  auto c = parse_command("user alice smith");
  ASSERT_TRUE(c);
  EXPECT_EQ(c->verb, "USER");
  EXPECT_EQ(c->args, "alice smith");
  auto s = parse_command("STLS");
  ASSERT_TRUE(s);
  EXPECT_EQ(s->args, "");
  EXPECT_FALSE(parse_command(""));
  EXPECT_FALSE(parse_command(" STLS"));
  EXPECT_FALSE(parse_command("ST1S"));
  EXPECT_FALSE(parse_command("\x16\x03\x01"));
}

}  // namespace
}  // namespace otls::proto::pop3
