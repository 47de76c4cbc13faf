// The resolver interface through the fake (tests/support) and the libunbound resolver's
// configuration checks (RFC 4033 trust anchors); no DNS traffic leaves the process.
#include <gtest/gtest.h>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/use_future.hpp>

#include "fake_resolver.hpp"
#include "otls/dns/unbound_resolver.hpp"

#include <unistd.h>

#include <cstdio>
#include <fstream>

namespace otls::dns {
namespace {

result<answer> run(resolver& r, std::string name, rr_type type) {
  boost::asio::io_context io;
  auto f = boost::asio::co_spawn(io, r.query(std::move(name), type), boost::asio::use_future);
  io.run();
  return f.get();
}

TEST(FakeResolver, AnswersFromItsTableCaseInsensitively) {
  testing::fake_resolver fake;
  fake.add("Example.Test", rr_type::mx,
           testing::secure_answer({mx_record{10, "mx.example.test."}}));
  auto a = run(fake, "example.test.", rr_type::mx).value();
  EXPECT_EQ(a.outcome, rcode::noerror);
  EXPECT_TRUE(a.secure());
  EXPECT_EQ(a.qname, "example.test.");
  ASSERT_EQ(a.records.size(), 1u);
  EXPECT_EQ(std::get<mx_record>(a.records[0]).exchange, "mx.example.test.");
  ASSERT_EQ(fake.queries().size(), 1u);
  EXPECT_EQ(fake.queries()[0].second, rr_type::mx);
}

TEST(FakeResolver, UnknownIsNxdomainAndFailuresAreErrors) {
  testing::fake_resolver fake;
  fake.default_status = dnssec_status::secure;
  auto a = run(fake, "nowhere.test", rr_type::a).value();
  EXPECT_EQ(a.outcome, rcode::nxdomain);
  EXPECT_EQ(a.dnssec, dnssec_status::secure);
  fake.fail("slow.test", rr_type::tlsa, errc::timeout);
  EXPECT_EQ(run(fake, "slow.test", rr_type::tlsa).error(), errc::timeout);
}

TEST(FakeResolver, CarriesBogusVerdicts) {
  testing::fake_resolver fake;
  answer bogus;
  bogus.outcome = rcode::servfail;
  bogus.dnssec = dnssec_status::bogus;
  bogus.why_bogus = "signature expired";
  fake.add("_25._tcp.mx.bad.test", rr_type::tlsa, bogus);
  auto a = run(fake, "_25._tcp.mx.bad.test", rr_type::tlsa).value();
  EXPECT_EQ(a.dnssec, dnssec_status::bogus);
  EXPECT_EQ(a.why_bogus, "signature expired");
}

TEST(DnsNames, EnumNames) {
  EXPECT_STREQ(to_string(rr_type::tlsa), "TLSA");
  EXPECT_STREQ(to_string(rcode::nodata), "NODATA");
  EXPECT_STREQ(to_string(dnssec_status::indeterminate), "indeterminate");
  EXPECT_EQ(error_code(errc::timeout).category().name(), std::string("otls.dns"));
}

TEST(UnboundForwarder, ParsesAddressAndPort) {
  EXPECT_EQ(to_unbound_forwarder("127.0.0.1"), "127.0.0.1@53");
  EXPECT_EQ(to_unbound_forwarder("127.0.0.2:5353"), "127.0.0.2@5353");
  EXPECT_EQ(to_unbound_forwarder("::1"), "::1@53");
  EXPECT_EQ(to_unbound_forwarder("[::1]:5353"), "::1@5353");
  EXPECT_EQ(to_unbound_forwarder("[::1]"), "::1@53");
  EXPECT_FALSE(to_unbound_forwarder("localhost"));
  EXPECT_FALSE(to_unbound_forwarder("127.0.0.1:"));
  EXPECT_FALSE(to_unbound_forwarder("127.0.0.1:0"));
  EXPECT_FALSE(to_unbound_forwarder("127.0.0.1:65536"));
  EXPECT_FALSE(to_unbound_forwarder("127.0.0.1:53x"));
  EXPECT_FALSE(to_unbound_forwarder("[::1"));
  EXPECT_FALSE(to_unbound_forwarder("[::1]x"));
  EXPECT_FALSE(to_unbound_forwarder(""));
}

unbound_options forward_to(std::string resolver, std::string anchor = {}) {
  unbound_options o;
  o.resolver = std::move(resolver);
  o.trust_anchor = std::move(anchor);
  return o;
}

TEST(UnboundResolver, BadConfigurationIsReportedAtCreation) {
  boost::asio::io_context io;
  EXPECT_EQ(unbound_resolver::create(io.get_executor(), forward_to("not-an-address")).error(),
            errc::bad_config);
  EXPECT_EQ(
      unbound_resolver::create(io.get_executor(), forward_to("127.0.0.1", "/nonexistent")).error(),
      errc::bad_config);
  EXPECT_TRUE(unbound_resolver::create(io.get_executor(), forward_to("127.0.0.1:5353")));
  // The defaults: /etc/resolv.conf and Debian's root anchor (dns-root-data).
  EXPECT_TRUE(unbound_resolver::create(io.get_executor(), {}));
}

TEST(UnboundResolver, RejectsInvalidQueryNamesWithoutAsking) {
  boost::asio::io_context io;
  auto r = unbound_resolver::create(io.get_executor(), forward_to("127.0.0.1:5353")).value();
  EXPECT_EQ(run(*r, "", rr_type::a).error(), errc::bad_name);
  EXPECT_EQ(run(*r, std::string("a\0b.test", 8), rr_type::a).error(), errc::bad_name);
  EXPECT_EQ(run(*r, std::string(300, 'a'), rr_type::a).error(), errc::bad_name);
}

TEST(TrustAnchorZones, OwnerNamesOfDsAndDnskeyRecords) {
  const auto path =
      std::string(::testing::TempDir()) + "/otls_anchor_" + std::to_string(::getpid()) + ".key";
  std::ofstream(path) << "; comment\n"
                         "example.test. 3600 IN DNSKEY 257 3 13 AAAA\n"
                         "Example.test. IN DS 1 13 2 ABCD\n"
                         "   ( continuation DNSKEY )\n"
                         "other.test IN DNSKEY 257 3 13 BBBB\n"
                         "$TTL 300\n"
                         "a.test. IN A 192.0.2.1\n";
  EXPECT_EQ(read_trust_anchor_zones(path),
            (std::vector<std::string>{"example.test.", "Example.test.", "other.test."}));
  std::remove(path.c_str());
  EXPECT_TRUE(read_trust_anchor_zones("/nonexistent/anchor.key").empty());
  EXPECT_EQ(read_trust_anchor_zones(default_root_anchor).front(), ".");
}

}  // namespace
}  // namespace otls::dns
