// MTA-STS discovery, fetch and trust-on-first-use caching (RFC 8461 §3.1-3.3) over the fake
// resolver, a scripted fetcher and an in-memory store: no sockets, no files.
#include <gtest/gtest.h>

#include <map>

#include "fake_resolver.hpp"
#include "otls/policy/sts_lookup.hpp"
#include "policy_test_support.hpp"

namespace otls::policy {
namespace {

using dns::rr_type;
using dns::testing::fake_resolver;
using dns::testing::make_answer;
using dns::testing::secure_answer;
using testing::run;

constexpr std::int64_t now = 1'800'000'000;

const std::string enforce_policy =
    "version: STSv1\nmode: enforce\nmx: mx.example.test\nmax_age: 86400\n";
const std::string testing_policy =
    "version: STSv1\r\nmode: testing\r\nmx: *.example.test\r\nmax_age: 600\r\n";

class memory_store final : public store::policy_store {
 public:
  result<std::optional<store::sts_entry>> get_sts(std::string_view domain) override {
    auto it = entries.find(std::string(domain));
    if (it == entries.end()) return std::optional<store::sts_entry>{};
    return std::optional<store::sts_entry>{it->second};
  }
  error_code put_sts(const store::sts_entry& e) override {
    entries[e.domain] = e;
    return {};
  }
  error_code remove_sts(std::string_view domain) override {
    entries.erase(std::string(domain));
    return {};
  }
  result<std::vector<store::sts_entry>> sts_expiring_before(std::int64_t, std::size_t) override {
    return std::vector<store::sts_entry>{};
  }
  std::map<std::string, store::sts_entry> entries;
};

class scripted_fetcher final : public sts_fetcher {
 public:
  awaitable<sts_fetch_result> fetch(std::string domain) override {
    fetched.push_back(domain);
    co_return next;
  }
  sts_fetch_result next;
  std::vector<std::string> fetched;
};

dns::answer txt(std::vector<std::string> strings) {
  return secure_answer({dns::txt_record{std::move(strings)}});
}

struct StsLookup : ::testing::Test {
  fake_resolver resolver;
  memory_store cache;
  scripted_fetcher fetcher;

  sts_lookup lookup(store::policy_store* s) {
    return run(lookup_sts(resolver, s, fetcher, "Example.Test.", now));
  }
  void publish(const std::string& id) {
    resolver.add("_mta-sts.example.test", rr_type::txt, txt({"v=STSv1; id=" + id + ";"}));
  }
  void cache_entry(const std::string& id, const std::string& text, std::int64_t expires) {
    cache.entries["example.test"] = {"example.test", id, text, now - 100, expires};
  }
};

TEST_F(StsLookup, FirstSightFetchesAndStores) {
  publish("20260101");
  fetcher.next.body = enforce_policy;
  const auto r = lookup(&cache);
  ASSERT_NE(r.in_effect(), nullptr);
  EXPECT_EQ(r.in_effect()->mode, sts_mode::enforce);
  EXPECT_EQ(r.source, "fetched");
  EXPECT_EQ(r.action, cache_action::stored);
  EXPECT_EQ(fetcher.fetched, std::vector<std::string>{"example.test"});
  const auto& e = cache.entries.at("example.test");
  EXPECT_EQ(e.id, "20260101");
  EXPECT_EQ(e.expires_at, now + 86400);
}

TEST_F(StsLookup, SameIdUsesTheCacheWithoutFetching) {
  publish("abc");
  cache_entry("abc", enforce_policy, now + 1000);
  const auto r = lookup(&cache);
  EXPECT_EQ(r.source, "cache");
  EXPECT_EQ(r.action, cache_action::kept);
  EXPECT_TRUE(fetcher.fetched.empty());
}

TEST_F(StsLookup, ChangedIdRefetchesAndReplaces) {
  publish("new");
  cache_entry("old", enforce_policy, now + 1000);
  fetcher.next.body = testing_policy;
  const auto r = lookup(&cache);
  EXPECT_EQ(r.source, "fetched");
  EXPECT_EQ(r.action, cache_action::replaced);
  EXPECT_EQ(r.in_effect()->mode, sts_mode::testing);
  EXPECT_EQ(cache.entries.at("example.test").id, "new");
}

TEST_F(StsLookup, ExpiredEntryIsRefetched) {
  publish("abc");
  cache_entry("abc", enforce_policy, now - 1);
  fetcher.next.body = enforce_policy;
  const auto r = lookup(&cache);
  EXPECT_EQ(fetcher.fetched.size(), 1u);
  EXPECT_EQ(r.action, cache_action::replaced);
  EXPECT_EQ(cache.entries.at("example.test").fetched_at, now);
}

TEST_F(StsLookup, CachedPolicySurvivesAFailedFetch) {
  publish("new");
  cache_entry("old", enforce_policy, now + 1000);
  fetcher.next.problem = core::outcome::sts_policy_fetch_error;
  fetcher.next.detail = "HTTP 404";
  const auto r = lookup(&cache);
  EXPECT_EQ(r.fetch_problem, core::outcome::sts_policy_fetch_error);
  EXPECT_EQ(r.source, "cache");
  ASSERT_NE(r.in_effect(), nullptr);
  EXPECT_EQ(r.in_effect()->mode, sts_mode::enforce);
  EXPECT_EQ(cache.entries.at("example.test").id, "old");  // not overwritten
}

TEST_F(StsLookup, CachedPolicySurvivesAMissingOrBrokenTxtAndADnsOutage) {
  cache_entry("old", enforce_policy, now + 1000);
  // no TXT record at all
  EXPECT_EQ(lookup(&cache).source, "cache");
  // two STSv1 records: no live policy, but the cache still applies
  resolver.add(
      "_mta-sts.example.test", rr_type::txt,
      secure_answer({dns::txt_record{{"v=STSv1; id=1;"}}, dns::txt_record{{"v=STSv1; id=2;"}}}));
  auto r = lookup(&cache);
  EXPECT_EQ(r.txt.status, sts_txt_status::ambiguous);
  EXPECT_EQ(r.source, "cache");
  // the TXT lookup fails outright
  resolver.fail("_mta-sts.example.test", rr_type::txt, dns::errc::timeout);
  r = lookup(&cache);
  EXPECT_TRUE(r.txt_dns_failure);
  EXPECT_EQ(r.source, "cache");
  EXPECT_TRUE(fetcher.fetched.empty());
}

TEST_F(StsLookup, NoCacheAndAFailedFetchMeansNoPolicy) {
  publish("abc");
  fetcher.next.problem = core::outcome::sts_webpki_invalid;
  const auto r = lookup(&cache);
  EXPECT_EQ(r.in_effect(), nullptr);
  EXPECT_EQ(r.source, "");
  EXPECT_EQ(r.fetch_problem, core::outcome::sts_webpki_invalid);
  EXPECT_TRUE(cache.entries.empty());
}

TEST_F(StsLookup, AnInvalidPolicyIsStsPolicyInvalid) {
  publish("abc");
  fetcher.next.body = "version: STSv1\nmode: enforce\nmx: mx.example.test\n";  // no max_age
  const auto r = lookup(&cache);
  EXPECT_EQ(r.fetch_problem, core::outcome::sts_policy_invalid);
  EXPECT_EQ(r.in_effect(), nullptr);
}

TEST_F(StsLookup, AFetchedNoneReplacesTheCachedPolicy) {
  publish("optout");
  cache_entry("old", enforce_policy, now + 1000);
  fetcher.next.body = "version: STSv1\nmode: none\nmax_age: 86400\n";
  const auto r = lookup(&cache);
  EXPECT_EQ(r.action, cache_action::replaced);
  EXPECT_EQ(r.in_effect(), nullptr);
  ASSERT_TRUE(r.policy);
  EXPECT_EQ(r.policy->mode, sts_mode::none);
}

TEST_F(StsLookup, WorksWithoutAStore) {
  publish("abc");
  fetcher.next.body = enforce_policy;
  const auto r = lookup(nullptr);
  EXPECT_EQ(r.source, "fetched");
  EXPECT_EQ(r.action, cache_action::none);
}

TEST(CheckStsResponse, StatusRedirectAndMediaType) {
  EXPECT_FALSE(check_sts_response(200, "text/plain", {}, "x").problem);
  EXPECT_FALSE(check_sts_response(200, "Text/Plain ; charset=utf-8", {}, "x").problem);
  EXPECT_EQ(check_sts_response(200, "text/html", {}, "x").problem,
            core::outcome::sts_policy_invalid);
  EXPECT_EQ(check_sts_response(200, "", {}, "x").problem, core::outcome::sts_policy_invalid);
  EXPECT_EQ(check_sts_response(404, "text/plain", {}, "").problem,
            core::outcome::sts_policy_fetch_error);
  const auto redirect = check_sts_response(301, "text/html", std::string("https://x/"), "");
  EXPECT_EQ(redirect.problem, core::outcome::sts_policy_fetch_error);
  EXPECT_NE(redirect.detail.find("not followed"), std::string::npos);
}

}  // namespace
}  // namespace otls::policy
