// NNTP status lines, data blocks with dot-unstuffing, CAPABILITIES lists and command splitting.
#include "otls/proto/nntp/response.hpp"

#include <gtest/gtest.h>

#include "otls/proto/dialect.hpp"

namespace otls::proto::nntp {
namespace {

response parse_one(std::string_view bytes, int block_code = 0) {
  response_reader r;
  r.feed(bytes);
  auto got = r.next(block_code);
  EXPECT_TRUE(got) << got.error().message();
  EXPECT_TRUE(got && *got);
  return got && *got ? **got : response{};
}

error_code parse_error(std::string_view bytes, int block_code = 0) {
  response_reader r;
  r.feed(bytes);
  auto got = r.next(block_code);
  return got ? error_code{} : got.error();
}

TEST(NntpResponse, StatusLine) {
  const auto r = parse_one("200 news.example InterNetNews NNRP server INN 2.7.1 ready\r\n");
  EXPECT_EQ(r.code, 200);
  EXPECT_EQ(r.text, "news.example InterNetNews NNRP server INN 2.7.1 ready");
  EXPECT_FALSE(r.multi_line);
  EXPECT_EQ(r.as_peer_text(),
            std::vector<std::string>{"200 news.example InterNetNews NNRP server INN 2.7.1 ready"});
}

TEST(NntpResponse, CodeAloneAndBareLf) {
  EXPECT_EQ(parse_one("205\r\n").text, "");
  EXPECT_EQ(parse_one("205\r\n").as_peer_text(), std::vector<std::string>{"205"});
  EXPECT_EQ(parse_one("382 go\n").code, 382);
}

TEST(NntpResponse, BlockOnlyForTheNamedCode) {
  // A 101 read where no block is expected is a single line; the block lines that follow are
  // then not status lines.
  response_reader r;
  r.feed("101 Capability list:\r\nVERSION 2\r\n.\r\n");
  EXPECT_EQ(r.next().value()->code, 101);
  EXPECT_EQ(r.next().error(), errc::malformed_reply);
  // A different code than the one named carries no block.
  const auto e = parse_one("500 What?\r\n", 101);
  EXPECT_EQ(e.code, 500);
  EXPECT_FALSE(e.multi_line);
}

TEST(NntpResponse, DataBlockWithDotUnstuffing) {
  const auto r = parse_one(
      "101 Capability list:\r\nVERSION 2\r\n..hidden\r\n..\r\n\r\nSTARTTLS\r\n.\r\n", 101);
  EXPECT_TRUE(r.multi_line);
  EXPECT_EQ(r.block, (std::vector<std::string>{"VERSION 2", ".hidden", ".", "", "STARTTLS"}));
  EXPECT_EQ(r.as_peer_text().front(), "101 Capability list:");
}

TEST(NntpResponse, IncompleteBlockNeedsMoreAndLeftoverKeepsIt) {
  response_reader r;
  r.feed("101 caps\r\nVERSION 2\r\n..x\r\nSTART");
  EXPECT_EQ(r.next(101).value(), std::nullopt);
  EXPECT_TRUE(r.mid_response());
  EXPECT_EQ(r.take_leftover(), "101 caps\r\nVERSION 2\r\n..x\r\nSTART");
  EXPECT_FALSE(r.mid_response());
  r.feed("205 bye\r\n");
  EXPECT_EQ(r.next(101).value()->code, 205);
}

TEST(NntpResponse, SplitAcrossFeeds) {
  response_reader r;
  for (char c : std::string_view("101 x\r\nREADER\r\n.\r\n")) {
    EXPECT_EQ(r.next(101).value(), std::nullopt);
    r.feed(std::string_view(&c, 1));
  }
  EXPECT_EQ(r.next(101).value()->block, std::vector<std::string>{"READER"});
}

TEST(NntpResponse, Garbage) {
  EXPECT_EQ(parse_error("hello\r\n"), errc::malformed_reply);
  EXPECT_EQ(parse_error("20\r\n"), errc::malformed_reply);
  EXPECT_EQ(parse_error("099 x\r\n"), errc::malformed_reply);
  EXPECT_EQ(parse_error("600 x\r\n"), errc::malformed_reply);
  EXPECT_EQ(parse_error("2000 x\r\n"), errc::malformed_reply);
  EXPECT_EQ(parse_error("200-more\r\n"), errc::malformed_reply);
  EXPECT_EQ(parse_error(std::string_view("\x16\x03\x01\x00\x05\r\n", 7)), errc::malformed_reply);
}

TEST(NntpResponse, Limits) {
  EXPECT_EQ(parse_error("200 " + std::string(max_response_line, 'x') + "\r\n"),
            core::errc::line_too_long);
  std::string many = "101 caps\r\n";
  for (std::size_t i = 0; i <= max_block_lines; ++i) many += "X\r\n";
  EXPECT_EQ(parse_error(many, 101), errc::malformed_reply);
  // Endless input without a line end stops at the line limit, not at memory exhaustion.
  response_reader r;
  for (int i = 0; i < 100; ++i) r.feed(std::string(1000, 'a'));
  EXPECT_EQ(r.next().error(), core::errc::line_too_long);
}

TEST(NntpCapabilities, LabelsCaseInsensitiveArgumentsKept) {
  const auto caps =
      capability_list::from_block({"VERSION 2", "  ", "starttls", "AuthInfo USER SASL",
                                   "LIST ACTIVE NEWSGROUPS  ", "mode-reader"});
  EXPECT_EQ(caps.lines, (std::vector<std::string>{"VERSION 2", "STARTTLS", "AUTHINFO USER SASL",
                                                  "LIST ACTIVE NEWSGROUPS", "MODE-READER"}));
  EXPECT_TRUE(caps.has("StartTLS"));
  EXPECT_TRUE(caps.has("MODE-READER"));
  EXPECT_FALSE(caps.has("READER"));  // labels are whole words
  EXPECT_EQ(caps.arguments("AUTHINFO"), "USER SASL");
  EXPECT_EQ(caps.arguments("STARTTLS"), "");
  EXPECT_EQ(caps.arguments("POST"), std::nullopt);
}

TEST(NntpCapabilities, TabSeparatedArguments) {
  const auto caps = capability_list::from_block({"AUTHINFO\tUSER"});
  EXPECT_TRUE(caps.has("AUTHINFO"));
  EXPECT_EQ(caps.arguments("AUTHINFO"), "USER");
}

TEST(NntpCommand, Split) {
  EXPECT_EQ(parse_command("mode reader")->verb, "MODE");
  EXPECT_EQ(parse_command("mode reader")->args, "reader");
  EXPECT_EQ(parse_command("  CAPABILITIES\t AUTOUPDATE  ")->args, "AUTOUPDATE");
  EXPECT_EQ(parse_command("STARTTLS ")->args, "");
  EXPECT_EQ(parse_command(""), std::nullopt);
  EXPECT_EQ(parse_command("   "), std::nullopt);
  EXPECT_EQ(parse_command(std::string_view("\x16\x03\x01", 3)), std::nullopt);
  EXPECT_EQ(parse_command("caf\xc3\xa9"), std::nullopt);
}

}  // namespace
}  // namespace otls::proto::nntp
