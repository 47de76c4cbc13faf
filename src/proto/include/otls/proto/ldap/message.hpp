// LDAPMessage framing, parsing and building for StartTLS (RFC 4511 §4.1.1, §4.2-4.5, §4.12,
// §4.14, Appendix A result codes; RFC 4513 §3; RFC 4512 §5.1 root DSE), over ber.hpp.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "otls/core/byte_buffer.hpp"
#include "otls/core/error.hpp"
#include "otls/proto/ldap/ber.hpp"

namespace otls::proto::ldap {

// RFC 4511 §4.14.1 / RFC 4513 §3.1.
inline constexpr std::string_view starttls_oid = "1.3.6.1.4.1.1466.20037";
// RFC 4511 §4.4.1: the Notice of Disconnection's responseName.
inline constexpr std::string_view notice_of_disconnection_oid = "1.3.6.1.4.1.1466.20036";

// protocolOp tags ([APPLICATION n], RFC 4511 §4.2-4.14).
enum class op : std::uint8_t {
  bind_request = 0,
  bind_response = 1,
  unbind_request = 2,
  search_request = 3,
  search_result_entry = 4,
  search_result_done = 5,
  modify_request = 6,
  modify_response = 7,
  add_request = 8,
  add_response = 9,
  del_request = 10,
  del_response = 11,
  moddn_request = 12,
  moddn_response = 13,
  compare_request = 14,
  compare_response = 15,
  abandon_request = 16,
  search_result_reference = 19,
  extended_request = 23,
  extended_response = 24,
  intermediate_response = 25,
};

// resultCode values used here (RFC 4511 Appendix A.2).
namespace result_code {
inline constexpr std::int32_t success = 0;
inline constexpr std::int32_t operations_error = 1;
inline constexpr std::int32_t protocol_error = 2;
inline constexpr std::int32_t no_such_object = 32;
inline constexpr std::int32_t unavailable = 52;
inline constexpr std::int32_t unwilling_to_perform = 53;
}  // namespace result_code

// "protocolError" for 2 (RFC 4511 Appendix A.2), "resultCode 4711" for unknown codes.
std::string result_code_name(std::int32_t code);

// One LDAPMessage: its messageID and its protocolOp, contents still encoded.
struct message {
  std::int32_t id = 0;
  ber::tag op_tag;         // [APPLICATION n]
  std::string op_content;  // the protocolOp's contents, still encoded
  std::string controls;    // the controls [0] TLV as received, if any
  std::string raw;         // the whole LDAPMessage as received

  bool is(ldap::op o) const { return op_tag.number == static_cast<std::uint8_t>(o); }
};

// Parses one complete LDAPMessage (a SEQUENCE TLV, nothing after it): messageID 0..maxInt,
// an [APPLICATION n] protocolOp, optional controls [0]. Errors: proto::errc::malformed_reply.
result<message> parse_message(std::string_view raw);

// LDAPResult (RFC 4511 §4.1.9) with the ExtendedResponse extras (§4.12).
struct ldap_result {
  std::int32_t code = 0;
  std::string matched_dn;
  std::string diagnostic_message;
  std::optional<std::string> response_name;  // [10] LDAPOID
  std::optional<std::string> response_value;

  std::string describe() const;  // "unavailable (52): <diagnosticMessage>"
};
result<ldap_result> parse_result(const message& m);

// ExtendedRequest (RFC 4511 §4.12): requestName [0], requestValue [1].
struct extended_request {
  std::string name;
  std::optional<std::string> value;
};
result<extended_request> parse_extended_request(const message& m);

// SearchResultEntry (RFC 4511 §4.5.2): objectName and attributes with their values.
struct search_entry {
  std::string dn;
  std::vector<std::pair<std::string, std::vector<std::string>>> attributes;

  // Values of an attribute, by case-insensitive description; nullptr when absent.
  const std::vector<std::string>* find(std::string_view type) const;
};
result<search_entry> parse_search_entry(const message& m);

// The parts of a SearchRequest (RFC 4511 §4.5.1) the server role looks at; the filter is
// checked to be one TLV and skipped.
struct search_request {
  std::string base;
  std::int32_t scope = 0;  // 0 baseObject, 1 singleLevel, 2 wholeSubtree
  std::vector<std::string> attributes;
};
result<search_request> parse_search_request(const message& m);

// BindRequest (RFC 4511 §4.2): version, name, and whether it is an anonymous simple bind.
struct bind_request {
  std::int32_t version = 0;
  std::string name;
  bool simple = false;
  bool empty_credentials = false;
};
result<bind_request> parse_bind_request(const message& m);

// Encoders.
// `controls`: an encoded controls [0] TLV to append, or nothing.
std::string encode_message(std::int32_t id, ber::tag op_tag, std::string_view op_content,
                           std::string_view controls = {});
std::string encode_starttls_request(std::int32_t id);
std::string encode_extended_response(std::int32_t id, std::int32_t code,
                                     std::string_view diagnostic,
                                     std::string_view response_name = {});
// LDAPResult-shaped responses (BindResponse, SearchResultDone, ModifyResponse, ...).
std::string encode_result(std::int32_t id, op response_op, std::int32_t code,
                          std::string_view diagnostic);
// The root DSE read (RFC 4512 §5.1): base "", scope baseObject, (objectClass=*), `attributes`.
std::string encode_root_dse_search(std::int32_t id, const std::vector<std::string>& attributes);
std::string encode_search_entry(std::int32_t id, const search_entry& e,
                                std::string_view controls = {});
std::string encode_unbind(std::int32_t id);

// Splits a byte stream into LDAPMessages, each bounded by ber::max_message; bytes beyond the
// message being read are kept (pipelining, or an injection the driver must see).
class message_reader {
 public:
  // Unread input beyond two maximal messages fails the reader (a client sends one request at a
  // time and a server a bounded burst).
  void feed(std::string_view bytes) {
    if (!core::append_bounded(buffer_, bytes, 2 * ber::max_message))
      failed_ = core::errc::buffer_limit;
  }
  // The next complete message, nullopt when more input is needed, or an error: malformed_reply
  // (not BER as LDAP uses it, or not an LDAPMessage), core::errc::buffer_limit (a message over
  // ber::max_message, or more unread input than two such messages).
  result<std::optional<message>> next();
  // Every byte received and not returned as a message; empties the reader.
  std::string take_leftover() { return std::exchange(buffer_, {}); }
  std::size_t buffered() const { return buffer_.size(); }

 private:
  std::string buffer_;
  error_code failed_;
};

}  // namespace otls::proto::ldap
