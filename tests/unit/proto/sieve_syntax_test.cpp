// ManageSieve tokens and responses (RFC 5804 §4): quoted strings and their escapes, literals
// {n} / {n+} split anywhere, response codes, limits and leftovers.
#include "otls/proto/sieve/syntax.hpp"

#include <gtest/gtest.h>

#include "otls/proto/dialect.hpp"

namespace otls::proto::sieve {
namespace {

// The greeting of Dovecot Pigeonhole 0.5 (Debian 12), before TLS.
constexpr std::string_view dovecot_greeting =
    "\"IMPLEMENTATION\" \"Dovecot (Debian) Pigeonhole\"\r\n"
    "\"SIEVE\" \"fileinto reject envelope encoded-character vacation subaddress "
    "comparator-i;ascii-numeric relational regex imap4flags copy include variables body enotify "
    "environment mailbox date index ihave duplicate mime foreverypart extracttext\"\r\n"
    "\"NOTIFY\" \"mailto\"\r\n\"SASL\" \"\"\r\n\"STARTTLS\"\r\n\"VERSION\" \"1.0\"\r\n"
    "OK \"Dovecot (Debian) ready.\"\r\n";

std::optional<response> read_one(std::string_view bytes) {
  response_reader r;
  r.feed(bytes);
  auto got = r.next();
  EXPECT_TRUE(got) << got.error().message();
  return got ? *got : std::nullopt;
}

TEST(SieveSyntax, DovecotGreeting) {
  auto r = read_one(dovecot_greeting);
  ASSERT_TRUE(r);
  EXPECT_EQ(r->what, status::ok);
  EXPECT_EQ(r->text, "Dovecot (Debian) ready.");
  ASSERT_EQ(r->capabilities.size(), 6u);
  EXPECT_TRUE(r->has("starttls"));
  EXPECT_EQ(r->describe_capabilities()[0], "IMPLEMENTATION Dovecot (Debian) Pigeonhole");
  EXPECT_EQ(r->describe_capabilities()[3], "SASL");
  EXPECT_EQ(r->describe_capabilities()[4], "STARTTLS");
  EXPECT_EQ(r->describe_capabilities()[5], "VERSION 1.0");
  EXPECT_EQ(r->as_peer_text().back(), "OK \"Dovecot (Debian) ready.\"");
}

TEST(SieveSyntax, EveryChunkingGivesTheSameResponse) {
  const std::string all(dovecot_greeting);
  for (std::size_t cut = 0; cut <= all.size(); ++cut) {
    response_reader r;
    r.feed(all.substr(0, cut));
    auto first = r.next();
    ASSERT_TRUE(first);
    if (cut < all.size()) {
      ASSERT_FALSE(*first) << cut;
      r.feed(all.substr(cut));
      first = r.next();
      ASSERT_TRUE(first);
    }
    ASSERT_TRUE(*first) << cut;
    EXPECT_EQ((*first)->capabilities.size(), 6u);
  }
}

TEST(SieveSyntax, EscapesAndLiterals) {
  auto r = read_one(
      "\"IMPLEMENTATION\" \"say \\\"hi\\\" \\\\o/\"\r\n"
      "{5}\r\nSIEVE {10+}\r\nfile\r\ninto\r\n"
      "\"X-EMPTY\" {0}\r\n\r\n"
      "ok (TAG {3}\r\nabc) \"done\"\r\n");
  ASSERT_TRUE(r);
  ASSERT_EQ(r->capabilities.size(), 3u);
  EXPECT_EQ(r->capabilities[0].value, "say \"hi\" \\o/");
  EXPECT_EQ(r->capabilities[1].name, "SIEVE");
  EXPECT_EQ(r->capabilities[1].value, "file\r\ninto");
  EXPECT_EQ(r->capabilities[2].value, "");
  EXPECT_EQ(r->code, "TAG \"abc\"");
  EXPECT_EQ(r->text, "done");
  // Strings that cannot be quoted come back as literals.
  EXPECT_EQ(r->as_peer_text()[1], "\"SIEVE\" {10}\r\nfile\r\ninto");
}

TEST(SieveSyntax, StatusLinesWithCodesAndOddText) {
  auto no = read_one("NO (QUOTA/MAXSIZE) \"too big\"\r\n");
  ASSERT_TRUE(no);
  EXPECT_EQ(no->what, status::no);
  EXPECT_EQ(no->code, "QUOTA/MAXSIZE");
  auto bye = read_one("BYE (REFERRAL \"sieve://other.example\") \"go away\"\r\n");
  ASSERT_TRUE(bye);
  EXPECT_EQ(bye->what, status::bye);
  EXPECT_EQ(bye->code, "REFERRAL \"sieve://other.example\"");
  auto nested = read_one("OK (X-EXT (a (b c)) d)\r\n");
  ASSERT_TRUE(nested);
  EXPECT_EQ(nested->code, "X-EXT (a (b c)) d");
  auto words = read_one("Ok  Completed fine\n");  // not RFC syntax, seen in old servers
  ASSERT_TRUE(words);
  EXPECT_EQ(words->text, "Completed fine");
  auto bare = read_one("OK\r\n");
  ASSERT_TRUE(bare);
  EXPECT_EQ(bare->text, "");
}

class SieveMalformed : public ::testing::TestWithParam<const char*> {};

TEST_P(SieveMalformed, IsMalformedReply) {
  response_reader r;
  r.feed(GetParam());
  auto got = r.next();
  ASSERT_FALSE(got) << GetParam();
  EXPECT_EQ(got.error(), errc::malformed_reply) << r.detail();
  EXPECT_FALSE(r.detail().empty());
}

INSTANTIATE_TEST_SUITE_P(Lines, SieveMalformed,
                         ::testing::Values("\r\n", "* OK hi\r\n", "220 smtp\r\n", "+OK pop\r\n",
                                           "OK (TAG \"x\"\r\n", "OK \"a\" \"b\"\r\n",
                                           "OK \"a\" b\r\n", "\"SIEVE\" x\r\n",
                                           "\"A\" \"b\" \"c\"\r\n", "\"bad \\n escape\"\r\n",
                                           "\"cr\rinside\"\r\n", "OK \"x\"\rjunk\r\n", "{}\r\n",
                                           "{5x}\r\n", "{5} trailing\r\n", "{12345678901}\r\n",
                                           "\x16\x03\x01\r\n", "OK ) \r\n"));

TEST(SieveSyntax, LiteralOverTheLimit) {
  response_reader r;
  r.feed("\"SIEVE\" {999999}\r\n");
  auto got = r.next();
  ASSERT_FALSE(got);
  EXPECT_EQ(got.error(), core::errc::line_too_long);
  EXPECT_NE(r.detail().find("999999"), std::string::npos);
}

TEST(SieveSyntax, OverlongLineAndBurst) {
  response_reader a;
  a.feed("\"" + std::string(max_line + 10, 'x'));
  auto got = a.next();
  ASSERT_FALSE(got);
  EXPECT_EQ(got.error(), core::errc::line_too_long);
  response_reader b;
  b.feed(std::string(500'000, 'x'));
  got = b.next();
  ASSERT_FALSE(got);
  EXPECT_EQ(got.error(), core::errc::buffer_limit);
}

TEST(SieveSyntax, TooManyTokensOrLines) {
  std::string many;
  for (int i = 0; i < 100; ++i) many += "a ";
  response_reader a;
  a.feed("OK " + many + "\r\n");
  auto got = a.next();
  ASSERT_FALSE(got);
  EXPECT_EQ(got.error(), errc::malformed_reply);
  response_reader b;
  for (int i = 0; i < 300; ++i) b.feed("\"X\"\r\n");
  got = b.next();
  ASSERT_FALSE(got);
  EXPECT_EQ(got.error(), errc::malformed_reply);
}

TEST(SieveSyntax, LeftoverKeepsEveryUnconsumedByte) {
  response_reader r;
  r.feed("OK \"go\"\r\n\"SIEVE\" \"x\"\r\n\"IMPL {4}\r\nab");
  auto got = r.next();
  ASSERT_TRUE(got && *got);
  EXPECT_EQ(r.take_leftover(), "\"SIEVE\" \"x\"\r\n\"IMPL {4}\r\nab");
  response_reader s;
  s.feed("\"SIEVE\" \"x\"\r\n\"SASL\" {4}\r\nPL");
  got = s.next();
  ASSERT_TRUE(got);
  EXPECT_FALSE(*got);
  EXPECT_TRUE(s.mid_response());
  EXPECT_EQ(s.take_leftover(), "\"SIEVE\" \"x\"\r\n\"SASL\" {4}\r\nPL");
  EXPECT_FALSE(s.mid_response());
}

TEST(SieveTokenizer, SkipLineRecoversAfterSyntaxError) {
  tokenizer t;
  t.feed("\"bad\\x\" more\r\nNOOP\r\n");
  auto got = t.next();
  ASSERT_FALSE(got);
  EXPECT_EQ(got.error(), errc::malformed_reply);
  t.skip_line();
  got = t.next();
  ASSERT_TRUE(got && *got);
  ASSERT_EQ((*got)->tokens.size(), 1u);
  EXPECT_EQ((*got)->tokens[0].text, "NOOP");
}

TEST(SieveTokenizer, SkipLineWaitsForTheLineEnd) {
  tokenizer t;
  t.feed("\x01 garbage");
  ASSERT_FALSE(t.next());
  t.skip_line();
  t.feed(" still garbage");
  auto got = t.next();
  ASSERT_TRUE(got);
  EXPECT_FALSE(*got);
  t.feed("\nLOGOUT\r\n");
  got = t.next();
  ASSERT_TRUE(got && *got);
  EXPECT_EQ((*got)->tokens[0].text, "LOGOUT");
}

TEST(SieveTokenizer, LiteralOctetsAreNeverCommands) {
  tokenizer t;
  t.feed("PUTSCRIPT \"x\" {10+}\r\nSTARTTLS\r\n\r\nLOGOUT\r\n");
  auto got = t.next();
  ASSERT_TRUE(got && *got);
  ASSERT_EQ((*got)->tokens.size(), 3u);
  EXPECT_EQ((*got)->tokens[2].text, "STARTTLS\r\n");
  got = t.next();
  ASSERT_TRUE(got && *got);
  EXPECT_EQ((*got)->tokens[0].text, "LOGOUT");
}

TEST(SieveQuote, QuotesOrFallsBackToLiteral) {
  EXPECT_EQ(quote("plain"), "\"plain\"");
  EXPECT_EQ(quote("a\"b\\c"), "\"a\\\"b\\\\c\"");
  EXPECT_EQ(quote(std::string_view("a\0b", 3)), std::string("{3}\r\na\0b", 8));
}

}  // namespace
}  // namespace otls::proto::sieve
