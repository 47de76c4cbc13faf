// SMTP reply reassembly, EHLO capability parsing and command splitting.
#include "otls/proto/smtp/reply.hpp"

#include <gtest/gtest.h>

#include "otls/proto/dialect.hpp"

namespace otls::proto::smtp {
namespace {

reply parse_one(std::string_view bytes) {
  reply_reader r;
  r.feed(bytes);
  auto got = r.next();
  EXPECT_TRUE(got) << got.error().message();
  EXPECT_TRUE(got && *got);
  return got && *got ? **got : reply{};
}

error_code parse_error(std::string_view bytes) {
  reply_reader r;
  r.feed(bytes);
  auto got = r.next();
  return got ? error_code{} : got.error();
}

TEST(SmtpReply, MultiLine) {
  const auto r = parse_one("250-mx.example.org Hello\r\n250-SIZE 1000\r\n250 STARTTLS\r\n");
  EXPECT_EQ(r.code, 250);
  ASSERT_EQ(r.lines.size(), 3u);
  EXPECT_EQ(r.lines[2], "STARTTLS");
  EXPECT_EQ(r.as_peer_text().back(), "250 STARTTLS");
}

TEST(SmtpReply, CodeAloneAndBareLf) {
  EXPECT_EQ(parse_one("250\r\n").lines, std::vector<std::string>{""});
  EXPECT_EQ(parse_one("220 hi\n").code, 220);
}

TEST(SmtpReply, IncompleteNeedsMore) {
  reply_reader r;
  r.feed("250-a\r\n250-b\r\n");
  EXPECT_EQ(r.next().value(), std::nullopt);
  r.feed("250 c\r\n");
  EXPECT_EQ(r.next().value()->lines.size(), 3u);
}

TEST(SmtpReply, Garbage) {
  EXPECT_EQ(parse_error("hello\r\n"), errc::malformed_reply);
  EXPECT_EQ(parse_error("25\r\n"), errc::malformed_reply);
  EXPECT_EQ(parse_error("999 x\r\n"), errc::malformed_reply);
  EXPECT_EQ(parse_error("250_x\r\n"), errc::malformed_reply);
  EXPECT_EQ(parse_error("250-a\r\n251 b\r\n"), errc::malformed_reply);
}

TEST(SmtpReply, TooManyLines) {
  std::string many;
  for (std::size_t i = 0; i <= max_reply_lines; ++i) many += "250-x\r\n";
  EXPECT_EQ(parse_error(many), errc::malformed_reply);
}

TEST(SmtpReply, OversizedLine) {
  EXPECT_EQ(parse_error("250 " + std::string(max_reply_line, 'x') + "\r\n"),
            core::errc::line_too_long);
}

TEST(SmtpReply, LeftoverIncludesPartialReply) {
  reply_reader r;
  r.feed("220 go ahead\r\n250-injected\r\n250 ");
  ASSERT_EQ(r.next().value()->code, 220);
  EXPECT_EQ(r.next().value(), std::nullopt);
  EXPECT_EQ(r.take_leftover(), "250-injected\r\n250 ");
}

TEST(EhloCapabilities, KeywordsCaseAndParameters) {
  const auto caps = ehlo_capabilities::from_reply(parse_one(
      "250-mx.example.org says hi\r\n250-size 35882577\r\n250-PIPELINING\r\n250-8BITMIME\r\n"
      "250-SMTPUTF8\r\n250-AUTH PLAIN login\r\n250-AUTH=LOGIN CRAM-MD5\r\n250-REQUIRETLS\r\n"
      "250-CHUNKING\r\n250-ENHANCEDSTATUSCODES\r\n250 starttls\r\n"));
  EXPECT_EQ(caps.greeting, "mx.example.org says hi");
  for (const char* kw : {"STARTTLS", "starttls", "PIPELINING", "8BITMIME", "SMTPUTF8", "REQUIRETLS",
                         "CHUNKING", "ENHANCEDSTATUSCODES", "SIZE", "AUTH"})
    EXPECT_TRUE(caps.has(kw)) << kw;
  EXPECT_FALSE(caps.has("STARTTL"));
  EXPECT_FALSE(caps.has("DSN"));
  EXPECT_EQ(caps.size_limit(), 35882577u);
  EXPECT_EQ(caps.auth_mechanisms(), (std::vector<std::string>{"PLAIN", "LOGIN", "CRAM-MD5"}));
  EXPECT_EQ(caps.extensions.front(), "SIZE 35882577");
}

TEST(EhloCapabilities, SizeWithoutLimit) {
  const auto caps = ehlo_capabilities::from_reply(parse_one("250-x\r\n250 SIZE\r\n"));
  EXPECT_EQ(caps.size_limit(), 0u);
}

TEST(SmtpCommand, Split) {
  EXPECT_EQ(parse_command("ehlo client.example")->verb, "EHLO");
  EXPECT_EQ(parse_command("MAIL FROM:<a@b>")->args, "FROM:<a@b>");
  EXPECT_EQ(parse_command("STARTTLS")->args, "");
  EXPECT_FALSE(parse_command(""));
  EXPECT_FALSE(parse_command(" EHLO"));
  EXPECT_FALSE(parse_command("\x16\x03\x01"));
}

}  // namespace
}  // namespace otls::proto::smtp
