// LDAP server role as transcripts (RFC 4511 §4.14, RFC 4513 §3): StartTLS success, pipelined
// bytes discarded, protocolError for unknown extended operations, operationsError for a second
// StartTLS, unbind, malformed and oversized input, the error limit.
#include "otls/proto/ldap/server.hpp"

#include <gtest/gtest.h>

#include "transcript.hpp"

namespace otls::proto::ldap {
namespace {

using namespace std::string_literals;
using testing::transcript;

std::string extended(std::int32_t id, std::string_view oid) {
  return encode_message(id, ber::application(23, true),
                        ber::octet_string(oid, ber::context(0, false)));
}

TEST(LdapServer, StartTlsThenRootDseInsideTls) {
  server s(server_options{});
  transcript t(s);
  t.expect_need_more()
      .feed(encode_starttls_request(1))
      .expect_write(encode_extended_response(1, 0, "", starttls_oid))
      .expect_start_tls("")
      .tls_established()
      .expect_need_more()
      .feed(encode_root_dse_search(2, {"supportedExtension"}))
      .expect_write_containing("otls")
      .expect_need_more()
      .feed(encode_unbind(3))
      .expect_done();
  // No StartTLS offered inside TLS.
  EXPECT_EQ(t.last_write().find(starttls_oid), std::string::npos);
}

TEST(LdapServer, RootDseOffersStartTlsBeforeTls) {
  server s(server_options{});
  transcript(s)
      .feed(encode_root_dse_search(1, {"supportedExtension"}))
      .expect_write_containing(std::string(starttls_oid));
}

TEST(LdapServer, PipelinedBytesAfterStartTlsAreLeftOverForTheDriverToDiscard) {
  server s(server_options{});
  const std::string smuggled = encode_root_dse_search(2, {}) + "\x30\x05"s;
  transcript(s)
      .feed(encode_starttls_request(1) + smuggled)
      .expect_write(encode_extended_response(1, 0, "", starttls_oid))
      .expect_start_tls(smuggled)
      .tls_established()
      .expect_need_more();  // nothing answered from before TLS
}

TEST(LdapServer, UnknownExtendedOperationIsProtocolError) {
  server s(server_options{});
  transcript(s)
      .feed(extended(1, "1.3.6.1.4.1.4203.1.11.3"))
      .expect_write(encode_extended_response(1, result_code::protocol_error,
                                             "unsupported extended operation"))
      .expect_need_more();
}

TEST(LdapServer, SecondStartTlsIsOperationsError) {
  server s(server_options{});
  transcript(s)
      .feed(encode_starttls_request(1))
      .expect_write(encode_extended_response(1, 0, "", starttls_oid))
      .expect_start_tls()
      .tls_established()
      .feed(encode_starttls_request(2))
      .expect_write(
          encode_extended_response(2, result_code::operations_error, "TLS already started"));
}

TEST(LdapServer, WithoutTlsStartTlsIsProtocolError) {
  server_options o;
  o.tls_available = false;
  server s(o);
  transcript(s)
      .feed(encode_starttls_request(1))
      .expect_write(encode_extended_response(1, result_code::protocol_error,
                                             "unsupported extended operation"));
}

TEST(LdapServer, AnonymousBindSucceedsOthersFail) {
  server s(server_options{});
  const std::string anon = encode_message(
      1, ber::application(0, true),
      ber::integer(3) + ber::octet_string("") + ber::octet_string("", ber::context(0, false)));
  const std::string with_password =
      encode_message(2, ber::application(0, true),
                     ber::integer(3) + ber::octet_string("cn=x") +
                         ber::octet_string("pw", ber::context(0, false)));
  transcript(s)
      .feed(anon)
      .expect_write(encode_result(1, op::bind_response, 0, ""))
      .feed(with_password)
      .expect_write_containing("only anonymous binds");
}

TEST(LdapServer, MalformedIndefiniteAndOversizedDisconnect) {
  for (const auto& [bad, ec] : std::vector<std::pair<std::string, error_code>>{
           {"\x30\x80\x02\x01\x01\x42\x00\x00\x00"s, errc::malformed_reply},
           {"\x30\x84\x00\x10\x00\x00"s, core::errc::buffer_limit},
           {"GET / HTTP/1.1\r\n"s, errc::malformed_reply},
           {ber::sequence(ber::integer(0) + "\x42\x00"s), errc::malformed_reply}}) {
    server s(server_options{});
    transcript(s)
        .feed(bad)
        .expect_write_containing(std::string(notice_of_disconnection_oid))
        .expect_fail(ec);
  }
}

TEST(LdapServer, TooManyErrorsDisconnects) {
  server_options o;
  o.max_errors = 3;
  server s(o);
  transcript t(s);
  t.feed(extended(1, "1.2.3")).expect_write_containing("unsupported");
  t.feed(extended(2, "1.2.3")).expect_write_containing("unsupported");
  t.feed(extended(3, "1.2.3"))
      .expect_write_containing(std::string(notice_of_disconnection_oid))
      .expect_fail(errc::too_many_errors);
}

TEST(LdapServer, CloseMidMessageFails) {
  server s(server_options{});
  transcript(s)
      .feed(encode_starttls_request(1).substr(0, 5))
      .eof()
      .expect_fail(errc::unexpected_close);
}

TEST(LdapServer, CloseBetweenMessagesIsClean) {
  server s(server_options{});
  transcript(s).expect_need_more().eof().expect_done();
}

}  // namespace
}  // namespace otls::proto::ldap
