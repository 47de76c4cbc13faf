// The STARTTLS-Everywhere policy list (EFF JSON): parsing, aliases, timestamps, lookups and the
// leading-dot MX rule.
#include "otls/policy/policy_list.hpp"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace otls::policy {
namespace {

// The shape of EFF's published list, trimmed.
constexpr const char* eff_sample = R"({
  "timestamp": "2018-05-03T12:00:00Z",
  "author": "Electronic Frontier Foundation https://eff.org",
  "expires": 1528000000,
  "version": "0.1",
  "pinsets": {"eff": {"static-spki-hashes": ["sha256/AAAA"]}},
  "policy-aliases": {
    "gmail": {"mode": "testing", "mxs": [".mail.google.com"]}
  },
  "policies": {
    "eff.org": {"mode": "enforce", "mxs": [".eff.org"], "pin": "eff"},
    "Example.COM.": {"mode": "testing", "mxs": [".Example.com", "MX.example.NET."]},
    "gmail.com": {"policy-alias": "gmail"},
    "googlemail.com": {"policy-alias": "gmail"},
    "broken.example": {"policy-alias": "nosuch"}
  }
})";

TEST(PolicyList, ParsesTheEffFormat) {
  std::string detail;
  const auto list = parse_policy_list(eff_sample, detail);
  ASSERT_TRUE(list) << detail;
  EXPECT_EQ(list->timestamp, 1525348800);
  EXPECT_EQ(list->expires, 1528000000);
  EXPECT_EQ(list->policies.size(), 4u);

  const auto* eff = list->find("eff.org");
  ASSERT_NE(eff, nullptr);
  EXPECT_EQ(eff->mode, sts_mode::enforce);
  EXPECT_EQ(eff->mxs, std::vector<std::string>{".eff.org"});

  const auto* example = list->find("EXAMPLE.com.");
  ASSERT_NE(example, nullptr);
  EXPECT_EQ(example->mode, sts_mode::testing);
  EXPECT_EQ(example->mxs, (std::vector<std::string>{".example.com", "mx.example.net"}));

  for (const char* domain : {"gmail.com", "googlemail.com"}) {
    const auto* gmail = list->find(domain);
    ASSERT_NE(gmail, nullptr) << domain;
    EXPECT_EQ(gmail->mode, sts_mode::testing);
    EXPECT_EQ(gmail->mxs, std::vector<std::string>{".mail.google.com"});
  }

  EXPECT_EQ(list->find("broken.example"), nullptr);
  EXPECT_EQ(list->find("other.example"), nullptr);
  EXPECT_EQ(list->find(""), nullptr);
  ASSERT_EQ(list->warnings.size(), 1u);
  EXPECT_NE(list->warnings[0].find("\"nosuch\" is not defined"), std::string::npos)
      << list->warnings[0];
}

TEST(PolicyList, Expiry) {
  policy_list list;
  EXPECT_FALSE(list.expired(4'000'000'000));  // no "expires": never
  list.expires = 100;
  EXPECT_FALSE(list.expired(99));
  EXPECT_TRUE(list.expired(100));
}

TEST(PolicyList, Timestamps) {
  const struct {
    const char* value;
    std::int64_t seconds;
  } cases[] = {
      {"0", 0},
      {"1525348800", 1525348800},
      {"1525348800.75", 1525348800},
      {"\"1970-01-01T00:00:00Z\"", 0},
      {"\"2018-05-03T12:00:00Z\"", 1525348800},
      {"\"2018-05-03t12:00:00z\"", 1525348800},
      {"\"2018-05-03 12:00:00Z\"", 1525348800},
      {"\"2018-05-03T12:00:00.123456Z\"", 1525348800},
      {"\"2018-05-03T14:30:00+02:30\"", 1525348800},
      {"\"2018-05-03T06:00:00-06:00\"", 1525348800},
      {"\"2014-06-06T14:30:16.000000+00:00\"", 1402065016},
      {"\"2016-02-29T00:00:00Z\"", 1456704000},
      {"\"2016-12-31T23:59:60Z\"", 1483228800},
  };
  for (const auto& c : cases) {
    std::string detail;
    const auto list = parse_policy_list(std::string(R"({"policies": {}, "timestamp": )") + c.value +
                                            ", \"expires\": " + c.value + "}",
                                        detail);
    ASSERT_TRUE(list) << c.value << ": " << detail;
    EXPECT_EQ(list->timestamp, c.seconds) << c.value;
    EXPECT_EQ(list->expires, c.seconds) << c.value;
  }
}

TEST(PolicyList, MalformedTimestampsAreErrors) {
  for (const char* value :
       {"\"2018-05-03\"", "\"2018-05-03T12:00:00\"", "\"2018-02-30T12:00:00Z\"",
        "\"2018-13-01T12:00:00Z\"", "\"2018-05-03T24:00:00Z\"", "\"2018-05-03T12:60:00Z\"",
        "\"2018-05-03T12:00:00.Z\"", "\"2018-05-03T12:00:00+0200\"",
        "\"2018-05-03T12:00:00+24:00\"", "\"2018-05-03T12:00:00Zjunk\"", "\"yesterday\"", "\"\"",
        "true", "null", "[]", "{}", "1e300", "-1e300", "18446744073709551615"}) {
    std::string detail;
    EXPECT_FALSE(
        parse_policy_list(std::string(R"({"policies": {}, "expires": )") + value + "}", detail))
        << value;
    EXPECT_NE(detail.find("\"expires\""), std::string::npos) << value << ": " << detail;
  }
}

TEST(PolicyList, StructuralErrors) {
  const struct {
    const char* json;
    const char* reason;
  } cases[] = {
      {"", "not valid JSON"},
      {"{", "not valid JSON"},
      {"{\"policies\": {}} trailing", "not valid JSON"},
      {"{\"policies\": {\"a\": \"\xff\"}}", "not valid JSON"},
      {"[]", "not a JSON object"},
      {"\"policies\"", "not a JSON object"},
      {"null", "not a JSON object"},
      {"{}", "no \"policies\" object"},
      {"{\"policies\": []}", "no \"policies\" object"},
      {"{\"policies\": null}", "no \"policies\" object"},
      {"{\"policies\": {}, \"policy-aliases\": []}", "\"policy-aliases\" is not an object"},
  };
  for (const auto& c : cases) {
    std::string detail;
    EXPECT_FALSE(parse_policy_list(c.json, detail)) << c.json;
    EXPECT_NE(detail.find(c.reason), std::string::npos) << c.json << ": " << detail;
  }
}

TEST(PolicyList, UnusableEntriesAreSkippedWithWarnings) {
  std::string detail;
  const auto list = parse_policy_list(R"({
    "policy-aliases": {
      "loop": {"policy-alias": "loop"},
      "bad": {"mode": "enforce", "mxs": []}
    },
    "policies": {
      "ok.example": {"mode": "enforce", "mxs": [".ok.example", 7, "bad_name.example", ""]},
      "nomode.example": {"mxs": ["mx.nomode.example"]},
      "none.example": {"mode": "none"},
      "badmode.example": {"mode": "reject", "mxs": [".badmode.example"]},
      "nummode.example": {"mode": 1, "mxs": [".nummode.example"]},
      "nomx.example": {"mode": "enforce"},
      "mxstring.example": {"mode": "enforce", "mxs": ".mxstring.example"},
      "notobject.example": "enforce",
      "aliasnum.example": {"policy-alias": 3},
      "loop.example": {"policy-alias": "loop"},
      "bad.example": {"policy-alias": "bad"},
      "pin.example": {"mode": "enforce", "mxs": [".pin.example"], "pin": "unknown"},
      ".": {"mode": "enforce", "mxs": [".example"]},
      "Dup.example": {"mode": "enforce", "mxs": [".dup.example"]},
      "dup.example.": {"mode": "testing", "mxs": [".dup.example"]}
    },
    "unknown-field": {"anything": [1, 2, 3]}
  })",
                                      detail);
  ASSERT_TRUE(list) << detail;

  const auto* ok = list->find("ok.example");
  ASSERT_NE(ok, nullptr);
  EXPECT_EQ(ok->mxs, std::vector<std::string>{".ok.example"});
  const auto* nomode = list->find("nomode.example");
  ASSERT_NE(nomode, nullptr);
  EXPECT_EQ(nomode->mode, sts_mode::testing);
  const auto* none = list->find("none.example");
  ASSERT_NE(none, nullptr);
  EXPECT_EQ(none->mode, sts_mode::none);
  ASSERT_NE(list->find("pin.example"), nullptr);
  ASSERT_NE(list->find("dup.example"), nullptr);

  for (const char* skipped :
       {"badmode.example", "nummode.example", "nomx.example", "mxstring.example",
        "notobject.example", "aliasnum.example", "loop.example", "bad.example"})
    EXPECT_EQ(list->find(skipped), nullptr) << skipped;
  EXPECT_EQ(list->policies.size(), 5u);

  auto warned = [&](std::string_view text) {
    for (const auto& w : list->warnings)
      if (w.find(text) != std::string::npos) return true;
    return false;
  };
  EXPECT_TRUE(warned("an \"mxs\" item is not a string"));
  EXPECT_TRUE(warned("\"bad_name.example\" is not a host name"));
  EXPECT_TRUE(warned("policies \"badmode.example\" has a mode"));
  EXPECT_TRUE(warned("policies \"nomx.example\" has no usable MX pattern"));
  EXPECT_TRUE(warned("\"mxs\" that is not an array"));
  EXPECT_TRUE(warned("policies \"notobject.example\" is not an object"));
  EXPECT_TRUE(warned("\"policy-alias\" is not a string"));
  EXPECT_TRUE(warned("refers to another alias"));
  EXPECT_TRUE(warned("policy-aliases \"bad\" has no usable MX pattern"));
  EXPECT_TRUE(warned("pinset"));
  EXPECT_TRUE(warned("empty domain"));
  EXPECT_TRUE(warned("repeats a domain"));
}

TEST(PolicyList, DeepNestingDoesNotCrash) {
  std::string detail;
  const std::string deep = std::string(100000, '[') + std::string(100000, ']');
  EXPECT_FALSE(parse_policy_list(deep, detail));
  const std::string deep_inside =
      R"({"policies": {}, "x": )" + std::string(50000, '[') + std::string(50000, ']') + "}";
  EXPECT_TRUE(parse_policy_list(deep_inside, detail)) << detail;
}

TEST(ListMxMatches, Table) {
  const struct {
    const char* pattern;
    const char* host;
    bool matches;
  } cases[] = {
      {".example.com", "mail.example.com", true},
      {".example.com", "a.b.c.example.com", true},
      {".example.com", "MAIL.Example.COM.", true},
      {".Example.COM.", "mail.example.com", true},
      {".example.com", "example.com", false},
      {".example.com", ".example.com", false},
      {".example.com", "..example.com", false},
      {".example.com", "mailexample.com", false},
      {".example.com", "mail.example.com.evil", false},
      {"mx.example.com", "mx.example.com", true},
      {"mx.example.com", "MX.EXAMPLE.COM.", true},
      {"MX.example.com.", "mx.example.com", true},
      {"mx.example.com", "a.mx.example.com", false},
      {"mx.example.com", "example.com", false},
      {"*.example.com", "mail.example.com", false},
      {".", "example.com", false},
      {"", "", false},
      {"", "example.com", false},
      {"example.com", "", false},
  };
  for (const auto& c : cases)
    EXPECT_EQ(list_mx_matches(c.pattern, c.host), c.matches) << c.pattern << " vs " << c.host;
}

}  // namespace
}  // namespace otls::policy
