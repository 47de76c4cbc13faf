// MX routing (RFC 5321 §5.1, RFC 7505) and its DNSSEC status over the fake resolver.
#include <gtest/gtest.h>

#include "fake_resolver.hpp"
#include "otls/policy/mx.hpp"
#include "policy_test_support.hpp"

namespace otls::policy {
namespace {

using dns::dnssec_status;
using dns::mx_record;
using dns::rcode;
using dns::rr_type;
using dns::testing::bogus_answer;
using dns::testing::fake_resolver;
using dns::testing::make_answer;
using dns::testing::secure_answer;
using testing::run;

const dns::address some_address = boost::asio::ip::make_address("127.0.2.1");

TEST(MxLookup, HostsInPreferenceOrderWithTheRrsetStatus) {
  fake_resolver r;
  r.add("example.test", rr_type::mx,
        make_answer(rcode::noerror, dnssec_status::insecure,
                    {mx_record{20, "b.example.test."}, mx_record{10, "a.example.test"},
                     mx_record{20, "c.example.test."}}));
  const auto f = run(lookup_mx(r, "example.test"));
  EXPECT_EQ(f.route, mail_route::mx);
  EXPECT_EQ(f.dnssec, dnssec_status::insecure);
  ASSERT_EQ(f.hosts.size(), 3u);
  EXPECT_EQ(f.hosts[0].exchange, "a.example.test.");
  EXPECT_EQ(f.hosts[1].exchange, "b.example.test.");  // ties keep their order
  EXPECT_EQ(f.hosts[2].exchange, "c.example.test.");
  EXPECT_FALSE(f.problem);
}

TEST(MxLookup, NullMxAcceptsNoMail) {
  fake_resolver r;
  r.add("nomail.test", rr_type::mx, secure_answer({mx_record{0, "."}}));
  const auto f = run(lookup_mx(r, "nomail.test"));
  EXPECT_EQ(f.route, mail_route::null_mx);
  EXPECT_EQ(f.problem, core::outcome::no_mail);
  EXPECT_TRUE(f.hosts.empty());
}

TEST(MxLookup, NullMxNextToOthersIsIgnoredWithAWarning) {
  fake_resolver r;
  r.add("mixed.test", rr_type::mx,
        secure_answer({mx_record{0, "."}, mx_record{10, "mx.mixed.test."}}));
  const auto f = run(lookup_mx(r, "mixed.test"));
  EXPECT_EQ(f.route, mail_route::mx);
  ASSERT_EQ(f.hosts.size(), 1u);
  EXPECT_EQ(f.warnings.size(), 1u);
}

TEST(MxLookup, ImplicitMxOnlyForACleanNoDataWithAddresses) {
  fake_resolver r;
  r.add("direct.test", rr_type::mx, make_answer(rcode::nodata, dnssec_status::secure));
  r.add("direct.test", rr_type::a, secure_answer({some_address}));
  r.add("direct.test", rr_type::aaaa, make_answer(rcode::nodata, dnssec_status::secure));
  const auto f = run(lookup_mx(r, "direct.test"));
  EXPECT_EQ(f.route, mail_route::implicit_mx);
  ASSERT_EQ(f.hosts.size(), 1u);
  EXPECT_EQ(f.hosts[0].exchange, "direct.test.");
  EXPECT_EQ(f.hosts[0].preference, 0);

  r.add("bare.test", rr_type::mx, make_answer(rcode::nodata, dnssec_status::secure));
  r.add("bare.test", rr_type::a, make_answer(rcode::nodata, dnssec_status::secure));
  r.add("bare.test", rr_type::aaaa, make_answer(rcode::nodata, dnssec_status::secure));
  EXPECT_EQ(run(lookup_mx(r, "bare.test")).route, mail_route::no_mail);

  r.add("shaky.test", rr_type::mx, make_answer(rcode::nodata, dnssec_status::secure));
  r.add("shaky.test", rr_type::a, make_answer(rcode::servfail, dnssec_status::indeterminate));
  const auto shaky = run(lookup_mx(r, "shaky.test"));
  EXPECT_EQ(shaky.route, mail_route::failed);
  EXPECT_EQ(shaky.problem, core::outcome::dns_failure);
}

TEST(MxLookup, NxdomainIsNoMail) {
  fake_resolver r;
  const auto f = run(lookup_mx(r, "nowhere.test"));
  EXPECT_EQ(f.route, mail_route::no_mail);
  EXPECT_EQ(f.problem, core::outcome::no_mail);
}

TEST(MxLookup, ServfailAndBogusNeverFallBackToTheDomain) {
  fake_resolver r;
  r.add("broken.test", rr_type::mx, make_answer(rcode::servfail, dnssec_status::indeterminate));
  r.add("broken.test", rr_type::a, secure_answer({some_address}));
  const auto broken = run(lookup_mx(r, "broken.test"));
  EXPECT_EQ(broken.route, mail_route::failed);
  EXPECT_EQ(broken.problem, core::outcome::dns_failure);
  EXPECT_TRUE(broken.hosts.empty());

  r.add("bogus.test", rr_type::mx, bogus_answer());
  r.add("bogus.test", rr_type::a, secure_answer({some_address}));
  r.add(".", rr_type::dnskey, secure_answer({dns::dnskey_record{257, 3, 8, {1}}}));
  const auto bogus = run(lookup_mx(r, "bogus.test"));
  EXPECT_EQ(bogus.route, mail_route::failed);
  EXPECT_EQ(bogus.problem, core::outcome::dnssec_invalid);
  EXPECT_TRUE(bogus.hosts.empty());

  r.fail("slow.test", rr_type::mx, dns::errc::timeout);
  EXPECT_EQ(run(lookup_mx(r, "slow.test")).problem, core::outcome::dns_failure);
}

TEST(MxLookup, BogusWithAResolverThatCannotValidate) {
  fake_resolver r;
  r.add("bogus.test", rr_type::mx, bogus_answer());
  r.add(".", rr_type::dnskey, bogus_answer());
  EXPECT_EQ(run(lookup_mx(r, "bogus.test")).problem, core::outcome::resolver_cannot_validate);
}

}  // namespace
}  // namespace otls::policy
