// Target URLs: hosts, IP literals, ports, registry defaults and clear errors.
#include "otls/core/url.hpp"

#include <gtest/gtest.h>

#include "otls/proto/registry.hpp"

namespace otls {
namespace {

TEST(Url, ParsesHostAndPort) {
  auto u = core::parse_url("SMTP://MX.Example.ORG.:2525");
  ASSERT_TRUE(u) << u.error().message();
  EXPECT_EQ(u->scheme, "smtp");
  EXPECT_EQ(u->host, "mx.example.org");
  EXPECT_EQ(u->kind, core::host_kind::dns_name);
  EXPECT_EQ(u->port, 2525);
}

TEST(Url, ParsesIpLiterals) {
  auto v4 = core::parse_url("smtp://127.0.0.1");
  ASSERT_TRUE(v4);
  EXPECT_EQ(v4->kind, core::host_kind::ipv4);
  EXPECT_FALSE(v4->port.has_value());
  auto v6 = core::parse_url("smtp://[::1]:25/");
  ASSERT_TRUE(v6);
  EXPECT_EQ(v6->kind, core::host_kind::ipv6);
  EXPECT_EQ(v6->host, "::1");
  EXPECT_EQ(v6->host_for_display(), "[::1]");
  EXPECT_EQ(v6->port, 25);
}

struct bad_case {
  const char* text;
  core::errc expected;
};

void PrintTo(const bad_case& c, std::ostream* os) {
  *os << c.text;
}

class BadUrl : public ::testing::TestWithParam<bad_case> {};

TEST_P(BadUrl, IsRejectedWithAClearError) {
  auto u = core::parse_url(GetParam().text);
  ASSERT_TRUE(u.has_error()) << GetParam().text;
  EXPECT_EQ(u.error(), GetParam().expected) << GetParam().text;
  EXPECT_FALSE(u.error().message().empty());
}

INSTANTIATE_TEST_SUITE_P(Cases, BadUrl,
                         ::testing::Values(bad_case{"mx.example.org", core::errc::bad_url},
                                           bad_case{"://host", core::errc::bad_url},
                                           bad_case{"smtp://user@host", core::errc::bad_url},
                                           bad_case{"smtp://host/path", core::errc::bad_url},
                                           bad_case{"smtp://host?x", core::errc::bad_url},
                                           bad_case{"smtp://", core::errc::bad_host},
                                           bad_case{"smtp://bad_host-.example",
                                                    core::errc::bad_host},
                                           bad_case{"smtp://a..b", core::errc::bad_host},
                                           bad_case{"smtp://999.1.1.1", core::errc::bad_host},
                                           bad_case{"smtp://[::1", core::errc::bad_host},
                                           bad_case{"smtp://[127.0.0.1]", core::errc::bad_host},
                                           bad_case{"smtp://::1", core::errc::bad_host},
                                           bad_case{"smtp://[::1]x", core::errc::bad_url},
                                           bad_case{"smtp://host:", core::errc::bad_port},
                                           bad_case{"smtp://host:0", core::errc::bad_port},
                                           bad_case{"smtp://host:65536", core::errc::bad_port},
                                           bad_case{"smtp://host:25x", core::errc::bad_port},
                                           bad_case{"smtp://host:-1", core::errc::bad_port}));

struct default_port {
  const char* url;
  std::uint16_t port;
  bool implicit_tls;
};

void PrintTo(const default_port& d, std::ostream* os) {
  *os << d.url;
}

class DefaultPort : public ::testing::TestWithParam<default_port> {};

TEST_P(DefaultPort, ComesFromTheRegistry) {
  auto t = proto::resolve_target(GetParam().url);
  ASSERT_TRUE(t) << t.error().message();
  EXPECT_EQ(t->port, GetParam().port);
  EXPECT_EQ(t->proto->implicit_tls, GetParam().implicit_tls);
}

INSTANTIATE_TEST_SUITE_P(Schemes, DefaultPort,
                         ::testing::Values(default_port{"smtp://h.example", 25, false},
                                           default_port{"submission://h.example", 587, false},
                                           default_port{"smtps://h.example", 465, true},
                                           default_port{"submissions://h.example", 465, true},
                                           default_port{"lmtp://h.example", 24, false},
                                           default_port{"smtp://h.example:2525", 2525, false}));

TEST(Target, UnknownSchemeIsNamed) {
  auto t = proto::resolve_target("gopher://h.example");
  ASSERT_TRUE(t.has_error());
  EXPECT_EQ(t.error(), core::errc::unsupported_scheme);
}

TEST(Target, CanonicalForm) {
  EXPECT_EQ(proto::resolve_target("smtp://[::1]")->to_string(), "smtp://[::1]:25");
}

}  // namespace
}  // namespace otls
