// DANE applicability and connection plans (RFC 7672 §2.2, §3) over the fake resolver.
#include <gtest/gtest.h>

#include "fake_resolver.hpp"
#include "otls/policy/dane.hpp"
#include "policy_test_support.hpp"

namespace otls::policy {
namespace {

using dns::dnssec_status;
using dns::rcode;
using dns::rr_type;
using dns::testing::bogus_answer;
using dns::testing::fake_resolver;
using dns::testing::make_answer;
using dns::testing::secure_answer;
using testing::run;

const dns::address loopback = boost::asio::ip::make_address("127.0.2.1");
const dns::tlsa_record ee{3, 1, 1, std::vector<std::uint8_t>(32, 0xab)};
const dns::tlsa_record ta{2, 1, 1, std::vector<std::uint8_t>(32, 0xcd)};

host_facts lookup(fake_resolver& r, const std::string& host, dane_mode mode = dane_mode::smtp) {
  return run(lookup_host(r, host, 25, mode, {true, false}, true));
}

bool asked(const fake_resolver& r, const std::string& name, rr_type type) {
  for (const auto& q : r.queries())
    if (q.first == name && q.second == type) return true;
  return false;
}

TEST(DaneLookup, SecureAddressesThenSecureTlsaApply) {
  fake_resolver r;
  r.add("mx.example.test", rr_type::a, secure_answer({loopback}));
  r.add("_25._tcp.mx.example.test", rr_type::tlsa, secure_answer({ee, ta}));
  const auto f = lookup(r, "mx.example.test");
  EXPECT_EQ(f.verdict, dane_verdict::authenticate);
  EXPECT_TRUE(f.applies());
  EXPECT_EQ(f.address_dnssec, dnssec_status::secure);
  EXPECT_EQ(f.tlsa_dnssec, dnssec_status::secure);
  EXPECT_EQ(f.usable, 2);
  EXPECT_EQ(f.tlsa_name, "_25._tcp.mx.example.test.");
  EXPECT_EQ(f.reference_names, std::vector<std::string>{"mx.example.test"});
  // TLSA is asked only after the address answer (RFC 7672 §2.2).
  ASSERT_EQ(r.queries().size(), 2u);
  EXPECT_EQ(r.queries()[0].second, rr_type::a);
  EXPECT_EQ(r.queries()[1].second, rr_type::tlsa);
}

TEST(DaneLookup, InsecureAddressesNeverAskForTlsa) {
  // Broken name servers in unsigned zones must not turn into temporary failures: the TLSA
  // query is not even sent, so its SERVFAIL cannot matter.
  fake_resolver r;
  r.add("mx.insecure.test", rr_type::a,
        make_answer(rcode::noerror, dnssec_status::insecure, {loopback}));
  r.add("_25._tcp.mx.insecure.test", rr_type::tlsa,
        make_answer(rcode::servfail, dnssec_status::indeterminate));
  const auto f = lookup(r, "mx.insecure.test");
  EXPECT_EQ(f.verdict, dane_verdict::not_applicable);
  EXPECT_FALSE(f.problem);
  EXPECT_FALSE(asked(r, "_25._tcp.mx.insecure.test.", rr_type::tlsa));
  EXPECT_EQ(f.addresses.size(), 1u);
}

TEST(DaneLookup, CnameExpandedNameFirstAndBothNamesAreReferenceIdentifiers) {
  fake_resolver r;
  auto a = secure_answer({loopback});
  a.cname_chain = {"mx.example.test.", "host.cdn.test."};
  a.canonical_name = "host.cdn.test.";
  r.add("mx.example.test", rr_type::a, a);
  r.add("_25._tcp.host.cdn.test", rr_type::tlsa, secure_answer({ta}));
  r.add("_25._tcp.mx.example.test", rr_type::tlsa, secure_answer({ee}));
  const auto f = lookup(r, "mx.example.test");
  EXPECT_EQ(f.tlsa_name, "_25._tcp.host.cdn.test.");
  EXPECT_EQ(f.reference_names, (std::vector<std::string>{"host.cdn.test", "mx.example.test"}));
  ASSERT_EQ(f.tlsa.size(), 1u);
  EXPECT_EQ(f.tlsa[0].record, ta);
}

TEST(DaneLookup, OriginalNameWhenTheExpandedNameHasNoTlsa) {
  fake_resolver r;
  auto a = secure_answer({loopback});
  a.cname_chain = {"mx.example.test.", "host.cdn.test."};
  r.add("mx.example.test", rr_type::a, a);
  r.add("_25._tcp.host.cdn.test", rr_type::tlsa, make_answer(rcode::nodata, dnssec_status::secure));
  r.add("_25._tcp.mx.example.test", rr_type::tlsa, secure_answer({ee}));
  const auto f = lookup(r, "mx.example.test");
  EXPECT_EQ(f.verdict, dane_verdict::authenticate);
  EXPECT_EQ(f.tlsa_name, "_25._tcp.mx.example.test.");
  EXPECT_EQ(f.reference_names, std::vector<std::string>{"mx.example.test"});
}

TEST(DaneLookup, SecureDenialOfTlsaMeansDaneDoesNotApply) {
  fake_resolver r;
  r.default_status = dnssec_status::secure;  // NXDOMAIN for the TLSA name, proven
  r.add("mx.example.test", rr_type::a, secure_answer({loopback}));
  const auto f = lookup(r, "mx.example.test");
  EXPECT_EQ(f.verdict, dane_verdict::not_applicable);
  EXPECT_TRUE(f.tlsa_looked_up);
  EXPECT_FALSE(f.problem);
}

TEST(DaneLookup, InsecureTlsaDoesNotApply) {
  fake_resolver r;
  r.add("mx.example.test", rr_type::a, secure_answer({loopback}));
  r.add("_25._tcp.mx.example.test", rr_type::tlsa,
        make_answer(rcode::noerror, dnssec_status::insecure, {ee}));
  EXPECT_EQ(lookup(r, "mx.example.test").verdict, dane_verdict::not_applicable);
}

TEST(DaneLookup, BogusTlsaIsDnssecInvalidWhenTheResolverValidates) {
  fake_resolver r;
  r.add("mx.example.test", rr_type::a, secure_answer({loopback}));
  r.add("_25._tcp.mx.example.test", rr_type::tlsa, bogus_answer());
  r.add(".", rr_type::dnskey, secure_answer({dns::dnskey_record{257, 3, 13, {1, 2, 3}}}));
  const auto f = lookup(r, "mx.example.test");
  EXPECT_EQ(f.verdict, dane_verdict::tempfail);
  EXPECT_EQ(f.problem, core::outcome::dnssec_invalid);
  EXPECT_NE(f.detail.find("signature expired"), std::string::npos) << f.detail;
}

TEST(DaneLookup, BogusEverywhereMeansTheResolverCannotValidate) {
  fake_resolver r;
  r.anchor_zones = {"example.test."};
  r.add("mx.example.test", rr_type::a, bogus_answer("no DNSKEY"));
  r.add("example.test", rr_type::dnskey, bogus_answer("no DNSKEY"));
  const auto f = lookup(r, "mx.example.test");
  EXPECT_EQ(f.verdict, dane_verdict::tempfail);
  EXPECT_EQ(f.problem, core::outcome::resolver_cannot_validate);
  EXPECT_TRUE(asked(r, "example.test.", rr_type::dnskey));
  EXPECT_FALSE(asked(r, "_25._tcp.mx.example.test.", rr_type::tlsa));
}

TEST(DaneLookup, TlsaServfailAfterSecureAddressesIsATemporaryFailure) {
  fake_resolver r;
  r.add("mx.example.test", rr_type::a, secure_answer({loopback}));
  r.add("_25._tcp.mx.example.test", rr_type::tlsa,
        make_answer(rcode::servfail, dnssec_status::indeterminate));
  const auto f = lookup(r, "mx.example.test");
  EXPECT_EQ(f.verdict, dane_verdict::tempfail);
  EXPECT_EQ(f.problem, core::outcome::dns_failure);
}

TEST(DaneLookup, TimeoutIsATemporaryFailure) {
  fake_resolver r;
  r.fail("mx.example.test", rr_type::a, dns::errc::timeout);
  const auto f = lookup(r, "mx.example.test");
  EXPECT_EQ(f.verdict, dane_verdict::tempfail);
  EXPECT_EQ(f.problem, core::outcome::dns_failure);
}

TEST(DaneLookup, OneFamilyFailingKeepsTheOtherWithAWarning) {
  fake_resolver r;
  r.add("mx.example.test", rr_type::a, secure_answer({loopback}));
  r.fail("mx.example.test", rr_type::aaaa, dns::errc::timeout);
  r.add("_25._tcp.mx.example.test", rr_type::tlsa, secure_answer({ee}));
  const auto f = run(lookup_host(r, "mx.example.test", 25, dane_mode::smtp, {}, true));
  EXPECT_EQ(f.verdict, dane_verdict::authenticate);
  EXPECT_EQ(f.warnings.size(), 1u);
}

TEST(DaneLookup, AllUnusableIsMandatoryUnauthenticatedTlsForSmtpOnly) {
  fake_resolver r;
  r.add("mx.example.test", rr_type::a, secure_answer({loopback}));
  const dns::tlsa_record pkix_ee{1, 1, 1, std::vector<std::uint8_t>(32, 1)};
  const dns::tlsa_record pkix_ta{0, 0, 1, std::vector<std::uint8_t>(32, 2)};
  r.add("_25._tcp.mx.example.test", rr_type::tlsa, secure_answer({pkix_ee, pkix_ta}));
  const auto smtp = lookup(r, "mx.example.test");
  EXPECT_EQ(smtp.verdict, dane_verdict::encrypt);
  EXPECT_EQ(smtp.problem, core::outcome::tlsa_invalid);
  EXPECT_EQ(smtp.usable, 0);
  const auto generic = lookup(r, "mx.example.test", dane_mode::generic);
  EXPECT_EQ(generic.verdict, dane_verdict::authenticate);
  EXPECT_EQ(generic.usable, 2);
}

TEST(DaneLookup, NoAddressesIsReported) {
  fake_resolver r;
  r.add("mx.example.test", rr_type::a, make_answer(rcode::nodata, dnssec_status::secure));
  const auto f = lookup(r, "mx.example.test");
  EXPECT_TRUE(f.addresses.empty());
  const auto plan = plan_connection(f, dane_fallback::may);
  EXPECT_FALSE(plan.connect);
  EXPECT_EQ(plan.refusal, core::outcome::connect_failure);
}

TEST(ClassifyTlsa, UsabilityFollowsRfc6698AndRfc7672) {
  struct row {
    dns::tlsa_record record;
    dane_mode mode;
    bool usable;
  };
  const std::vector<std::uint8_t> d32(32, 7), d64(64, 7), d5(5, 7);
  const std::vector<row> rows{
      {{3, 1, 1, d32}, dane_mode::smtp, true},    {{2, 0, 2, d64}, dane_mode::smtp, true},
      {{3, 0, 0, d5}, dane_mode::smtp, true},     {{3, 1, 1, d5}, dane_mode::smtp, false},
      {{3, 1, 2, d32}, dane_mode::smtp, false},   {{3, 2, 1, d32}, dane_mode::smtp, false},
      {{3, 1, 3, d32}, dane_mode::smtp, false},   {{4, 1, 1, d32}, dane_mode::smtp, false},
      {{0, 1, 1, d32}, dane_mode::smtp, false},   {{1, 1, 1, d32}, dane_mode::smtp, false},
      {{0, 1, 1, d32}, dane_mode::generic, true}, {{1, 1, 1, d32}, dane_mode::generic, true},
      {{3, 0, 0, {}}, dane_mode::generic, false},
  };
  for (const auto& r : rows) {
    const auto e = classify_tlsa(r.record, r.mode);
    EXPECT_EQ(e.usable, r.usable) << int(r.record.usage) << " " << int(r.record.selector) << " "
                                  << int(r.record.matching_type) << " " << r.record.data.size();
    EXPECT_EQ(e.why_unusable.empty(), r.usable);
  }
}

host_facts facts_with(dane_verdict v) {
  host_facts f;
  f.host = "mx.example.test.";
  f.addresses = {loopback};
  f.verdict = v;
  if (v == dane_verdict::authenticate || v == dane_verdict::encrypt) {
    f.reference_names = {"mx.example.test"};
    f.tlsa = {classify_tlsa(ee, dane_mode::smtp), classify_tlsa({1, 1, 1, {}}, dane_mode::smtp)};
    if (v == dane_verdict::encrypt) f.tlsa.erase(f.tlsa.begin());
  }
  if (v == dane_verdict::tempfail) f.problem = core::outcome::dnssec_invalid;
  return f;
}

TEST(PlanConnection, EveryVerdictAndFallback) {
  using o = core::outcome;
  struct row {
    dane_verdict verdict;
    dane_fallback fallback;
    bool connect;
    std::optional<o> refusal;
    bool require_tls, verify_pkix, dane;
  };
  const std::vector<row> rows{
      {dane_verdict::authenticate, dane_fallback::may, true, {}, true, false, true},
      {dane_verdict::authenticate, dane_fallback::refuse, true, {}, true, false, true},
      {dane_verdict::encrypt, dane_fallback::may, true, {}, true, false, false},
      {dane_verdict::encrypt, dane_fallback::verify, true, {}, true, false, false},
      {dane_verdict::encrypt, dane_fallback::refuse, false, o::tlsa_invalid, false, false, false},
      {dane_verdict::not_applicable, dane_fallback::may, true, {}, false, false, false},
      {dane_verdict::not_applicable, dane_fallback::encrypt, true, {}, true, false, false},
      {dane_verdict::not_applicable, dane_fallback::verify, true, {}, true, true, false},
      {dane_verdict::not_applicable, dane_fallback::refuse, false, o::dane_required, false, false,
       false},
      {dane_verdict::tempfail, dane_fallback::may, false, o::dnssec_invalid, false, false, false},
  };
  for (const auto& r : rows) {
    const auto p = plan_connection(facts_with(r.verdict), r.fallback);
    const std::string where =
        std::string(to_string(r.verdict)) + "/" + std::to_string(static_cast<int>(r.fallback));
    EXPECT_EQ(p.connect, r.connect) << where;
    EXPECT_EQ(p.refusal, r.refusal) << where;
    EXPECT_EQ(p.require_tls, r.require_tls) << where;
    EXPECT_EQ(p.verify_pkix, r.verify_pkix) << where;
    EXPECT_EQ(p.dane.has_value(), r.dane) << where;
  }
  // Only usable records reach OpenSSL, and SNI is the TLSA base domain (RFC 7672 §8.1).
  const auto p = plan_connection(facts_with(dane_verdict::authenticate), dane_fallback::may);
  ASSERT_EQ(p.dane->records.size(), 1u);
  EXPECT_EQ(p.dane->records[0].usage, 3);
  EXPECT_EQ(p.servername, "mx.example.test");
}

}  // namespace
}  // namespace otls::policy
