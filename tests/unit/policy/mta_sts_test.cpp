// MTA-STS TXT records and policies (RFC 8461 §3.1, §3.2), MX patterns (§4.1) and TLSRPT TXT
// records (RFC 8460 §3): the RFC examples, each malformed variant, and the matcher table.
#include "otls/policy/mta_sts.hpp"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace otls::policy {
namespace {

using dns::txt_record;

std::vector<txt_record> txt(std::vector<std::vector<std::string>> records) {
  std::vector<txt_record> out;
  for (auto& strings : records) out.push_back(txt_record{std::move(strings)});
  return out;
}

sts_txt sts(const std::string& record) {
  return parse_sts_txt(txt({{record}}));
}

// ---- _mta-sts TXT (§3.1) ----

TEST(StsTxt, RfcExample) {
  const auto r = sts("v=STSv1; id=20160831085700Z;");
  EXPECT_EQ(r.status, sts_txt_status::found) << r.detail;
  EXPECT_EQ(r.id, "20160831085700Z");
}

TEST(StsTxt, StringsJoinWithoutSpaces) {
  const auto r = parse_sts_txt(txt({{"v=STSv1; id=2016", "0831085700Z;"}}));
  EXPECT_EQ(r.status, sts_txt_status::found) << r.detail;
  EXPECT_EQ(r.id, "20160831085700Z");
}

TEST(StsTxt, WhitespaceAndDelimiterVariants) {
  for (const char* record : {"v=STSv1;id=abc", "v=STSv1;id=abc;", "v=STSv1; \tid=abc \t;  ",
                             "v=STSv1; id=abc ", "v=STSv1; ext=1; id=abc; other.x_y-z=a:b"}) {
    const auto r = sts(record);
    EXPECT_EQ(r.status, sts_txt_status::found) << record << ": " << r.detail;
    EXPECT_EQ(r.id, "abc") << record;
  }
}

TEST(StsTxt, OtherRecordsAreIgnored) {
  const auto r = parse_sts_txt(
      txt({{"v=spf1 -all"}, {"v=STSv1; id=1"}, {"V=STSv1; id=2"}, {"v=STSv1 ; id=3"}}));
  EXPECT_EQ(r.status, sts_txt_status::found) << r.detail;
  EXPECT_EQ(r.id, "1");
}

TEST(StsTxt, NoneWhenNothingStartsWithTheVersion) {
  EXPECT_EQ(parse_sts_txt({}).status, sts_txt_status::none);
  for (const char* record : {"v=spf1 -all", "v=STSv1", "v=STSv10; id=1", "V=STSv1; id=1",
                             " v=STSv1; id=1", "v=stsv1; id=1", "v=STSv1 ; id=1"})
    EXPECT_EQ(sts(record).status, sts_txt_status::none) << record;
}

TEST(StsTxt, AmbiguousWhenMoreThanOne) {
  const auto r = parse_sts_txt(txt({{"v=STSv1; id=1"}, {"v=STSv1; id=1"}}));
  EXPECT_EQ(r.status, sts_txt_status::ambiguous);
  EXPECT_TRUE(r.id.empty());
  EXPECT_NE(r.detail.find("2 TXT records"), std::string::npos) << r.detail;
  // Even when one of them is broken: the count decides first.
  EXPECT_EQ(parse_sts_txt(txt({{"v=STSv1; id=1"}, {"v=STSv1;"}})).status,
            sts_txt_status::ambiguous);
}

TEST(StsTxt, MalformedRecordsAreInvalid) {
  const struct {
    const char* record;
    const char* reason;
  } cases[] = {
      {"v=STSv1;", "no field follows"},
      {"v=STSv1; ", "no field follows"},
      {"v=STSv1; ext=1", "no id"},
      {"v=STSv1; id=", "id \"\""},
      {"v=STSv1; id=abc-def", "not 1-32"},
      {"v=STSv1; id=abc_def", "not 1-32"},
      {"v=STSv1; id=abc def", "not 1-32"},
      {"v=STSv1; id=123456789012345678901234567890123", "not 1-32"},
      {"v=STSv1; id=1; id=1", "more than one id"},
      {"v=STSv1; id=1; id=2", "more than one id"},
      {"v=STSv1;; id=1", "empty field"},
      {"v=STSv1; id=1;;", "empty field"},
      {"v=STSv1; ; id=1", "empty field"},
      {"v=STSv1; id=1; ext", "not name=value"},
      {"v=STSv1; id=1; ext=", "value of \"ext\""},
      {"v=STSv1; id=1; ext=a=b", "value of \"ext\""},
      {"v=STSv1; id=1; ext=a b", "value of \"ext\""},
      {"v=STSv1; id=1; ext=a\x01", "value of \"ext\""},
      {"v=STSv1; id=1; _ext=1", "field name"},
      {"v=STSv1; id=1; id =1", "field name"},
      {"v=STSv1; id=1; =1", "field name"},
      {"v=STSv1; id=1; abcdefghijklmnopqrstuvwxyz0123456=1", "field name"},
  };
  for (const auto& c : cases) {
    const auto r = sts(c.record);
    EXPECT_EQ(r.status, sts_txt_status::invalid) << c.record;
    EXPECT_NE(r.detail.find(c.reason), std::string::npos) << c.record << ": " << r.detail;
    EXPECT_TRUE(r.id.empty()) << c.record;
  }
}

TEST(StsTxt, LimitsAreInclusive) {
  EXPECT_EQ(sts("v=STSv1; id=12345678901234567890123456789012").status, sts_txt_status::found);
  EXPECT_EQ(sts("v=STSv1; id=1; abcdefghijklmnopqrstuvwxyz012345=1").status, sts_txt_status::found);
  EXPECT_EQ(sts("v=STSv1; id=1; 9ext=~!").status, sts_txt_status::found);
}

TEST(StsTxt, DetailQuotesHostileTextSafely) {
  const auto r = sts("v=STSv1; id=\n\x1b[31m" + std::string(200, 'x'));
  EXPECT_EQ(r.status, sts_txt_status::invalid);
  EXPECT_EQ(r.detail.find('\n'), std::string::npos);
  EXPECT_EQ(r.detail.find('\x1b'), std::string::npos);
  EXPECT_LT(r.detail.size(), 160u);
}

TEST(StsTxt, StatusNames) {
  EXPECT_STREQ(to_string(sts_txt_status::found), "found");
  EXPECT_STREQ(to_string(sts_txt_status::none), "none");
  EXPECT_STREQ(to_string(sts_txt_status::ambiguous), "ambiguous");
  EXPECT_STREQ(to_string(sts_txt_status::invalid), "invalid");
  EXPECT_STREQ(to_string(sts_mode::enforce), "enforce");
  EXPECT_STREQ(to_string(sts_mode::testing), "testing");
  EXPECT_STREQ(to_string(sts_mode::none), "none");
}

// ---- the policy file (§3.2) ----

constexpr const char* rfc_policy =
    "version: STSv1\r\n"
    "mode: enforce\r\n"
    "mx: mail.example.com\r\n"
    "mx: *.example.net\r\n"
    "mx: backupmx.example.com\r\n"
    "max_age: 604800\r\n";

TEST(StsPolicy, RfcExample) {
  std::string detail;
  const auto p = parse_sts_policy(rfc_policy, detail);
  ASSERT_TRUE(p) << detail;
  EXPECT_TRUE(detail.empty()) << detail;
  EXPECT_EQ(p->mode, sts_mode::enforce);
  EXPECT_EQ(p->max_age, 604800u);
  EXPECT_EQ(p->mx, (std::vector<std::string>{"mail.example.com", "*.example.net",
                                             "backupmx.example.com"}));
  EXPECT_TRUE(sts_policy_covers(*p, "mail.example.com."));
  EXPECT_TRUE(sts_policy_covers(*p, "mx1.EXAMPLE.net"));
  EXPECT_FALSE(sts_policy_covers(*p, "example.net"));
  EXPECT_FALSE(sts_policy_covers(*p, "evil.example.com"));
}

TEST(StsPolicy, LineEndingsAndWhitespace) {
  for (const char* body : {
           "version: STSv1\nmode: testing\nmx: a.example\nmax_age: 86400",
           "version: STSv1\nmode: testing\nmx: a.example\nmax_age: 86400\n",
           "version: STSv1\r\nmode: testing\nmx: a.example\r\nmax_age: 86400\r\n",
           "version:STSv1\nmode:\ttesting \t\nmx:   a.example\nmax_age:86400  \n",
           "max_age: 86400\nmx: a.example\nmode: testing\nversion: STSv1\n",  // any order
           "version: STSv1\n\nmode: testing\r\n\r\nmx: a.example\nmax_age: 86400\n\n",
       }) {
    std::string detail;
    const auto p = parse_sts_policy(body, detail);
    ASSERT_TRUE(p) << body << ": " << detail;
    EXPECT_EQ(p->mode, sts_mode::testing);
    EXPECT_EQ(p->max_age, 86400u);
    EXPECT_EQ(p->mx, std::vector<std::string>{"a.example"});
  }
}

TEST(StsPolicy, ModeNoneNeedsNoMx) {
  std::string detail;
  auto p = parse_sts_policy("version: STSv1\nmode: none\nmax_age: 86400\n", detail);
  ASSERT_TRUE(p) << detail;
  EXPECT_EQ(p->mode, sts_mode::none);
  EXPECT_TRUE(p->mx.empty());
  p = parse_sts_policy("version: STSv1\nmode: none\nmx: a.example\nmax_age: 0\n", detail);
  ASSERT_TRUE(p) << detail;
  EXPECT_EQ(p->max_age, 0u);
}

TEST(StsPolicy, UnknownKeysAreIgnored) {
  std::string detail;
  const auto p = parse_sts_policy(
      "version: STSv1\nmode: enforce\nmx: a.example\nmax_age: 60\n"
      "x-comment: written by hand, see café notes\nfuture.key_2-a: 1 2  3\n",
      detail);
  ASSERT_TRUE(p) << detail;
  EXPECT_EQ(p->mode, sts_mode::enforce);
}

TEST(StsPolicy, MaxAgeAboveTheLimitIsCappedWithAWarning) {
  std::string detail;
  auto p = parse_sts_policy("version: STSv1\nmode: testing\nmx: a.example\nmax_age: 9999999999\n",
                            detail);
  ASSERT_TRUE(p) << detail;
  EXPECT_EQ(p->max_age, sts_max_age_limit);
  EXPECT_NE(detail.find("capped"), std::string::npos) << detail;
  p = parse_sts_policy("version: STSv1\nmode: testing\nmx: a.example\nmax_age: 31557600\n", detail);
  ASSERT_TRUE(p) << detail;
  EXPECT_EQ(p->max_age, 31557600u);
  EXPECT_TRUE(detail.empty()) << detail;
  p = parse_sts_policy("version: STSv1\nmode: testing\nmx: a.example\nmax_age: 31557601\n", detail);
  ASSERT_TRUE(p) << detail;
  EXPECT_EQ(p->max_age, 31557600u);
  EXPECT_FALSE(detail.empty());
}

TEST(StsPolicy, MxPatternsAsPublished) {
  std::string detail;
  const auto p = parse_sts_policy(
      "version: STSv1\nmode: enforce\nmax_age: 60\nmx: MX1.Example.COM\nmx: *.example.net.\n"
      "mx: localhost\nmx: 1-a.x-1.example\nmx: mx1.example.com\n",
      detail);
  ASSERT_TRUE(p) << detail;
  EXPECT_EQ(p->mx, (std::vector<std::string>{"MX1.Example.COM", "*.example.net.", "localhost",
                                             "1-a.x-1.example", "mx1.example.com"}));
}

TEST(StsPolicy, MalformedPoliciesAreRejectedWithAReason) {
  const std::string head = "version: STSv1\nmode: enforce\nmax_age: 60\n";
  const struct {
    std::string body;
    const char* reason;
  } cases[] = {
      {"", "no \"version: STSv1\""},
      {"mode: enforce\nmx: a.example\nmax_age: 60\n", "no \"version: STSv1\""},
      {"version: STSv1\nmx: a.example\nmax_age: 60\n", "no mode"},
      {"version: STSv1\nmode: enforce\nmx: a.example\n", "no max_age"},
      {head, "no mx"},
      {"version: STSv1\nmode: testing\nmax_age: 60\n", "no mx"},
      {"version: STSv2\nmode: enforce\nmx: a.example\nmax_age: 60\n", "line 1: version"},
      {"version: stsv1\nmode: enforce\nmx: a.example\nmax_age: 60\n", "line 1: version"},
      {head + "version: STSv1\nmx: a.example\n", "line 4: version appears twice"},
      {head + "mode: enforce\nmx: a.example\n", "line 4: mode appears twice"},
      {head + "max_age: 60\nmx: a.example\n", "line 4: max_age appears twice"},
      {"version: STSv1\nmode: Enforce\nmx: a.example\nmax_age: 60\n", "line 2: mode"},
      {"version: STSv1\nmode: reject\nmx: a.example\nmax_age: 60\n", "line 2: mode"},
      {"version: STSv1\nmode:\nmx: a.example\nmax_age: 60\n", "line 2: mode"},
      {"version: STSv1\nmode: enforce\nmx: a.example\nmax_age: 12345678901\n", "line 4: max_age"},
      {"version: STSv1\nmode: enforce\nmx: a.example\nmax_age: -1\n", "line 4: max_age"},
      {"version: STSv1\nmode: enforce\nmx: a.example\nmax_age: +60\n", "line 4: max_age"},
      {"version: STSv1\nmode: enforce\nmx: a.example\nmax_age: 6 0\n", "line 4: max_age"},
      {"version: STSv1\nmode: enforce\nmx: a.example\nmax_age: 0x10\n", "line 4: max_age"},
      {"version: STSv1\nmode: enforce\nmx: a.example\nmax_age:\n", "line 4: max_age"},
      {head + "mx: \n", "line 4: mx"},
      {head + "mx: *\n", "line 4: mx"},
      {head + "mx: *.\n", "line 4: mx"},
      {head + "mx: **.example.com\n", "line 4: mx"},
      {head + "mx: mail.*.example.com\n", "line 4: mx"},
      {head + "mx: *mail.example.com\n", "line 4: mx"},
      {head + "mx: -mail.example.com\n", "line 4: mx"},
      {head + "mx: mail-.example.com\n", "line 4: mx"},
      {head + "mx: mail..example.com\n", "line 4: mx"},
      {head + "mx: .example.com\n", "line 4: mx"},
      {head + "mx: mail_1.example.com\n", "line 4: mx"},
      {head + "mx: mail.example.com:25\n", "line 4: mx"},
      {head + "mx: a.example b.example\n", "line 4: mx"},
      {head + "mx: " + std::string(64, 'a') + ".example\n", "line 4: mx"},
      {head + "mx: \xc3\xa9.example\n", "line 4: mx"},
      {head + "mx: a.example\rmx: b.example\n", "line 4: mx"},
      {head + "mx a.example\n", "is not \"key: value\""},
      {head + "mx : a.example\n", "line 4: key \"mx \""},
      {head + " mx: a.example\n", "line 4: key \" mx\""},
      {head + "mx: a.example\n_x: 1\n", "line 5: key"},
      {head + "mx: a.example\nx-ext:\n", "line 5: the value of \"x-ext\""},
      {head + "mx: a.example\nx-ext: a\x01\n", "line 5: the value of \"x-ext\""},
      {head + "mx: a.example\n \n", "line 5"},
      {head + "mx: a.example\n\r\r\n", "line 5"},
  };
  for (const auto& c : cases) {
    std::string detail;
    EXPECT_FALSE(parse_sts_policy(c.body, detail)) << c.body;
    EXPECT_NE(detail.find(c.reason), std::string::npos) << c.body << " -> " << detail;
  }
}

TEST(StsPolicy, LargeAndBinaryBodiesAreRejectedNotCrashed) {
  std::string detail;
  EXPECT_FALSE(parse_sts_policy(std::string(1 << 20, '\n'), detail));
  EXPECT_FALSE(parse_sts_policy(std::string(100000, 'x'), detail));
  EXPECT_FALSE(parse_sts_policy(std::string("version: STSv1\0mode: enforce", 28), detail));
  std::string many = "version: STSv1\nmode: enforce\nmax_age: 1\n";
  for (int i = 0; i < 10000; ++i) many += "mx: mx" + std::to_string(i) + ".example.com\n";
  const auto p = parse_sts_policy(many, detail);
  ASSERT_TRUE(p) << detail;
  EXPECT_EQ(p->mx.size(), 10000u);
}

// ---- MX pattern matching (§4.1) ----

TEST(StsMxMatches, Table) {
  const struct {
    const char* pattern;
    const char* host;
    bool matches;
  } cases[] = {
      {"mail.example.com", "mail.example.com", true},
      {"mail.example.com", "MAIL.Example.COM", true},
      {"Mail.Example.Com", "mail.example.com", true},
      {"mail.example.com", "mail.example.com.", true},
      {"mail.example.com.", "mail.example.com", true},
      {"mail.example.com.", "mail.example.com.", true},
      {"mail.example.com", "mail.example.com..", false},
      {"mail.example.com", "mx.example.com", false},
      {"mail.example.com", "example.com", false},
      {"mail.example.com", "a.mail.example.com", false},
      {"mail.example.com", "mail.example.co", false},
      {"*.example.com", "mail.example.com", true},
      {"*.example.com", "MAIL.EXAMPLE.COM.", true},
      {"*.EXAMPLE.com.", "mail.example.com", true},
      {"*.example.com", "example.com", false},
      {"*.example.com", "a.b.example.com", false},
      {"*.example.com", ".example.com", false},
      {"*.example.com", "mailexample.com", false},
      {"*.example.com", "mail.example.com.evil", false},
      {"*.example.com", "*.example.com", false},
      {"*.com", "example.com", true},
      {"*", "example.com", false},
      {"*.", "example.com", false},
      {"*example.com", "mailexample.com", false},
      {"*example.com", "*example.com", false},
      {"mail*.example.com", "mail1.example.com", false},
      {"mail.*.com", "mail.example.com", false},
      {"*.*.example.com", "a.b.example.com", false},
      {"**.example.com", "a.example.com", false},
      {".example.com", "mail.example.com", false},
      {"", "", false},
      {"", "example.com", false},
      {".", ".", false},
      {"example.com", "", false},
  };
  for (const auto& c : cases)
    EXPECT_EQ(sts_mx_matches(c.pattern, c.host), c.matches) << c.pattern << " vs " << c.host;
}

TEST(StsMxMatches, EmptyPolicyCoversNothing) {
  EXPECT_FALSE(sts_policy_covers(sts_policy{}, "mail.example.com"));
}

// ---- _smtp._tls TXT (RFC 8460 §3) ----

tlsrpt_record tlsrpt(const std::string& record) {
  return parse_tlsrpt_txt(txt({{record}}));
}

TEST(TlsrptTxt, RfcExamples) {
  auto r = tlsrpt("v=TLSRPTv1; rua=mailto:reports@example.com");
  ASSERT_TRUE(r.found) << r.detail;
  EXPECT_EQ(r.rua, std::vector<std::string>{"mailto:reports@example.com"});
  r = tlsrpt("v=TLSRPTv1; rua=https://reporting.example.com/v1/tlsrpt");
  ASSERT_TRUE(r.found) << r.detail;
  EXPECT_EQ(r.rua, std::vector<std::string>{"https://reporting.example.com/v1/tlsrpt"});
}

TEST(TlsrptTxt, SeveralUrisWithWhitespaceAroundCommas) {
  const auto r = parse_tlsrpt_txt(txt({{"v=TLSRPTv1;rua=mailto:a@example.com ,\t",
                                        "https://r.example/x?y=1%2C2 , "
                                        "MAILTO:b@example.net;"}}));
  ASSERT_TRUE(r.found) << r.detail;
  EXPECT_EQ(r.rua, (std::vector<std::string>{"mailto:a@example.com", "https://r.example/x?y=1%2C2",
                                             "MAILTO:b@example.net"}));
  EXPECT_TRUE(r.detail.empty()) << r.detail;
}

TEST(TlsrptTxt, UnsupportedSchemesAreIgnoredWithANote) {
  auto r = tlsrpt("v=TLSRPTv1; rua=http://r.example/,mailto:a@example.com; ext=1");
  ASSERT_TRUE(r.found) << r.detail;
  EXPECT_EQ(r.rua, std::vector<std::string>{"mailto:a@example.com"});
  EXPECT_NE(r.detail.find("http://r.example/"), std::string::npos) << r.detail;

  r = tlsrpt("v=TLSRPTv1; rua=ftp://r.example/, mailto:nobody, https:/x");
  EXPECT_FALSE(r.found);
  EXPECT_TRUE(r.rua.empty());
  EXPECT_NE(r.detail.find("no usable rua"), std::string::npos) << r.detail;
  EXPECT_NE(r.detail.find("ftp://r.example/"), std::string::npos) << r.detail;
}

TEST(TlsrptTxt, RecordSelection) {
  EXPECT_FALSE(parse_tlsrpt_txt({}).found);
  auto r = parse_tlsrpt_txt(txt({{"v=spf1 -all"},
                                 {"v=TLSRPTv1; rua=mailto:a@example.com"},
                                 {"v=TLSRPTv10; rua=mailto:b@example.com"},
                                 {"v=tlsrptv1; rua=mailto:c@example.com"}}));
  ASSERT_TRUE(r.found) << r.detail;
  EXPECT_EQ(r.rua, std::vector<std::string>{"mailto:a@example.com"});

  r = parse_tlsrpt_txt(
      txt({{"v=TLSRPTv1; rua=mailto:a@example.com"}, {"v=TLSRPTv1; rua=mailto:a@example.com"}}));
  EXPECT_FALSE(r.found);
  EXPECT_NE(r.detail.find("exactly one"), std::string::npos) << r.detail;

  for (const char* other : {"v=TLSRPTv1", "v=TLSRPTv1 ; rua=mailto:a@example.com", "rua=x"}) {
    r = tlsrpt(other);
    EXPECT_FALSE(r.found) << other;
    EXPECT_NE(r.detail.find("no TXT record begins"), std::string::npos) << other << r.detail;
  }
}

TEST(TlsrptTxt, MalformedRecords) {
  const struct {
    const char* record;
    const char* reason;
  } cases[] = {
      {"v=TLSRPTv1;", "no field follows"},
      {"v=TLSRPTv1; ext=1", "no rua"},
      {"v=TLSRPTv1; rua=", "not a URI"},
      {"v=TLSRPTv1; rua=mailto:a@example.com,", "not a URI"},
      {"v=TLSRPTv1; rua=,mailto:a@example.com", "not a URI"},
      {"v=TLSRPTv1; rua=mailto:a@example.com!10m", "not a URI"},
      {"v=TLSRPTv1; rua=mailto:a@example.com mailto:b@example.com", "not a URI"},
      {"v=TLSRPTv1; rua=reports@example.com", "not a URI"},
      {"v=TLSRPTv1; rua=mailto:a@example.com; rua=mailto:b@example.com", "more than one rua"},
      {"v=TLSRPTv1; rua=mailto:a@example.com;; ext=1", "empty field"},
      {"v=TLSRPTv1; rua=mailto:a@example.com; ext", "not name=value"},
      {"v=TLSRPTv1; rua=mailto:a@example.com; ext=a b", "value of \"ext\""},
      {"v=TLSRPTv1; rua = mailto:a@example.com", "field name"},
  };
  for (const auto& c : cases) {
    const auto r = tlsrpt(c.record);
    EXPECT_FALSE(r.found) << c.record;
    EXPECT_TRUE(r.rua.empty()) << c.record;
    EXPECT_NE(r.detail.find(c.reason), std::string::npos) << c.record << ": " << r.detail;
  }
}

}  // namespace
}  // namespace otls::policy
