// The IMAP meddlers of the demo lab: STARTTLS removal with valid framing, and the forged
// PREAUTH greeting ("NO STARTTLS" attack).
#include "otls/proto/imap/offer_stripper.hpp"

#include <gtest/gtest.h>

#include "dialect_harness.hpp"
#include "otls/proto/imap/client.hpp"
#include "otls/proto/imap/server.hpp"
#include "transcript.hpp"

namespace otls::proto::imap {
namespace {

TEST(ImapStripper, RemovesStarttlsFromGreetingCode) {
  offer_stripper s;
  EXPECT_EQ(s.from_server("* OK [CAPABILITY IMAP4rev1 SASL-IR STARTTLS LOGINDISABLED] Dovecot "
                          "(Debian) ready.\r\n"),
            "* OK [CAPABILITY IMAP4rev1 SASL-IR LOGINDISABLED] Dovecot (Debian) ready.\r\n");
  EXPECT_EQ(s.offers_removed(), 1u);
}

TEST(ImapStripper, RemovesFromUntaggedAndTaggedAcrossChunks) {
  offer_stripper s;
  std::string out = s.from_server("* OK hi\r\n* CAPABILITY IMAP4rev1 Start");
  EXPECT_EQ(out, "* OK hi\r\n");  // the capability line is held until complete
  out += s.from_server("TLS AUTH=PLAIN\r\na1 OK [CAPABILITY STARTTLS] done\n");
  EXPECT_EQ(out, "* OK hi\r\n* CAPABILITY IMAP4rev1 AUTH=PLAIN\r\na1 OK [CAPABILITY] done\n");
  EXPECT_EQ(s.offers_removed(), 2u);
  EXPECT_EQ(s.from_server("* CAPABILITY STARTTLS\r\n"), "* CAPABILITY\r\n");
}

TEST(ImapStripper, LeavesLookalikesAndLiteralsAlone) {
  offer_stripper s;
  const std::string input =
      "* CAPABILITY IMAP4rev1 STARTTLSX\r\n* OK STARTTLS in text\r\n"
      "* 1 FETCH (BODY[] {25}\r\n* CAPABILITY STARTTLS\r\n)\r\n";
  EXPECT_EQ(s.from_server(input), input);
  EXPECT_EQ(s.offers_removed(), 0u);
}

TEST(ImapStripper, PassesNonImapThrough) {
  offer_stripper s;
  const std::string tls("\x16\x03\x03\x00\x50 binary", 12);
  EXPECT_EQ(s.from_server(tls), tls);
  EXPECT_EQ(s.from_server("* CAPABILITY STARTTLS\r\n"), "* CAPABILITY STARTTLS\r\n");
  offer_stripper big;
  const std::string blob(300'000, 'x');
  EXPECT_EQ(big.from_server(blob), blob);
  offer_stripper longline;
  std::string out = longline.from_server(std::string(9000, 'y'));
  out += longline.from_server("\r\n");
  EXPECT_EQ(out, std::string(9000, 'y') + "\r\n");
}

TEST(ImapStripper, StrippedGreetingMakesTheClientFail) {
  offer_stripper s;
  client c(client_options{});
  testing::transcript(c)
      .feed(s.from_server("* OK [CAPABILITY IMAP4rev1 STARTTLS] hi\r\n"))
      .expect_write("a001 LOGOUT\r\n")
      .feed(s.from_server("* BYE\r\na001 OK\r\n"))
      .expect_fail(errc::starttls_not_supported);
}

TEST(ImapPreauthInjector, RewritesTheGreetingOnly) {
  preauth_injector p;
  EXPECT_EQ(p.from_server("* O"), "");
  EXPECT_EQ(p.from_server("K [CAPABILITY IMAP4rev1 STARTTLS] Dovecot ready.\r\n* OK x\r\n"),
            "* PREAUTH [CAPABILITY IMAP4rev1 STARTTLS] Dovecot ready.\r\n* OK x\r\n");
  EXPECT_EQ(p.from_server("* OK again\r\n"), "* OK again\r\n");
  EXPECT_EQ(p.offers_removed(), 1u);
}

TEST(ImapPreauthInjector, LeavesOtherGreetingsAlone) {
  for (std::string_view g : {"* BYE busy\r\n", "* OKAY\r\n", "+OK pop3\r\n", "*\r\n"}) {
    preauth_injector p;
    EXPECT_EQ(p.from_server(g), g);
    EXPECT_EQ(p.offers_removed(), 0u);
  }
  preauth_injector lower;
  EXPECT_EQ(lower.from_server("*  ok\r\n"), "*  PREAUTH\r\n");
}

TEST(ImapPreauthInjector, ForgedPreauthIsPreauthPlaintext) {
  preauth_injector p;
  client c(client_options{});
  testing::transcript(c)
      .feed(p.from_server("* OK [CAPABILITY IMAP4rev1 STARTTLS] ready\r\n"))
      .expect_fail(errc::preauth_plaintext);
}

using testing::run_pair;

TEST(ImapRoles, ClientAgainstOwnServerUpgrades) {
  server_options so;
  so.hostname = "imap.test";
  so.starttls_required = true;
  server s(so);
  client c(client_options{});
  const auto o = run_pair(c, s);
  EXPECT_EQ(o.client_end, action::kind::done) << o.client_error.message();
  EXPECT_TRUE(o.upgraded);
  EXPECT_EQ(c.facts().capabilities_before_tls,
            (std::vector<std::string>{"IMAP4rev1", "LITERAL-", "STARTTLS", "LOGINDISABLED"}));
  EXPECT_EQ(c.facts().capabilities_after_tls, (std::vector<std::string>{"IMAP4rev1", "LITERAL-"}));
  EXPECT_EQ(c.facts().banner, std::vector<std::string>{"imap.test ready"});
}

TEST(ImapRoles, MeddlersAgainstOwnServer) {
  {
    server s(server_options{});
    client c(client_options{});
    offer_stripper m;
    const auto o = run_pair(c, s, &m);
    EXPECT_EQ(o.client_end, action::kind::fail);
    EXPECT_EQ(o.client_error, errc::starttls_not_supported);
    EXPECT_EQ(m.offers_removed(), 1u);
  }
  {
    server s(server_options{});
    client c(client_options{});
    preauth_injector m;
    const auto o = run_pair(c, s, &m);
    EXPECT_EQ(o.client_error, errc::preauth_plaintext);
    EXPECT_EQ(m.offers_removed(), 1u);
  }
  {
    server s(server_options{});
    client_options may;
    may.require_tls = false;
    client c(may);
    preauth_injector m;
    const auto o = run_pair(c, s, &m);
    EXPECT_EQ(o.client_end, action::kind::done);
    EXPECT_TRUE(c.facts().ended_in_plaintext);
    EXPECT_EQ(c.facts().warnings.size(), 1u);
  }
}

}  // namespace
}  // namespace otls::proto::imap
