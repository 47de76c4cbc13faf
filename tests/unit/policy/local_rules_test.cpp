// Local per-domain overrides (TOML via toml++): levels, MX patterns, fingerprints, and the
// errors a user meets.
#include <gtest/gtest.h>

#include "otls/policy/local_rules.hpp"

namespace otls::policy {
namespace {

TEST(LocalRules, ParsesLevelsPatternsAndFingerprints) {
  std::string detail;
  const auto rules = parse_local_rules(R"(
[domain."Example.ORG."]
level = "verify"
mx = ["mx1.example.org", "*.example.net"]

[domain."pinned.test"]
fingerprints = ["AB:CD:ef0123456789ef0123456789ef0123456789ef0123456789ef0123456789"]
)",
                                       detail);
  ASSERT_TRUE(rules) << detail;
  const auto* org = rules->find("example.org.");
  ASSERT_NE(org, nullptr);
  EXPECT_EQ(org->level, security_level::verify);
  EXPECT_EQ(org->mx, (std::vector<std::string>{"mx1.example.org", "*.example.net"}));
  const auto* pinned = rules->find("PINNED.test");
  ASSERT_NE(pinned, nullptr);
  EXPECT_FALSE(pinned->level);
  EXPECT_EQ(pinned->fingerprints.size(), 1u);
  EXPECT_EQ(rules->find("other.test"), nullptr);
}

TEST(LocalRules, EmptyIsValid) {
  std::string detail;
  const auto rules = parse_local_rules("", detail);
  ASSERT_TRUE(rules) << detail;
  EXPECT_TRUE(rules->domains.empty());
}

TEST(LocalRules, ErrorsNameThePlace) {
  struct row {
    const char* text;
    const char* says;
  };
  const std::vector<row> rows{
      {"[domain", "line 1"},
      {"[domain.\"a.test\"]\nlevel = \"strong\"\n", "domain.\"a.test\".level"},
      {"[domain.\"a.test\"]\nmx = \"x\"\n", "domain.\"a.test\".mx"},
      {"[domain.\"a.test\"]\nfingerprints = [\"zz\"]\n", "not a SHA-256"},
      {"[domain.\"a.test\"]\nlevel = \"fingerprint\"\n", "needs fingerprints"},
      {"domain = 3\n", "[domain] must be a table"},
  };
  for (const auto& r : rows) {
    std::string detail;
    EXPECT_FALSE(parse_local_rules(r.text, detail)) << r.text;
    EXPECT_NE(detail.find(r.says), std::string::npos) << r.text << " -> " << detail;
  }
  std::string detail;
  EXPECT_FALSE(load_local_rules("/nonexistent/otls.toml", detail));
  EXPECT_NE(detail.find("cannot be read"), std::string::npos);
}

}  // namespace
}  // namespace otls::policy
