// The per-MX decision (RFC 8461 §2 precedence: DANE first, MTA-STS never rescues a failing
// DANE) and the security levels as data, tested as tables.
#include <gtest/gtest.h>

#include <algorithm>

#include "otls/policy/decision.hpp"

namespace otls::policy {
namespace {

using o = core::outcome;

host_facts dane_facts(dane_verdict v) {
  host_facts f;
  f.host = "mx.example.test.";
  f.verdict = v;
  if (v == dane_verdict::tempfail) f.problem = o::dnssec_invalid;
  if (v == dane_verdict::encrypt) f.problem = o::tlsa_invalid;
  return f;
}

sts_policy sts(sts_mode mode, std::vector<std::string> mx = {"mx.example.test"}) {
  return {mode, std::move(mx), 86400};
}

TEST(Levels, PropertiesNotRanks) {
  struct row {
    security_level level;
    bool tls_without_dane, tls_with_dane, authenticates;
    authentication auth;
  };
  const std::vector<row> rows{
      {security_level::none, false, false, false, authentication::none},
      {security_level::may, false, false, false, authentication::none},
      {security_level::encrypt, true, true, false, authentication::none},
      {security_level::dane, false, true, true, authentication::dane},
      {security_level::dane_only, true, true, true, authentication::dane},
      {security_level::fingerprint, true, true, true, authentication::fingerprint},
      {security_level::verify, true, true, true, authentication::pkix},
      {security_level::secure, true, true, true, authentication::pkix},
  };
  for (const auto& r : rows) {
    const auto name = std::string(to_string(r.level));
    EXPECT_EQ(tls_required(r.level, false), r.tls_without_dane) << name;
    EXPECT_EQ(tls_required(r.level, true), r.tls_with_dane) << name;
    EXPECT_EQ(plaintext_allowed(r.level, false), !r.tls_without_dane) << name;
    EXPECT_EQ(authenticates(r.level), r.authenticates) << name;
    EXPECT_EQ(properties(r.level).auth, r.auth) << name;
    EXPECT_EQ(parse_security_level(name), r.level);
  }
  EXPECT_EQ(properties(security_level::dane).fallback, security_level::may);
  EXPECT_FALSE(properties(security_level::dane_only).fallback);
  // dane-only and verify trust different things: neither is "stronger".
  EXPECT_NE(properties(security_level::dane_only).auth, properties(security_level::verify).auth);
  EXPECT_FALSE(parse_security_level("strong"));
}

struct decision_row {
  const char* name;
  std::optional<dane_verdict> dane;
  std::optional<sts_policy> sts;
  security_level default_level;
  // expected
  decision_source source;
  security_level level;
  bool mandatory, report_only, pkix_report;
  std::optional<o> refusal;
};

TEST(Decide, PrecedenceTable) {
  const auto na = dane_verdict::not_applicable;
  const auto auth = dane_verdict::authenticate;
  const auto unusable = dane_verdict::encrypt;
  const auto tempfail = dane_verdict::tempfail;
  using sl = security_level;
  using src = decision_source;
  const std::vector<decision_row> rows{
      {"nothing: default dane falls back to may",
       na,
       {},
       sl::dane,
       src::fallback,
       sl::dane,
       false,
       false,
       false,
       {}},
      {"nothing, dane-only: dane-required",
       na,
       {},
       sl::dane_only,
       src::fallback,
       sl::dane_only,
       true,
       false,
       false,
       o::dane_required},
      {"DANE alone", auth, {}, sl::dane, src::dane, sl::dane, true, false, false, {}},
      {"DANE + STS enforce: DANE decides, STS reported",
       auth,
       sts(sts_mode::enforce),
       sl::dane,
       src::dane,
       sl::dane,
       true,
       false,
       true,
       {}},
      {"DANE + STS enforce without this MX: still DANE",
       auth,
       sts(sts_mode::enforce, {"other.example.test"}),
       sl::dane,
       src::dane,
       sl::dane,
       true,
       false,
       true,
       {}},
      {"bogus TLSA + STS enforce: never rescued", tempfail, sts(sts_mode::enforce), sl::dane,
       src::dane, sl::dane, false, false, false, o::dnssec_invalid},
      {"unusable TLSA + STS enforce: STS on top of mandatory TLS",
       unusable,
       sts(sts_mode::enforce),
       sl::dane,
       src::mta_sts,
       sl::verify,
       true,
       false,
       false,
       {}},
      {"unusable TLSA alone: encrypt by DANE",
       unusable,
       {},
       sl::dane,
       src::dane,
       sl::dane,
       true,
       false,
       false,
       {}},
      {"STS enforce",
       na,
       sts(sts_mode::enforce),
       sl::dane,
       src::mta_sts,
       sl::verify,
       true,
       false,
       false,
       {}},
      {"STS enforce, MX not listed", na, sts(sts_mode::enforce, {"*.other.test"}), sl::dane,
       src::mta_sts, sl::verify, true, false, false, o::mx_not_in_policy},
      {"STS testing: report only",
       na,
       sts(sts_mode::testing),
       sl::dane,
       src::mta_sts,
       sl::verify,
       false,
       true,
       false,
       {}},
      {"STS testing, MX not listed: reported, not refused",
       na,
       sts(sts_mode::testing, {"x.test"}),
       sl::dane,
       src::mta_sts,
       sl::verify,
       false,
       true,
       false,
       {}},
      {"STS none: no policy",
       na,
       sts(sts_mode::none, {}),
       sl::dane,
       src::fallback,
       sl::dane,
       false,
       false,
       false,
       {}},
  };
  for (const auto& r : rows) {
    host_facts facts = dane_facts(r.dane.value_or(na));
    decision_inputs in;
    in.domain = "example.test";
    in.mx_host = "mx.example.test.";
    in.dane = &facts;
    in.sts = r.sts ? &*r.sts : nullptr;
    in.default_level = r.default_level;
    const auto d = decide(in);
    EXPECT_EQ(d.source, r.source) << r.name;
    EXPECT_EQ(d.level, r.level) << r.name;
    EXPECT_EQ(d.starttls_mandatory, r.mandatory) << r.name;
    EXPECT_EQ(d.report_only, r.report_only) << r.name;
    EXPECT_EQ(d.report_pkix_check, r.pkix_report) << r.name;
    EXPECT_EQ(d.refusal, r.refusal) << r.name;
    const std::string name = r.name;
    const bool unlisted = name.find("MX not listed: reported") != std::string::npos ||
                          name.find("without this MX") != std::string::npos;
    EXPECT_EQ(std::count(d.reported.begin(), d.reported.end(), o::mx_not_in_policy),
              unlisted ? 1 : 0)
        << r.name;
    if (d.level == sl::verify) {
      EXPECT_EQ(d.verify_names, std::vector<std::string>{"mx.example.test"}) << r.name;
    }
  }
}

TEST(Decide, ListActsLikeAnStsPolicyButStsWins) {
  host_facts facts = dane_facts(dane_verdict::not_applicable);
  policy_list_entry entry{sts_mode::enforce, {".example.test"}};
  decision_inputs in;
  in.domain = "example.test";
  in.mx_host = "mx.example.test";
  in.dane = &facts;
  in.list = &entry;
  auto d = decide(in);
  EXPECT_EQ(d.source, decision_source::list);
  EXPECT_TRUE(d.starttls_mandatory);
  EXPECT_FALSE(d.refusal);
  entry.mxs = {"mx.other.test"};
  EXPECT_EQ(decide(in).refusal, o::mx_not_in_policy);
  const auto policy = sts(sts_mode::testing);
  in.sts = &policy;
  EXPECT_EQ(decide(in).source, decision_source::mta_sts);
}

TEST(Decide, LocalRulesWinWithLevelsPatternsAndFingerprints) {
  host_facts facts = dane_facts(dane_verdict::authenticate);
  local_rule rule;
  rule.level = security_level::encrypt;
  decision_inputs in;
  in.domain = "example.test";
  in.mx_host = "mx.example.test";
  in.dane = &facts;
  in.local = &rule;
  auto d = decide(in);
  EXPECT_EQ(d.source, decision_source::local);
  EXPECT_EQ(d.level, security_level::encrypt);
  EXPECT_TRUE(d.starttls_mandatory);

  rule.fingerprints = {std::string(64, 'a')};
  d = decide(in);
  EXPECT_EQ(d.level, security_level::fingerprint);
  EXPECT_EQ(d.fingerprints, rule.fingerprints);

  rule.mx = {"*.other.test"};
  EXPECT_EQ(decide(in).refusal, o::mx_not_in_policy);

  // Only MX patterns: they restrict the hosts, the other sources still decide.
  local_rule patterns_only;
  patterns_only.mx = {"*.example.test"};
  in.local = &patterns_only;
  d = decide(in);
  EXPECT_EQ(d.source, decision_source::dane);
  EXPECT_FALSE(d.refusal);
  patterns_only.mx = {"*.other.test"};
  d = decide(in);
  EXPECT_EQ(d.source, decision_source::local);
  EXPECT_EQ(d.refusal, o::mx_not_in_policy);

  local_rule secure;
  secure.level = security_level::secure;
  in.local = &secure;
  EXPECT_EQ(decide(in).verify_names, std::vector<std::string>{"example.test"});
}

}  // namespace
}  // namespace otls::policy
