// LDAP client role as transcripts (RFC 4511 §4.14, RFC 4513 §3, RFC 4512 §5.1 root DSE), with
// replies shaped like OpenLDAP slapd 2.5's, plus a fail-count sweep at every server message.
#include "otls/proto/ldap/client.hpp"

#include <memory>

#include <gtest/gtest.h>

#include "dialect_harness.hpp"
#include "otls/proto/ldap/offer_stripper.hpp"
#include "otls/proto/ldap/server.hpp"
#include "transcript.hpp"

namespace otls::proto::ldap {
namespace {

using namespace std::string_literals;
using testing::transcript;

client_options opts(bool require_tls = true) {
  client_options o;
  o.require_tls = require_tls;
  return o;
}

std::string root_dse(std::int32_t id, std::vector<std::string> extensions) {
  search_entry e{"",
                 {{"supportedExtension", std::move(extensions)}, {"supportedLDAPVersion", {"3"}}}};
  return encode_search_entry(id, e) + encode_result(id, op::search_result_done, 0, "");
}
const std::string slapd_root_dse =
    root_dse(1, {std::string(starttls_oid), "1.3.6.1.4.1.4203.1.11.1", "1.3.6.1.4.1.4203.1.11.3"});
const std::string starttls_ok = encode_extended_response(2, result_code::success, "", starttls_oid);

transcript& to_starttls(transcript& t) {
  return t.expect_write(encode_root_dse_search(1, root_dse_attributes()))
      .expect_need_more()
      .feed(slapd_root_dse)
      .expect_write(encode_starttls_request(2))
      .expect_need_more();
}

TEST(LdapClient, FullUpgradeLikeSlapd) {
  client c(opts());
  transcript t(c);
  to_starttls(t)
      .feed(starttls_ok)
      .expect_start_tls("")
      .tls_established()
      .expect_write(encode_root_dse_search(3, root_dse_attributes()))
      .expect_need_more()
      .feed(root_dse(3, {"1.3.6.1.4.1.4203.1.11.1"}))
      .expect_write(encode_unbind(4))
      .expect_done();
  EXPECT_TRUE(c.facts().starttls_offered);
  EXPECT_TRUE(c.facts().starttls_accepted);
  EXPECT_FALSE(c.facts().ended_in_plaintext);
  EXPECT_EQ(c.facts().capabilities_before_tls,
            (std::vector<std::string>{"supportedExtension: 1.3.6.1.4.1.1466.20037",
                                      "supportedExtension: 1.3.6.1.4.1.4203.1.11.1",
                                      "supportedExtension: 1.3.6.1.4.1.4203.1.11.3",
                                      "supportedLDAPVersion: 3"}));
  // Rule 2: the post-TLS list comes from the fresh search only.
  EXPECT_EQ(c.facts().capabilities_after_tls,
            (std::vector<std::string>{"supportedExtension: 1.3.6.1.4.1.4203.1.11.1",
                                      "supportedLDAPVersion: 3"}));
}

TEST(LdapClient, MessagesSplitAtEveryByte) {
  client c(opts());
  transcript t(c);
  t.expect_write(encode_root_dse_search(1, root_dse_attributes()));
  for (std::size_t i = 0; i + 1 < slapd_root_dse.size(); ++i)
    t.feed(slapd_root_dse.substr(i, 1)).expect_need_more();
  t.feed(slapd_root_dse.substr(slapd_root_dse.size() - 1)).expect_write(encode_starttls_request(2));
}

TEST(LdapClient, ResponseInjectionIsLeftOver) {
  client c(opts());
  transcript t(c);
  const std::string injected = root_dse(3, {});
  to_starttls(t).feed(starttls_ok + injected).expect_start_tls(injected);
}

TEST(LdapClient, ProtocolErrorIsNotSupported) {
  client c(opts());
  transcript t(c);
  to_starttls(t)
      .feed(encode_extended_response(2, result_code::protocol_error,
                                     "unsupported extended operation"))
      .expect_write(encode_unbind(3))
      .expect_fail(errc::starttls_not_supported);
  EXPECT_EQ(c.diag().peer_text,
            std::vector<std::string>{"protocolError (2): unsupported extended operation"});
}

TEST(LdapClient, UnavailableIsRejectedByName) {
  client c(opts());
  transcript t(c);
  to_starttls(t)
      .feed(encode_extended_response(2, result_code::unavailable, "Could not initialize TLS"))
      .expect_write(encode_unbind(3))
      .expect_fail(errc::starttls_rejected);
  EXPECT_NE(c.diag().detail.find("unavailable (52): Could not initialize TLS"), std::string::npos)
      << c.diag().detail;
}

TEST(LdapClient, OperationsErrorAtMayContinuesInPlaintext) {
  client c(opts(false));
  transcript t(c);
  to_starttls(t)
      .feed(encode_extended_response(2, result_code::operations_error, "busy"))
      .expect_write(encode_unbind(3))
      .expect_done();
  EXPECT_TRUE(c.facts().ended_in_plaintext);
  ASSERT_FALSE(c.facts().warnings.empty());
  EXPECT_NE(c.facts().warnings.back().find("operationsError (1)"), std::string::npos);
}

TEST(LdapClient, RootDseWithoutTheOidIsNotSupported) {
  client c(opts());
  transcript(c)
      .expect_write(encode_root_dse_search(1, root_dse_attributes()))
      .feed(root_dse(1, {"1.3.6.1.4.1.4203.1.11.3"}))
      .expect_write(encode_unbind(2))
      .expect_fail(errc::starttls_not_supported);
  EXPECT_FALSE(c.facts().starttls_offered);
}

TEST(LdapClient, RefusedRootDseStillTriesStartTls) {
  client c(opts());
  transcript(c)
      .expect_write(encode_root_dse_search(1, root_dse_attributes()))
      .feed(encode_result(1, op::search_result_done, 50, "insufficient access"))
      .expect_write(encode_starttls_request(2))
      .feed(starttls_ok)
      .expect_start_tls();
  EXPECT_TRUE(c.facts().starttls_offered);
}

TEST(LdapClient, NoticeOfDisconnectionIsReportedByName) {
  client c(opts());
  transcript t(c);
  to_starttls(t)
      .feed(encode_extended_response(0, result_code::unavailable, "shutting down",
                                     notice_of_disconnection_oid))
      .expect_fail(errc::service_unavailable);
  EXPECT_NE(c.diag().detail.find("unavailable (52): shutting down"), std::string::npos);
}

TEST(LdapClient, WrongMessageIdIsUnexpected) {
  client c(opts());
  transcript t(c);
  to_starttls(t).feed(encode_extended_response(9, 0, "")).expect_fail(errc::unexpected_reply);
}

TEST(LdapClient, WrongResponseNameIsUnexpected) {
  client c(opts());
  transcript t(c);
  to_starttls(t)
      .feed(encode_extended_response(2, 0, "", "1.2.3.4"))
      .expect_fail(errc::unexpected_reply);
}

TEST(LdapClient, MalformedAndOversizedAndIndefinite) {
  for (const std::string& bad :
       {"\x30\x80\x02\x01\x02\x00\x00"s, "\x30\x84\x7f\x00\x00\x00"s, "garbage\r\n"s,
        ber::sequence(ber::integer(1) + ber::integer(1))}) {
    client c(opts());
    transcript t(c);
    t.expect_write(encode_root_dse_search(1, root_dse_attributes())).feed(bad);
    const auto a = c.next();
    EXPECT_EQ(a.what, action::kind::fail);
    EXPECT_TRUE(a.error == errc::malformed_reply || a.error == core::errc::buffer_limit)
        << a.error.message();
  }
}

TEST(LdapClient, CloseMidMessageIsUnexpectedClose) {
  client c(opts());
  transcript t(c);
  to_starttls(t).feed(starttls_ok.substr(0, 4)).eof().expect_fail(errc::unexpected_close);
}

TEST(LdapClient, ImplicitTlsReadsRootDseOnly) {
  client_options o = opts();
  o.implicit_tls = true;
  client c(o);
  transcript(c)
      .expect_write(encode_root_dse_search(1, root_dse_attributes()))
      .feed(root_dse(1, {}))
      .expect_write(encode_unbind(2))
      .expect_done();
  EXPECT_TRUE(c.facts().capabilities_before_tls.empty());
  EXPECT_FALSE(c.facts().capabilities_after_tls.empty());
}

TEST(LdapClient, FailCountSweep) {
  const std::vector<std::string> script{slapd_root_dse, starttls_ok, root_dse(3, {})};
  const std::vector<std::string> faults{
      "",
      "\x30\x80"s,
      encode_extended_response(0, 52, "bye", notice_of_disconnection_oid),
      encode_extended_response(2, 52, "unavailable"),
      encode_extended_response(2, 2, "protocolError"),
      "\x30\x84\x01\x00\x00\x00"s,
      slapd_root_dse.substr(0, 10),
  };
  testing::sweep_options o;
  o.leftover_ends_session = true;
  testing::fail_count_sweep([] { return std::make_unique<client>(opts()); }, script, faults, o);
}

TEST(LdapClient, AgainstOurServer) {
  testing::expect_no_offer_handled<client, server>(server_options{});
  offer_stripper stripper;
  testing::expect_stripper_is_caught<client, server>(stripper);
}

}  // namespace
}  // namespace otls::proto::ldap
