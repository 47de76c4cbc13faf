// SRV service location (RFC 2782 order, RFC 6120 §3.2 fall-back) over the fake resolver.
#include <gtest/gtest.h>

#include "fake_resolver.hpp"
#include "otls/policy/srv.hpp"
#include "policy_test_support.hpp"

namespace otls::policy {
namespace {

using dns::dnssec_status;
using dns::rcode;
using dns::rr_type;
using dns::srv_record;
using dns::testing::bogus_answer;
using dns::testing::fake_resolver;
using dns::testing::make_answer;
using dns::testing::secure_answer;
using testing::run;

// Always the lowest number: the first target whose running sum reaches 0.
std::uint32_t pick_lowest(std::uint32_t) {
  return 0;
}
// Always the highest: the last target of the running sum.
std::uint32_t pick_highest(std::uint32_t total) {
  return total;
}

std::vector<std::string> hosts(const std::vector<srv_target>& targets) {
  std::vector<std::string> out;
  for (const auto& t : targets) out.push_back(t.host + ":" + std::to_string(t.port));
  return out;
}

TEST(SrvOrder, LowestPriorityFirst) {
  const auto ordered =
      order_targets({{"c.", 3, 20, 0}, {"a.", 1, 5, 0}, {"b.", 2, 10, 0}}, pick_lowest);
  EXPECT_EQ(hosts(ordered), (std::vector<std::string>{"a.:1", "b.:2", "c.:3"}));
}

TEST(SrvOrder, WeightedSelectionWithinOnePriority) {
  // Running sums 0 (zero weight first), 10, 70: pick 0 takes the zero-weight target first.
  const std::vector<srv_target> same{
      {"light.", 1, 0, 10}, {"heavy.", 2, 0, 60}, {"zero.", 3, 0, 0}};
  EXPECT_EQ(hosts(order_targets(same, pick_lowest)),
            (std::vector<std::string>{"zero.:3", "light.:1", "heavy.:2"}));
  // The highest pick takes the last of the running sum each round.
  EXPECT_EQ(hosts(order_targets(same, pick_highest)),
            (std::vector<std::string>{"heavy.:2", "light.:1", "zero.:3"}));
  // A pick of 35 falls in heavy's share (10 < 35 <= 70).
  EXPECT_EQ(order_targets(same, [](std::uint32_t t) { return t == 70 ? 35u : 0u; }).front().host,
            "heavy.");
}

TEST(SrvOrder, RandomPickStaysWithinTheTotal) {
  const auto pick = random_weight_pick();
  for (int i = 0; i < 100; ++i) EXPECT_LE(pick(7), 7u);
  EXPECT_EQ(pick(0), 0u);
}

TEST(SrvLookup, TargetsInOrderWithTheRrsetStatus) {
  fake_resolver r;
  r.add("_xmpps-client._tcp.example.test", rr_type::srv,
        secure_answer(
            {srv_record{10, 0, 5223, "b.example.test"}, srv_record{5, 0, 443, "a.example.test."}}));
  const auto f = run(lookup_service(r, "_xmpps-client._tcp", "example.test", pick_lowest));
  EXPECT_EQ(f.name, "_xmpps-client._tcp.example.test.");
  EXPECT_EQ(f.route, service_route::srv);
  EXPECT_EQ(f.dnssec, dnssec_status::secure);
  EXPECT_EQ(hosts(f.targets),
            (std::vector<std::string>{"a.example.test.:443", "b.example.test.:5223"}));
}

TEST(SrvLookup, NoRecordsFallsBackToTheDomain) {
  fake_resolver r;  // unknown names are NXDOMAIN
  auto f = run(lookup_service(r, "_xmpp-client._tcp", "example.test", pick_lowest));
  EXPECT_EQ(f.route, service_route::fallback);
  EXPECT_TRUE(f.targets.empty());
  r.add("_xmpp-client._tcp.example.test", rr_type::srv,
        make_answer(rcode::nodata, dnssec_status::insecure));
  f = run(lookup_service(r, "_xmpp-client._tcp", "example.test", pick_lowest));
  EXPECT_EQ(f.route, service_route::fallback);
}

TEST(SrvLookup, DotTargetMeansNoService) {
  fake_resolver r;
  r.add("_xmpps-client._tcp.example.test", rr_type::srv, secure_answer({srv_record{0, 0, 0, "."}}));
  const auto f = run(lookup_service(r, "_xmpps-client._tcp", "example.test", pick_lowest));
  EXPECT_EQ(f.route, service_route::no_service);
  EXPECT_NE(f.detail.find("not offered"), std::string::npos) << f.detail;
}

TEST(SrvLookup, BogusServfailAndErrorsAreFailedWithAReason) {
  fake_resolver r;
  r.add("_a._tcp.example.test", rr_type::srv, bogus_answer("signature expired"));
  r.add("_b._tcp.example.test", rr_type::srv,
        make_answer(rcode::servfail, dnssec_status::indeterminate));
  r.fail("_c._tcp.example.test", rr_type::srv, make_error_code(dns::errc::timeout));
  for (const char* service : {"_a._tcp", "_b._tcp", "_c._tcp"}) {
    SCOPED_TRACE(service);
    const auto f = run(lookup_service(r, service, "example.test", pick_lowest));
    EXPECT_EQ(f.route, service_route::failed);
    EXPECT_TRUE(f.targets.empty());
    EXPECT_NE(f.detail.find("trying the domain itself"), std::string::npos) << f.detail;
  }
  EXPECT_NE(run(lookup_service(r, "_a._tcp", "example.test", pick_lowest)).detail.find("bogus"),
            std::string::npos);
}

}  // namespace
}  // namespace otls::policy
