// Bounded line reader: framing, limits and bare-LF policy.
#include "otls/core/line_reader.hpp"

#include <gtest/gtest.h>

namespace otls::core {
namespace {

TEST(LineReader, SplitsCrlfLinesAcrossFeeds) {
  line_reader r(100, line_ending::crlf_only);
  r.feed("ab");
  EXPECT_EQ(r.next_line().value(), std::nullopt);
  r.feed("c\r");
  EXPECT_EQ(r.next_line().value(), std::nullopt);
  r.feed("\ndef\r\n");
  EXPECT_EQ(r.next_line().value(), "abc");
  EXPECT_EQ(r.next_line().value(), "def");
  EXPECT_EQ(r.next_line().value(), std::nullopt);
  EXPECT_EQ(r.buffered(), 0u);
}

TEST(LineReader, EmptyLineIsALine) {
  line_reader r(10, line_ending::crlf_only);
  r.feed("\r\n");
  EXPECT_EQ(r.next_line().value(), "");
}

TEST(LineReader, RejectsBareLfWhenCrlfRequired) {
  line_reader r(100, line_ending::crlf_only);
  r.feed("EHLO x\n");
  auto line = r.next_line();
  ASSERT_TRUE(line.has_error());
  EXPECT_EQ(line.error(), errc::bare_line_feed);
  // The reader stays failed: no resynchronisation on attacker-chosen framing.
  r.feed("NOOP\r\n");
  EXPECT_TRUE(r.next_line().has_error());
}

TEST(LineReader, AcceptsBareLfWhenAllowed) {
  line_reader r(100, line_ending::accept_bare_lf);
  r.feed("250 ok\n220 x\r\n");
  EXPECT_EQ(r.next_line().value(), "250 ok");
  EXPECT_EQ(r.next_line().value(), "220 x");
}

TEST(LineReader, LineAtTheLimitIsAccepted) {
  line_reader r(5, line_ending::crlf_only);
  r.feed("12345\r\n");
  EXPECT_EQ(r.next_line().value(), "12345");
}

TEST(LineReader, LineOverTheLimitFailsWithTerminator) {
  line_reader r(5, line_ending::crlf_only);
  r.feed("123456\r\n");
  auto line = r.next_line();
  ASSERT_TRUE(line.has_error());
  EXPECT_EQ(line.error(), errc::line_too_long);
}

TEST(LineReader, UnterminatedOversizeFailsBeforeTheEnd) {
  // A 100 kB line must fail as soon as the limit is passed, not buffer forever.
  line_reader r(1000, line_ending::crlf_only);
  std::string chunk(4096, 'x');
  bool failed = false;
  for (int i = 0; i < 25 && !failed; ++i) {
    r.feed(chunk);
    auto line = r.next_line();
    if (line.has_error()) {
      EXPECT_EQ(line.error(), errc::line_too_long);
      failed = true;
    }
  }
  EXPECT_TRUE(failed);
}

TEST(LineReader, TakeLeftoverReturnsUnreadBytesAndEmpties) {
  line_reader r(100, line_ending::crlf_only);
  r.feed("STARTTLS\r\nMAIL FROM:<a>\r\nRCPT");
  EXPECT_EQ(r.next_line().value(), "STARTTLS");
  EXPECT_EQ(r.take_leftover(), "MAIL FROM:<a>\r\nRCPT");
  EXPECT_EQ(r.buffered(), 0u);
  EXPECT_EQ(r.next_line().value(), std::nullopt);
}

TEST(LineReader, ManyLinesCompactTheBuffer) {
  line_reader r(100, line_ending::crlf_only);
  for (int i = 0; i < 10000; ++i) {
    r.feed("NOOP\r\n");
    ASSERT_EQ(r.next_line().value(), "NOOP");
  }
  EXPECT_EQ(r.buffered(), 0u);
}

}  // namespace
}  // namespace otls::core

namespace otls::core {
namespace {

TEST(LineReader, BurstBeyondTheSlackFails) {
  line_reader r(100, line_ending::crlf_only);
  const std::string lines(line_reader_slack, '\n');  // many (bare) lines, never read
  r.feed(lines);
  r.feed(std::string(200, 'x'));
  auto line = r.next_line();
  ASSERT_TRUE(line.has_error());
  EXPECT_EQ(line.error(), errc::buffer_limit);
}

TEST(ByteBuffer, AppendConsumeTakeWithinTheLimit) {
  byte_buffer b(8);
  EXPECT_FALSE(b.append("abcd"));
  EXPECT_FALSE(b.append("efgh"));
  EXPECT_EQ(b.append("i"), errc::buffer_limit);
  EXPECT_EQ(b.view(), "abcdefgh");  // unchanged by the refused append
  b.consume(6);
  EXPECT_EQ(b.view(), "gh");
  EXPECT_FALSE(b.append("123456"));  // consumed space is reusable
  EXPECT_EQ(b.take_all(), "gh123456");
  EXPECT_TRUE(b.empty());
  b.consume(100);  // consuming more than held is harmless
  EXPECT_EQ(b.size(), 0u);
}

}  // namespace
}  // namespace otls::core
