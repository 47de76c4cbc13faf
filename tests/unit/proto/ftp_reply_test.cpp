// FTP replies (single- and multi-line, RFC 959 §4.2), FEAT lists (RFC 2389 §3), EPSV and PASV
// answers (RFC 2428 §3, RFC 959 §4.1.2) and command splitting, with ProFTPD 1.3.8's own replies.
#include "otls/proto/ftp/reply.hpp"

#include <gtest/gtest.h>

#include "otls/proto/dialect.hpp"

namespace otls::proto::ftp {
namespace {

// ProFTPD 1.3.8 with mod_tls, as recorded by the interop lab.
constexpr std::string_view proftpd_feat =
    "211-Features:\r\n AUTH TLS\r\n CCC\r\n CLNT\r\n CSID\r\n EPRT\r\n EPSV\r\n HOST\r\n"
    " LANG C.UTF-8*\r\n MDTM\r\n MFF modify;UNIX.group;UNIX.mode;\r\n MFMT\r\n"
    " MLST modify*;perm*;size*;type*;unique*;UNIX.group*;UNIX.groupname*;UNIX.mode*;"
    "UNIX.owner*;UNIX.ownername*;\r\n PBSZ\r\n PROT\r\n RANG STREAM\r\n REST STREAM\r\n SIZE\r\n"
    " SSCN\r\n TVFS\r\n UTF8\r\n211 End\r\n";

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

feature_list features_of(std::vector<std::string> inner) {
  reply r{211, {"211-Features:"}};
  for (auto& l : inner) r.lines.push_back(std::move(l));
  r.lines.push_back("211 End");
  return feature_list::from_reply(r);
}

TEST(FtpReply, SingleLine) {
  const auto r = parse_one("220 ProFTPD Server (otls interop ProFTPD) [127.0.0.1]\r\n");
  EXPECT_EQ(r.code, 220);
  EXPECT_EQ(r.klass(), 2);
  EXPECT_EQ(r.text(), "ProFTPD Server (otls interop ProFTPD) [127.0.0.1]");
  EXPECT_EQ(r.as_peer_text(),
            std::vector<std::string>{"220 ProFTPD Server (otls interop ProFTPD) [127.0.0.1]"});
}

TEST(FtpReply, CodeAloneAndBareLf) {
  const auto r = parse_one("221\r\n");
  EXPECT_EQ(r.code, 221);
  EXPECT_EQ(r.text(), "");
  EXPECT_EQ(parse_one("226 Transfer complete\n").code, 226);
  EXPECT_EQ(parse_one("226 Transfer complete\n").text(), "Transfer complete");
}

TEST(FtpReply, ProftpdFeatIsOneReply) {
  reply_reader rr;
  rr.feed(proftpd_feat);
  rr.feed("234 AUTH TLS successful\r\n");
  const auto feat = rr.next().value();
  ASSERT_TRUE(feat);
  EXPECT_EQ(feat->code, 211);
  ASSERT_EQ(feat->lines.size(), 22u);
  EXPECT_EQ(feat->lines.front(), "211-Features:");
  EXPECT_EQ(feat->lines[1], " AUTH TLS");
  EXPECT_EQ(feat->lines.back(), "211 End");
  EXPECT_EQ(feat->text(), "Features:");
  const auto next = rr.next().value();
  ASSERT_TRUE(next);
  EXPECT_EQ(next->code, 234);
  EXPECT_EQ(rr.next().value(), std::nullopt);
  EXPECT_FALSE(rr.mid_reply());
}

TEST(FtpReply, MultiLineFreeTextRfc959Example) {
  // RFC 959 §4.2: lines in between are free text, even when they begin with digits.
  const auto r = parse_one(
      "123-First line\r\nSecond line\r\n  234 A line beginning with numbers\r\n"
      "123 The last line\r\n");
  EXPECT_EQ(r.code, 123);
  EXPECT_EQ(r.lines,
            (std::vector<std::string>{"123-First line", "Second line",
                                      "  234 A line beginning with numbers", "123 The last line"}));
  EXPECT_EQ(r.text(), "First line");
}

TEST(FtpReply, OtherCodesAndContinuationsInsideABlockDoNotEndIt) {
  reply_reader rr;
  rr.feed(
      "211-Features:\r\n123-not a reply\r\n234 not the go-ahead\r\n211-still going\r\n"
      " AUTH TLS\r\n211 End\r\n");
  const auto r = rr.next().value();
  ASSERT_TRUE(r);
  EXPECT_EQ(r->code, 211);
  EXPECT_EQ(r->lines.size(), 6u);
  EXPECT_EQ(r->lines.back(), "211 End");
  EXPECT_EQ(rr.next().value(), std::nullopt);
}

TEST(FtpReply, CodeAloneEndsAMultiLineReply) {
  reply_reader rr;
  rr.feed("211-Features:\r\n UTF8\r\n211\r\n221 bye\r\n");
  const auto r = rr.next().value();
  ASSERT_TRUE(r);
  EXPECT_EQ(r->lines, (std::vector<std::string>{"211-Features:", " UTF8", "211"}));
  EXPECT_EQ(rr.next().value()->code, 221);
}

TEST(FtpReply, ProftpdMultiLine530) {
  const auto r = parse_one("530-Unable to set anonymous privileges.\r\n530 Login incorrect.\r\n");
  EXPECT_EQ(r.code, 530);
  EXPECT_EQ(r.klass(), 5);
  EXPECT_EQ(r.lines.size(), 2u);
  EXPECT_EQ(r.text(), "Unable to set anonymous privileges.");
}

TEST(FtpReply, SplitAcrossFeedsAndBareLf) {
  reply_reader rr;
  const std::string_view bytes = "211-Features:\n AUTH TLS\r\n PBSZ\n211 End\n";
  for (char c : bytes) {
    EXPECT_EQ(rr.next().value(), std::nullopt);
    rr.feed(std::string_view(&c, 1));
  }
  const auto r = rr.next().value();
  ASSERT_TRUE(r);
  EXPECT_EQ(r->lines, (std::vector<std::string>{"211-Features:", " AUTH TLS", " PBSZ", "211 End"}));
}

TEST(FtpReply, MalformedFirstLine) {
  EXPECT_EQ(parse_error("hello\r\n"), errc::malformed_reply);
  EXPECT_EQ(parse_error("22 x\r\n"), errc::malformed_reply);
  EXPECT_EQ(parse_error("099 x\r\n"), errc::malformed_reply);
  EXPECT_EQ(parse_error("600 x\r\n"), errc::malformed_reply);
  EXPECT_EQ(parse_error("2200 x\r\n"), errc::malformed_reply);
  EXPECT_EQ(parse_error("220x\r\n"), errc::malformed_reply);
  EXPECT_EQ(parse_error(" 220 x\r\n"), errc::malformed_reply);
  EXPECT_EQ(parse_error("\r\n"), errc::malformed_reply);
  EXPECT_EQ(parse_error(std::string_view("\x16\x03\x01\x00\x05\r\n", 7)), errc::malformed_reply);
}

TEST(FtpReply, ReplyCode) {
  EXPECT_EQ(reply_code("220 x"), 220);
  EXPECT_EQ(reply_code("211-x"), 211);
  EXPECT_EQ(reply_code("550"), 550);
  EXPECT_EQ(reply_code("100"), 100);
  EXPECT_EQ(reply_code("559 x"), 559);
  EXPECT_EQ(reply_code("650 x"), std::nullopt);
  EXPECT_EQ(reply_code("55"), std::nullopt);
  EXPECT_EQ(reply_code("550x"), std::nullopt);
  EXPECT_EQ(reply_code("a50 x"), std::nullopt);
}

TEST(FtpReply, TooManyLines) {
  // max_reply_lines lines in all (first and last included) are fine; one more is not.
  std::string ok = "211-Features:\r\n";
  for (std::size_t i = 0; i + 2 < max_reply_lines; ++i) ok += " X\r\n";
  ok += "211 End\r\n";
  EXPECT_EQ(parse_one(ok).lines.size(), max_reply_lines);

  std::string many = "211-Features:\r\n";
  for (std::size_t i = 0; i + 1 < max_reply_lines; ++i) many += " X\r\n";
  many += "211 End\r\n";
  EXPECT_EQ(parse_error(many), errc::malformed_reply);
}

TEST(FtpReply, LineTooLong) {
  EXPECT_EQ(parse_error("220 " + std::string(max_reply_line, 'x') + "\r\n"),
            core::errc::line_too_long);
  // Endless input without a line end stops at the limit, not at memory exhaustion.
  reply_reader rr;
  for (int i = 0; i < 100; ++i) rr.feed(std::string(1000, 'a'));
  EXPECT_EQ(rr.next().error(), core::errc::line_too_long);
}

TEST(FtpReply, LeftoverOfAPartialReply) {
  reply_reader rr;
  rr.feed("211-Features:\n AUTH TLS\r\n PB");
  EXPECT_EQ(rr.next().value(), std::nullopt);
  EXPECT_TRUE(rr.mid_reply());
  // The unfinished reply's lines come back re-terminated with CRLF, then the half line.
  EXPECT_EQ(rr.take_leftover(), "211-Features:\r\n AUTH TLS\r\n PB");
  EXPECT_FALSE(rr.mid_reply());
  EXPECT_EQ(rr.take_leftover(), "");
  rr.feed("221 Goodbye.\r\n");
  EXPECT_EQ(rr.next().value()->code, 221);
}

TEST(FtpFeatures, ProftpdList) {
  const auto f = feature_list::from_reply(parse_one(proftpd_feat));
  ASSERT_EQ(f.lines.size(), 20u);
  EXPECT_EQ(f.lines.front(), "AUTH TLS");
  EXPECT_EQ(f.lines[7], "LANG C.UTF-8*");
  EXPECT_EQ(f.lines.back(), "UTF8");
  EXPECT_TRUE(f.offers_auth_tls());
  EXPECT_TRUE(f.has("pbsz"));
  EXPECT_TRUE(f.has("Prot"));
  EXPECT_TRUE(f.has("EPSV"));
  EXPECT_FALSE(f.has("EPS"));  // labels are whole words
  EXPECT_FALSE(f.has("STREAM"));
  EXPECT_EQ(f.arguments("auth"), "TLS");
  EXPECT_EQ(f.arguments("REST"), "STREAM");
  EXPECT_EQ(f.arguments("MFF"), "modify;UNIX.group;UNIX.mode;");
  EXPECT_EQ(f.arguments("PBSZ"), "");
  EXPECT_EQ(f.arguments("XCRC"), std::nullopt);
}

TEST(FtpFeatures, LabelsUpperCasedArgumentsKept) {
  const auto f = features_of({" auth tls", "   ", "\tmdtm", " Rest Stream  "});
  EXPECT_EQ(f.lines, (std::vector<std::string>{"AUTH tls", "MDTM", "REST Stream"}));
  EXPECT_TRUE(f.offers_auth_tls());  // mechanisms compare case-insensitively too
  EXPECT_EQ(f.arguments("rest"), "Stream");
}

TEST(FtpFeatures, NoListInShortReplies) {
  EXPECT_TRUE(feature_list::from_reply(parse_one("211 no features\r\n")).lines.empty());
  EXPECT_TRUE(feature_list::from_reply(parse_one("211-Features:\r\n211 End\r\n")).lines.empty());
  EXPECT_FALSE(feature_list{}.offers_auth_tls());
}

TEST(FtpFeatures, AuthMechanisms) {
  EXPECT_TRUE(features_of({" AUTH TLS"}).offers_auth_tls());
  EXPECT_TRUE(features_of({" AUTH SSL;TLS"}).offers_auth_tls());
  EXPECT_TRUE(features_of({" AUTH TLS;TLS-C;SSL"}).offers_auth_tls());
  EXPECT_TRUE(features_of({" AUTH SSL, TLS"}).offers_auth_tls());
  EXPECT_TRUE(features_of({" AUTH TLS-C TLS"}).offers_auth_tls());
  EXPECT_TRUE(features_of({" AUTH\tTLS"}).offers_auth_tls());
  // TLS must be a whole mechanism name.
  EXPECT_FALSE(features_of({" AUTH TLS-C"}).offers_auth_tls());
  EXPECT_FALSE(features_of({" AUTH SSL"}).offers_auth_tls());
  EXPECT_FALSE(features_of({" AUTH TLSX"}).offers_auth_tls());
  EXPECT_FALSE(features_of({" AUTH"}).offers_auth_tls());
  // Only the AUTH feature counts.
  EXPECT_FALSE(features_of({" AUTHX TLS"}).offers_auth_tls());
  EXPECT_FALSE(features_of({" PROT TLS", " TLS"}).offers_auth_tls());
}

TEST(FtpPassive, Epsv) {
  EXPECT_EQ(parse_epsv("Entering Extended Passive Mode (|||57453|)"), 57453);
  EXPECT_EQ(parse_epsv("Entering Extended Passive Mode (!!!6446!)"), 6446);
  EXPECT_EQ(parse_epsv("(|||1|)"), 1);
  EXPECT_EQ(parse_epsv("(|||65535|)"), 65535);
  EXPECT_EQ(parse_epsv("Entering Extended Passive Mode |||6446|"), std::nullopt);  // no parens
  EXPECT_EQ(parse_epsv("Entering Extended Passive Mode (|||6446|"), std::nullopt);
  EXPECT_EQ(parse_epsv("(|||0|)"), std::nullopt);
  EXPECT_EQ(parse_epsv("(|||65536|)"), std::nullopt);
  EXPECT_EQ(parse_epsv("(|||123456|)"), std::nullopt);
  EXPECT_EQ(parse_epsv("(|||64a6|)"), std::nullopt);
  EXPECT_EQ(parse_epsv("(|||-1|)"), std::nullopt);
  EXPECT_EQ(parse_epsv("(||||)"), std::nullopt);
  EXPECT_EQ(parse_epsv("(|||6446!)"), std::nullopt);  // mixed delimiters
  EXPECT_EQ(parse_epsv("(||!6446|)"), std::nullopt);
  EXPECT_EQ(parse_epsv("(   6446 )"), std::nullopt);  // not a printable delimiter
  EXPECT_EQ(parse_epsv("(|1.2.3.4||6446|)"), std::nullopt);
  EXPECT_EQ(parse_epsv(""), std::nullopt);
}

TEST(FtpPassive, Pasv) {
  const auto a = parse_pasv("Entering Passive Mode (127,0,0,1,209,247).");
  ASSERT_TRUE(a);
  EXPECT_EQ(a->host, "127.0.0.1");
  EXPECT_EQ(a->port, 209 * 256 + 247);
  const auto b = parse_pasv("Entering Passive Mode 10,0,0,5,4,1");  // no parentheses
  ASSERT_TRUE(b);
  EXPECT_EQ(b->host, "10.0.0.5");
  EXPECT_EQ(b->port, 1025);
  const auto c = parse_pasv("=192,168,001,002,0,21");
  ASSERT_TRUE(c);
  EXPECT_EQ(c->host, "192.168.1.2");
  EXPECT_EQ(c->port, 21);
  EXPECT_EQ(parse_pasv("(255,255,255,255,255,255)")->port, 65535);
  EXPECT_EQ(parse_pasv("(256,0,0,1,1,1)"), std::nullopt);
  EXPECT_EQ(parse_pasv("(1,2,3,4,1,256)"), std::nullopt);
  EXPECT_EQ(parse_pasv("(1,2,3,4,0,0)"), std::nullopt);  // port 0
  EXPECT_EQ(parse_pasv("(1,2,3,4,5)"), std::nullopt);    // too few fields
  EXPECT_EQ(parse_pasv("(1,2,3,4,5,)"), std::nullopt);
  EXPECT_EQ(parse_pasv("(1,2,3,4,5 6)"), std::nullopt);
  EXPECT_EQ(parse_pasv("(1, 2,3,4,5,6)"), std::nullopt);
  EXPECT_EQ(parse_pasv("(0001,2,3,4,5,6)"), std::nullopt);
  EXPECT_EQ(parse_pasv("Entering Passive Mode"), std::nullopt);
  EXPECT_EQ(parse_pasv(""), std::nullopt);
}

TEST(FtpCommand, Split) {
  EXPECT_EQ(parse_command("auth tls")->verb, "AUTH");
  EXPECT_EQ(parse_command("auth tls")->args, "tls");
  EXPECT_EQ(parse_command("  PBSZ 0  ")->args, "0");
  EXPECT_EQ(parse_command("USER\talice")->args, "alice");
  EXPECT_EQ(parse_command("PASS  a b ")->args, "a b");
  EXPECT_EQ(parse_command("FEAT")->verb, "FEAT");
  EXPECT_EQ(parse_command("FEAT")->args, "");
  EXPECT_EQ(parse_command("ABCDEFGH")->verb, "ABCDEFGH");
  EXPECT_EQ(parse_command("ABCDEFGHI"), std::nullopt);  // keywords are 1-8 letters
  EXPECT_EQ(parse_command("X1"), std::nullopt);
  EXPECT_EQ(parse_command("PROT:P"), std::nullopt);
  EXPECT_EQ(parse_command(""), std::nullopt);
  EXPECT_EQ(parse_command("   "), std::nullopt);
  EXPECT_EQ(parse_command("1 x"), std::nullopt);
  EXPECT_EQ(parse_command(std::string_view("\x16\x03\x01", 3)), std::nullopt);
  EXPECT_EQ(parse_command("caf\xc3\xa9"), std::nullopt);
}

}  // namespace
}  // namespace otls::proto::ftp
