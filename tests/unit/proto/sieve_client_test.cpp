// ManageSieve client role as transcripts (RFC 5804 §1.7, §2.2), using Dovecot Pigeonhole's real
// responses, plus a fail-count sweep that injects an error at every step.
#include "otls/proto/sieve/client.hpp"

#include <memory>

#include <gtest/gtest.h>

#include "dialect_harness.hpp"
#include "otls/core/error.hpp"
#include "transcript.hpp"

namespace otls::proto::sieve {
namespace {

using testing::transcript;

// Dovecot 2.3.19 / Pigeonhole 0.5 (Debian 12), seen from another address.
constexpr std::string_view dovecot_sieve_list =
    "\"SIEVE\" \"fileinto reject envelope encoded-character vacation subaddress "
    "comparator-i;ascii-numeric relational regex imap4flags copy include variables body enotify "
    "environment mailbox date index ihave duplicate mime foreverypart extracttext\"\r\n";
const std::string dovecot_greeting =
    "\"IMPLEMENTATION\" \"Dovecot (Debian) Pigeonhole\"\r\n" + std::string(dovecot_sieve_list) +
    "\"NOTIFY\" \"mailto\"\r\n\"SASL\" \"\"\r\n\"STARTTLS\"\r\n\"VERSION\" \"1.0\"\r\n"
    "OK \"Dovecot (Debian) ready.\"\r\n";
constexpr std::string_view dovecot_starttls = "OK \"Begin TLS negotiation now.\"\r\n";
const std::string dovecot_after_tls =
    "\"IMPLEMENTATION\" \"Dovecot (Debian) Pigeonhole\"\r\n" + std::string(dovecot_sieve_list) +
    "\"NOTIFY\" \"mailto\"\r\n\"SASL\" \"PLAIN\"\r\n\"VERSION\" \"1.0\"\r\n"
    "OK \"TLS negotiation successful.\"\r\n";
constexpr std::string_view dovecot_logout = "OK \"Logout completed.\"\r\n";

client_options opts(bool require_tls = true) {
  client_options o;
  o.require_tls = require_tls;
  return o;
}

TEST(SieveClient, FullUpgradeAgainstDovecot) {
  client c(opts());
  transcript(c)
      .expect_need_more()
      .feed(dovecot_greeting)
      .expect_write("STARTTLS\r\n")
      .expect_need_more()
      .feed(dovecot_starttls)
      .expect_start_tls("")
      .tls_established()
      .expect_need_more()  // the server speaks first after TLS: no CAPABILITY is sent
      .feed(dovecot_after_tls)
      .expect_write("LOGOUT\r\n")
      .expect_need_more()
      .feed(dovecot_logout)
      .expect_done();
  EXPECT_EQ(c.facts().banner, std::vector<std::string>{"Dovecot (Debian) ready."});
  EXPECT_TRUE(c.facts().starttls_offered);
  EXPECT_TRUE(c.facts().starttls_accepted);
  EXPECT_TRUE(c.facts().warnings.empty());
  ASSERT_EQ(c.facts().capabilities_before_tls.size(), 6u);
  EXPECT_EQ(c.facts().capabilities_before_tls[0], "IMPLEMENTATION Dovecot (Debian) Pigeonhole");
  EXPECT_EQ(c.facts().capabilities_before_tls[3], "SASL");
  EXPECT_EQ(c.facts().capabilities_before_tls[4], "STARTTLS");
  // Rule 2: the post-TLS list is the one the server re-sent, nothing from before.
  ASSERT_EQ(c.facts().capabilities_after_tls.size(), 5u);
  EXPECT_EQ(c.facts().capabilities_after_tls[3], "SASL PLAIN");
  EXPECT_EQ(c.facts().capabilities_after_tls[4], "VERSION 1.0");
  EXPECT_FALSE(c.capabilities_now().has("STARTTLS"));
}

TEST(SieveClient, PreTlsCapabilitiesAreForgottenAtTheHandshake) {
  client c(opts());
  transcript(c)
      .feed(dovecot_greeting)
      .expect_write("STARTTLS\r\n")
      .feed(dovecot_starttls)
      .expect_start_tls()
      .tls_established();
  EXPECT_TRUE(c.capabilities_now().capabilities.empty());
}

TEST(SieveClient, LogoutAnsweredByCloseIsFine) {
  client c(opts());
  transcript(c)
      .feed(dovecot_greeting)
      .expect_write("STARTTLS\r\n")
      .feed(dovecot_starttls)
      .expect_start_tls()
      .tls_established()
      .feed(dovecot_after_tls)
      .expect_write("LOGOUT\r\n")
      .eof()
      .expect_done();
}

TEST(SieveClient, OddCaseSpacingLiteralsAndBareLf) {
  client c(opts());
  transcript(c)
      .feed("\"implementation\"   \"odd\"\n{8}\nStartTls\n\"SASL\" {0+}\n\nok\n")
      .expect_write("STARTTLS\r\n")
      .feed("Ok (SASL \"x\")\n")
      .expect_start_tls();
  EXPECT_EQ(c.facts().capabilities_before_tls,
            (std::vector<std::string>{"IMPLEMENTATION odd", "STARTTLS", "SASL"}));
  EXPECT_TRUE(c.facts().banner.empty());
}

TEST(SieveClient, ResponseInjectionIsLeftOver) {
  // Rule 1: capability lines forged behind the go-ahead reach the driver, which refuses.
  client c(opts());
  transcript(c)
      .feed(dovecot_greeting)
      .expect_write("STARTTLS\r\n")
      .feed("OK \"go\"\r\n\"SASL\" \"PLAIN\"\r\nOK \"fake\"\r\n\"IMPL")
      .expect_start_tls("\"SASL\" \"PLAIN\"\r\nOK \"fake\"\r\n\"IMPL");
}

TEST(SieveClient, CapabilitiesBeforeTheStarttlsOkAreRefused) {
  client c(opts());
  transcript(c)
      .feed(dovecot_greeting)
      .expect_write("STARTTLS\r\n")
      .feed("\"SASL\" \"PLAIN\"\r\nOK \"go\"\r\n")
      .expect_fail(errc::unexpected_reply);
  EXPECT_FALSE(c.facts().starttls_accepted);
}

TEST(SieveClient, ByeGreetingIsServiceUnavailable) {
  client c(opts());
  transcript(c)
      .feed("BYE (TRYLATER) \"Too many connections\"\r\n")
      .expect_fail(errc::service_unavailable);
  EXPECT_EQ(c.diag().peer_text,
            std::vector<std::string>{"BYE (TRYLATER) \"Too many connections\""});
}

TEST(SieveClient, NoGreetingIsServiceUnavailableAfterLogout) {
  client c(opts());
  transcript(c)
      .feed("NO \"not now\"\r\n")
      .expect_write("LOGOUT\r\n")
      .eof()
      .expect_fail(errc::service_unavailable);
}

TEST(SieveClient, GarbageGreetingIsMalformed) {
  client c(opts());
  transcript(c).feed("* OK IMAP4rev1 ready\r\n").expect_fail(errc::malformed_reply);
  EXPECT_FALSE(c.diag().detail.empty());
  client d(opts());
  transcript(d).feed("\"SIEVE\" \"unterminated\r\n").expect_fail(errc::malformed_reply);
}

TEST(SieveClient, NoStarttlsWhenRequiredFails) {
  client c(opts());
  transcript(c)
      .feed("\"IMPLEMENTATION\" \"x\"\r\n\"SASL\" \"PLAIN\"\r\nOK\r\n")
      .expect_write("LOGOUT\r\n")
      .feed("OK\r\n")
      .expect_fail(errc::starttls_not_supported);
  EXPECT_FALSE(c.facts().starttls_offered);
  EXPECT_FALSE(c.facts().ended_in_plaintext);
}

TEST(SieveClient, NoStarttlsAtMayContinuesInPlaintext) {
  client c(opts(false));
  transcript(c)
      .feed("\"IMPLEMENTATION\" \"x\"\r\n\"SASL\" \"PLAIN\"\r\nOK\r\n")
      .expect_write("LOGOUT\r\n")
      .feed("OK\r\n")
      .expect_done();
  EXPECT_TRUE(c.facts().ended_in_plaintext);
  ASSERT_EQ(c.facts().warnings.size(), 1u);
  EXPECT_NE(c.facts().warnings[0].find("PLAINTEXT"), std::string::npos);
}

TEST(SieveClient, StarttlsRefusedWhenRequired) {
  client c(opts());
  transcript(c)
      .feed(dovecot_greeting)
      .expect_write("STARTTLS\r\n")
      .feed("NO \"TLS support isn't enabled.\"\r\n")
      .expect_write("LOGOUT\r\n")
      .feed(dovecot_logout)
      .expect_fail(errc::starttls_rejected);
  EXPECT_EQ(c.diag().peer_text, std::vector<std::string>{"NO \"TLS support isn't enabled.\""});
  client d(opts());
  transcript(d)
      .feed(dovecot_greeting)
      .expect_write("STARTTLS\r\n")
      .feed("BYE \"shutting down\"\r\n")
      .expect_fail(errc::starttls_rejected);
}

TEST(SieveClient, StarttlsRefusedAtMayContinuesInPlaintext) {
  client c(opts(false));
  transcript(c)
      .feed(dovecot_greeting)
      .expect_write("STARTTLS\r\n")
      .feed("NO \"TLS support isn't enabled.\"\r\n")
      .expect_write("LOGOUT\r\n")
      .feed(dovecot_logout)
      .expect_done();
  EXPECT_TRUE(c.facts().starttls_offered);
  EXPECT_FALSE(c.facts().starttls_accepted);
  EXPECT_TRUE(c.facts().ended_in_plaintext);
  ASSERT_EQ(c.facts().warnings.size(), 1u);
  EXPECT_NE(c.facts().warnings[0].find("TLS support isn't enabled."), std::string::npos);
  client d(opts(false));
  transcript(d)
      .feed(dovecot_greeting)
      .expect_write("STARTTLS\r\n")
      .feed("BYE \"bye\"\r\n")
      .expect_done();  // the server hung up: nothing left to say
  EXPECT_TRUE(d.facts().ended_in_plaintext);
}

TEST(SieveClient, NoCapabilitiesAfterTls) {
  client c(opts());
  transcript(c)
      .feed(dovecot_greeting)
      .expect_write("STARTTLS\r\n")
      .feed(dovecot_starttls)
      .expect_start_tls()
      .tls_established()
      .expect_need_more()
      .eof()
      .expect_fail(errc::unexpected_close);
  EXPECT_NE(c.diag().detail.find("§2.2"), std::string::npos);
  client d(opts());
  transcript(d)
      .feed(dovecot_greeting)
      .expect_write("STARTTLS\r\n")
      .feed(dovecot_starttls)
      .expect_start_tls()
      .tls_established()
      .feed("NO \"what\"\r\n")
      .expect_write("LOGOUT\r\n")
      .eof()
      .expect_fail(errc::unexpected_reply);
}

TEST(SieveClient, OversizedLineAndLiteralFail) {
  client c(opts());
  transcript(c).feed("\"" + std::string(100'000, 'x')).expect_fail(core::errc::line_too_long);
  client d(opts());
  transcript(d).feed("\"SIEVE\" {4294967296}\r\n").expect_fail(core::errc::line_too_long);
}

TEST(SieveClient, CloseMidResponse) {
  client c(opts());
  transcript(c)
      .feed("\"IMPLEMENTATION\" \"x\"\r\n\"SIEVE\" {10}\r\nfile")
      .expect_need_more()
      .eof()
      .expect_fail(errc::unexpected_close);
  EXPECT_NE(c.diag().detail.find("middle of a response"), std::string::npos);
}

TEST(SieveClient, ImplicitTlsReadsTheGreetingAsPostTls) {
  client_options o = opts();
  o.implicit_tls = true;
  client c(o);
  transcript(c)
      .feed(dovecot_after_tls)
      .expect_write("LOGOUT\r\n")
      .feed(dovecot_logout)
      .expect_done();
  EXPECT_TRUE(c.facts().capabilities_before_tls.empty());
  EXPECT_EQ(c.facts().capabilities_after_tls.size(), 5u);
  EXPECT_FALSE(c.facts().starttls_offered);
}

// Fail-count sweep: replace the server's k-th response with a fault and require that the client
// ends in `fail` (never `done`, never waiting forever) for every k, at both levels.
TEST(SieveClient, FailCountSweep) {
  const std::vector<std::string> script{dovecot_greeting, std::string(dovecot_starttls),
                                        dovecot_after_tls};
  const std::vector<std::string> faults{"",
                                        "garbage\r\n",
                                        "NO \"no\"\r\n",
                                        "BYE \"bye\"\r\n",
                                        "\"SIEVE\" {10}\r\nabc",
                                        "OK \"unterminated",
                                        "\"STARTTLS\"\r\n",
                                        std::string("\x80\x00\r\n", 4)};
  for (bool require_tls : {true, false}) {
    testing::sweep_options o;
    o.label = require_tls ? "(require_tls)" : "(may)";
    // Bytes after the go-ahead make the driver refuse the handshake (rule 1).
    o.leftover_ends_session = true;
    // At level may a refused STARTTLS legitimately ends in plaintext; it must still end.
    if (!require_tls) {
      o.may_complete = [](std::size_t k, const std::string& fault) {
        return k == 1 && (fault[0] == 'N' || fault[0] == 'B');
      };
    }
    testing::fail_count_sweep([&] { return std::make_unique<client>(opts(require_tls)); }, script,
                              faults, o);
  }
}

}  // namespace
}  // namespace otls::proto::sieve
