// IMAP framing with literals and response/command parsing (RFC 9051 §4.3, §7, §9; RFC 7888).
#include "otls/proto/imap/response.hpp"

#include <gtest/gtest.h>

#include "otls/proto/dialect.hpp"

namespace otls::proto::imap {
namespace {

frame_reader client_reader() {
  return frame_reader(response_limits, core::line_ending::accept_bare_lf);
}

frame next_frame(frame_reader& r) {
  auto f = r.next();
  EXPECT_TRUE(f) << f.error().message();
  EXPECT_TRUE(f && *f);
  return f && *f ? std::move(**f) : frame{};
}

response parsed(std::string_view line) {
  auto r = parse_response(frame{std::string(line), {}, {}});
  EXPECT_TRUE(r) << line;
  return r ? *r : response{};
}

TEST(ImapFrame, SplitsLinesAndKeepsRaw) {
  auto r = client_reader();
  r.feed("* OK hi\r\na001 OK done\nrest");
  auto f = next_frame(r);
  EXPECT_EQ(f.text, "* OK hi");
  EXPECT_EQ(f.raw, "* OK hi\r\n");
  f = next_frame(r);
  EXPECT_EQ(f.text, "a001 OK done");
  EXPECT_EQ(f.raw, "a001 OK done\n");
  auto more = r.next();
  ASSERT_TRUE(more);
  EXPECT_FALSE(*more);
  EXPECT_EQ(r.take_leftover(), "rest");
}

TEST(ImapFrame, LiteralOctetsAreDataNotLines) {
  auto r = client_reader();
  // The literal holds CRLF, "{3}" and "a001 OK": none of it may end or fake a response.
  const std::string literal = "x\r\n{3}\r\na001 OK";
  r.feed("* 1 FETCH (BODY[] {" + std::to_string(literal.size()) + "}\r\n" + literal +
         ")\r\n* OK [CAPABILITY IMAP4rev1] after\r\n");
  auto f = next_frame(r);
  EXPECT_EQ(f.text, "* 1 FETCH (BODY[] {" + std::to_string(literal.size()) + "})");
  ASSERT_EQ(f.literals.size(), 1u);
  EXPECT_EQ(f.literals[0], literal);
  f = next_frame(r);
  EXPECT_EQ(f.text, "* OK [CAPABILITY IMAP4rev1] after");
}

TEST(ImapFrame, LiteralsAcrossChunksByteByByte) {
  auto r = client_reader();
  const std::string input = "* LIST () \"/\" {5+}\r\nIN\r\nX ~{0}\r\n tail\r\n";
  for (char c : input) {
    auto f = r.next();
    ASSERT_TRUE(f);
    ASSERT_FALSE(*f);
    r.feed(std::string_view(&c, 1));
  }
  auto f = next_frame(r);
  EXPECT_EQ(f.text, "* LIST () \"/\" {5+} ~{0} tail");
  EXPECT_EQ(f.literals, (std::vector<std::string>{"IN\r\nX", ""}));
  EXPECT_EQ(f.raw, input);
}

TEST(ImapFrame, AwaitingLiteralReportsHeader) {
  frame_reader r(command_limits, core::line_ending::accept_bare_lf);
  r.feed("a1 LOGIN {4}\r\nus");
  auto f = r.next();
  ASSERT_TRUE(f);
  EXPECT_FALSE(*f);
  auto h = r.awaiting_literal();
  ASSERT_TRUE(h);
  EXPECT_EQ(h->size, 4u);
  EXPECT_TRUE(h->synchronizing);
  EXPECT_EQ(h->index, 0u);
  EXPECT_EQ(r.partial_text(), "a1 LOGIN {4}");
  // Leftover at this point is every byte, including the partial command.
  EXPECT_EQ(r.take_leftover(), "a1 LOGIN {4}\r\nus");
  EXPECT_FALSE(r.awaiting_literal());
  EXPECT_EQ(r.partial_text(), "");
}

TEST(ImapFrame, LiteralMarkers) {
  EXPECT_EQ(literal_at_end("x {12}")->size, 12u);
  EXPECT_FALSE(literal_at_end("x {12+}")->synchronizing);
  EXPECT_EQ(literal_at_end("~{0}")->size, 0u);
  EXPECT_EQ(literal_at_end("{99999999999999999999999}")->size, UINT64_MAX);
  EXPECT_FALSE(literal_at_end("x {}"));
  EXPECT_FALSE(literal_at_end("x {+}"));
  EXPECT_FALSE(literal_at_end("x {1a}"));
  EXPECT_FALSE(literal_at_end("x {5} "));
  EXPECT_FALSE(literal_at_end("x 5}"));
}

TEST(ImapFrame, OversizedLiteralRefusedBeforeItsOctets) {
  auto r = client_reader();
  r.feed("* 1 FETCH (BODY[] {65537}\r\n");
  auto f = r.next();
  ASSERT_FALSE(f);
  EXPECT_EQ(f.error(), core::errc::buffer_limit);
  EXPECT_TRUE(r.failed());
  auto huge = client_reader();
  huge.feed("* X {99999999999999999999999}\r\n");
  EXPECT_EQ(huge.next().error(), core::errc::buffer_limit);
}

TEST(ImapFrame, FrameLimitCountsAllLiterals) {
  frame_reader r(frame_limits{100, 60, 150}, core::line_ending::accept_bare_lf);
  const std::string sixty(60, 'a');
  r.feed("* X {60}\r\n" + sixty + " {60}\r\n" + sixty + " {60}\r\n");
  EXPECT_EQ(r.next().error(), core::errc::buffer_limit);
  frame_reader zeros(frame_limits{100, 60, 150}, core::line_ending::accept_bare_lf);
  std::string many;
  for (int i = 0; i < 40; ++i) many += "{0}\r\n";
  zeros.feed(many);
  EXPECT_EQ(zeros.next().error(), core::errc::buffer_limit);
}

TEST(ImapFrame, LongLines) {
  auto r = client_reader();
  r.feed("* OK " + std::string(10000, 'x'));
  EXPECT_EQ(r.next().error(), core::errc::line_too_long);
  auto big = client_reader();
  big.feed(std::string(1'000'000, 'x'));  // one burst beyond the buffer
  EXPECT_EQ(big.next().error(), core::errc::line_too_long);
  auto burst = client_reader();
  std::string lines;
  while (lines.size() < 300'000) lines += "* OK x\r\n";
  burst.feed(lines);
  EXPECT_EQ(burst.next().error(), core::errc::buffer_limit);
  // Exactly max_line octets is fine.
  auto edge = client_reader();
  edge.feed(std::string(response_limits.max_line, 'y') + "\r\n");
  EXPECT_EQ(next_frame(edge).text.size(), response_limits.max_line);
}

TEST(ImapFrame, CrlfOnlyRefusesBareLf) {
  frame_reader r(command_limits, core::line_ending::crlf_only);
  r.feed("a NOOP\n");
  EXPECT_EQ(r.next().error(), core::errc::bare_line_feed);
}

TEST(ImapResponse, Kinds) {
  auto t = parsed("a001 OK [READ-WRITE] SELECT completed");
  EXPECT_EQ(t.type, response::kind::tagged);
  EXPECT_EQ(t.tag, "a001");
  EXPECT_EQ(t.keyword, "OK");
  EXPECT_EQ(t.code, "READ-WRITE");
  EXPECT_EQ(t.code_name(), "READ-WRITE");
  EXPECT_EQ(t.text, "SELECT completed");
  auto u = parsed("* 23 EXISTS");
  EXPECT_EQ(u.type, response::kind::untagged);
  EXPECT_EQ(u.keyword, "EXISTS");
  EXPECT_FALSE(u.is_status());
  auto c = parsed("+ Ready for additional command text");
  EXPECT_EQ(c.type, response::kind::continuation);
  EXPECT_EQ(c.text, "Ready for additional command text");
  EXPECT_EQ(parsed("+").type, response::kind::continuation);
  auto b = parsed("* BYE Autologout; idle for too long");
  EXPECT_TRUE(b.is_status());
  EXPECT_EQ(b.text, "Autologout; idle for too long");
  EXPECT_EQ(b.as_peer_text(), std::vector<std::string>{"* BYE Autologout; idle for too long"});
}

TEST(ImapResponse, OddCaseAndSpacing) {
  auto r = parsed("*   ok   [capability imap4rev1   StartTLS ]   hi  there");
  EXPECT_EQ(r.keyword, "OK");
  EXPECT_EQ(r.code_name(), "CAPABILITY");
  EXPECT_EQ(r.text, "hi  there");
  const auto caps = capabilities_of(r);
  ASSERT_TRUE(caps);
  EXPECT_EQ(*caps, (std::vector<std::string>{"imap4rev1", "StartTLS"}));
  EXPECT_TRUE(has_capability(*caps, "STARTTLS"));
  EXPECT_FALSE(has_capability(*caps, "STARTTLSX"));
  auto n = parsed("a2 no");
  EXPECT_EQ(n.keyword, "NO");
  EXPECT_EQ(n.text, "");
  auto unclosed = parsed("* OK [ALERT unclosed");
  EXPECT_EQ(unclosed.code, "");
  EXPECT_EQ(unclosed.text, "[ALERT unclosed");
}

TEST(ImapResponse, CapabilityData) {
  const auto dovecot = parsed(
      "* OK [CAPABILITY IMAP4rev1 SASL-IR LOGIN-REFERRALS ID ENABLE IDLE LITERAL+ STARTTLS "
      "LOGINDISABLED] Dovecot (Debian) ready.");
  EXPECT_EQ(dovecot.text, "Dovecot (Debian) ready.");
  const auto caps = capabilities_of(dovecot);
  ASSERT_TRUE(caps);
  EXPECT_EQ(caps->size(), 9u);
  EXPECT_EQ(caps->front(), "IMAP4rev1");
  EXPECT_TRUE(has_capability(*caps, "LOGINDISABLED"));
  const auto data = capabilities_of(parsed("* CAPABILITY IMAP4rev1 AUTH=PLAIN  LITERAL+ "));
  EXPECT_EQ(*data, (std::vector<std::string>{"IMAP4rev1", "AUTH=PLAIN", "LITERAL+"}));
  EXPECT_EQ(capabilities_of(parsed("* CAPABILITY"))->size(), 0u);
  EXPECT_EQ(capabilities_of(parsed("a1 OK [CAPABILITY] x"))->size(), 0u);
  EXPECT_FALSE(capabilities_of(parsed("a1 OK [CAPABILITIES X] x")));
  EXPECT_FALSE(capabilities_of(parsed("* OK CAPABILITY STARTTLS")));
}

TEST(ImapResponse, Malformed) {
  for (std::string_view bad :
       {"", "*", "* ", "*OK", "+OK POP3 ready", "a001", "a001 FETCH x", "a001 PREAUTH x",
        "a+1 OK x", "(a OK x", "* 3", "* CAPABILITY IMAP4rev1 {5}", "* OK [CAPABILITY a\"b] x",
        "\x16\x03\x01 OK", "220 mx ESMTP"}) {
    auto r = parse_response(frame{std::string(bad), {}, {}});
    ASSERT_FALSE(r) << bad;
    EXPECT_EQ(r.error(), errc::malformed_reply) << bad;
  }
}

TEST(ImapResponse, Tags) {
  EXPECT_TRUE(valid_tag("a001"));
  EXPECT_TRUE(valid_tag("A]1.x"));
  EXPECT_FALSE(valid_tag(""));
  EXPECT_FALSE(valid_tag("*"));
  EXPECT_FALSE(valid_tag("a+"));
  EXPECT_FALSE(valid_tag("a{"));
  EXPECT_FALSE(valid_tag("a%"));
  EXPECT_FALSE(valid_tag("a b"));
  EXPECT_FALSE(valid_tag("\xc3\xa9"));
}

TEST(ImapCommand, Split) {
  auto c = parse_command(frame{"x1 login {4} {4}", {"user", "pass"}, {}});
  ASSERT_TRUE(c);
  EXPECT_EQ(c->tag, "x1");
  EXPECT_EQ(c->name, "LOGIN");
  EXPECT_EQ(c->args, "{4} {4}");
  EXPECT_EQ(c->literals.size(), 2u);
  auto bare = parse_command(frame{"x2", {}, {}});
  ASSERT_TRUE(bare);
  EXPECT_EQ(bare->name, "");
  EXPECT_FALSE(parse_command(frame{"", {}, {}}));
  EXPECT_FALSE(parse_command(frame{"* CAPABILITY", {}, {}}));
  EXPECT_FALSE(parse_command(frame{" a NOOP", {}, {}}));
}

}  // namespace
}  // namespace otls::proto::imap
