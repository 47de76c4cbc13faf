// LDAPMessage parsing and building (RFC 4511 §4.1-4.14, Appendix A; RFC 4512 §5.1).
#include "otls/proto/ldap/message.hpp"

#include <algorithm>
#include <array>
#include <cctype>

#include "otls/core/text.hpp"
#include "otls/proto/dialect.hpp"

namespace otls::proto::ldap {
namespace {

// Unwraps a result<T> inside a function returning result<U>.
#define OTLS_LDAP_TRY(var, expr) \
  auto var = (expr);             \
  if (!var) return var.error()

struct named_code {
  std::int32_t code;
  std::string_view name;
};

// RFC 4511 Appendix A.2, plus RFC 3909's cancel codes and RFC 4370's assertionFailed.
constexpr std::array result_names{
    named_code{0, "success"},
    named_code{1, "operationsError"},
    named_code{2, "protocolError"},
    named_code{3, "timeLimitExceeded"},
    named_code{4, "sizeLimitExceeded"},
    named_code{5, "compareFalse"},
    named_code{6, "compareTrue"},
    named_code{7, "authMethodNotSupported"},
    named_code{8, "strongerAuthRequired"},
    named_code{10, "referral"},
    named_code{11, "adminLimitExceeded"},
    named_code{12, "unavailableCriticalExtension"},
    named_code{13, "confidentialityRequired"},
    named_code{14, "saslBindInProgress"},
    named_code{16, "noSuchAttribute"},
    named_code{17, "undefinedAttributeType"},
    named_code{18, "inappropriateMatching"},
    named_code{19, "constraintViolation"},
    named_code{20, "attributeOrValueExists"},
    named_code{21, "invalidAttributeSyntax"},
    named_code{32, "noSuchObject"},
    named_code{33, "aliasProblem"},
    named_code{34, "invalidDNSyntax"},
    named_code{36, "aliasDereferencingProblem"},
    named_code{48, "inappropriateAuthentication"},
    named_code{49, "invalidCredentials"},
    named_code{50, "insufficientAccessRights"},
    named_code{51, "busy"},
    named_code{52, "unavailable"},
    named_code{53, "unwillingToPerform"},
    named_code{54, "loopDetect"},
    named_code{64, "namingViolation"},
    named_code{65, "objectClassViolation"},
    named_code{66, "notAllowedOnNonLeaf"},
    named_code{67, "notAllowedOnRDN"},
    named_code{68, "entryAlreadyExists"},
    named_code{69, "objectClassModsProhibited"},
    named_code{71, "affectsMultipleDSAs"},
    named_code{80, "other"},
    named_code{118, "canceled"},
    named_code{119, "noSuchOperation"},
    named_code{120, "tooLate"},
    named_code{121, "cannotCancel"},
    named_code{122, "assertionFailed"},
};

using core::iequals;

// Contents of a primitive OCTET STRING-like element (RFC 4511 §5.1: primitive form only).
result<std::string> string_of(const ber::element& e) {
  if (e.tag.constructed) return errc::malformed_reply;
  return std::string(e.content);
}

// A reader over a constructed protocolOp's contents, at depth 2 (LDAPMessage > protocolOp).
result<ber::reader> op_reader(const message& m) {
  if (!m.op_tag.constructed) return errc::malformed_reply;
  return ber::reader(m.op_content, 2);
}

}  // namespace

std::string result_code_name(std::int32_t code) {
  for (const auto& n : result_names)
    if (n.code == code) return std::string(n.name);
  return "resultCode " + std::to_string(code);
}

std::string ldap_result::describe() const {
  std::string out = result_code_name(code) + " (" + std::to_string(code) + ")";
  if (!diagnostic_message.empty()) out += ": " + diagnostic_message;
  return out;
}

const std::vector<std::string>* search_entry::find(std::string_view type) const {
  for (const auto& [name, values] : attributes)
    if (iequals(name, type)) return &values;
  return nullptr;
}

result<message> parse_message(std::string_view raw) {
  message m;
  ber::reader outer(raw);
  OTLS_LDAP_TRY(seq, outer.expect(ber::sequence_tag));
  if (!outer.at_end()) return errc::malformed_reply;
  OTLS_LDAP_TRY(body, outer.enter(*seq));
  OTLS_LDAP_TRY(id_element, body->expect(ber::integer_tag));
  OTLS_LDAP_TRY(id, ber::to_int(*id_element));
  m.id = *id;
  OTLS_LDAP_TRY(op_element, body->next());
  if (op_element->tag.cls != ber::tag_class::application) return errc::malformed_reply;
  m.op_tag = op_element->tag;
  m.op_content = std::string(op_element->content);
  // Controls (RFC 4511 §4.1.11) are allowed and ignored; nothing else may follow.
  OTLS_LDAP_TRY(controls, body->next_if(ber::context(0, true)));
  if (*controls) m.controls = std::string((*controls)->raw);
  if (!body->at_end()) return errc::malformed_reply;
  m.raw = std::string(raw);
  return m;
}

result<ldap_result> parse_result(const message& m) {
  OTLS_LDAP_TRY(r, op_reader(m));
  ldap_result out;
  OTLS_LDAP_TRY(code, r->expect(ber::enumerated_tag));
  OTLS_LDAP_TRY(code_value, ber::to_int(*code));
  out.code = *code_value;
  OTLS_LDAP_TRY(dn, r->expect(ber::octet_string_tag));
  out.matched_dn = std::string(dn->content);
  OTLS_LDAP_TRY(diag, r->expect(ber::octet_string_tag));
  out.diagnostic_message = std::string(diag->content);
  // referral [3] (§4.1.10), then the operation's own fields: responseName [10] and
  // responseValue [11] for an ExtendedResponse, serverSaslCreds [7] for a BindResponse.
  while (!r->at_end()) {
    OTLS_LDAP_TRY(e, r->next());
    if (e->tag.cls != ber::tag_class::context) return errc::malformed_reply;
    if (e->tag.number == 10) {
      OTLS_LDAP_TRY(s, string_of(*e));
      out.response_name = *s;
    } else if (e->tag.number == 11) {
      OTLS_LDAP_TRY(s, string_of(*e));
      out.response_value = *s;
    }
  }
  return out;
}

result<extended_request> parse_extended_request(const message& m) {
  if (!m.is(op::extended_request)) return errc::malformed_reply;
  OTLS_LDAP_TRY(r, op_reader(m));
  OTLS_LDAP_TRY(name, r->expect(ber::context(0, false)));
  extended_request out{std::string(name->content), std::nullopt};
  OTLS_LDAP_TRY(value, r->next_if(ber::context(1, false)));
  if (*value) out.value = std::string((*value)->content);
  if (!r->at_end()) return errc::malformed_reply;
  return out;
}

result<search_entry> parse_search_entry(const message& m) {
  if (!m.is(op::search_result_entry)) return errc::malformed_reply;
  OTLS_LDAP_TRY(r, op_reader(m));
  search_entry out;
  OTLS_LDAP_TRY(dn, r->expect(ber::octet_string_tag));
  out.dn = std::string(dn->content);
  OTLS_LDAP_TRY(list, r->expect(ber::sequence_tag));
  if (!r->at_end()) return errc::malformed_reply;
  OTLS_LDAP_TRY(attrs, r->enter(*list));
  while (!attrs->at_end()) {
    OTLS_LDAP_TRY(attr, attrs->expect(ber::sequence_tag));
    OTLS_LDAP_TRY(a, attrs->enter(*attr));
    OTLS_LDAP_TRY(type, a->expect(ber::octet_string_tag));
    OTLS_LDAP_TRY(vals, a->expect(ber::set_tag));
    if (!a->at_end()) return errc::malformed_reply;
    OTLS_LDAP_TRY(v, a->enter(*vals));
    std::vector<std::string> values;
    while (!v->at_end()) {
      OTLS_LDAP_TRY(value, v->expect(ber::octet_string_tag));
      values.emplace_back(value->content);
    }
    out.attributes.emplace_back(std::string(type->content), std::move(values));
  }
  return out;
}

result<search_request> parse_search_request(const message& m) {
  if (!m.is(op::search_request)) return errc::malformed_reply;
  OTLS_LDAP_TRY(r, op_reader(m));
  search_request out;
  OTLS_LDAP_TRY(base, r->expect(ber::octet_string_tag));
  out.base = std::string(base->content);
  OTLS_LDAP_TRY(scope, r->expect(ber::enumerated_tag));
  OTLS_LDAP_TRY(scope_value, ber::to_int(*scope));
  out.scope = *scope_value;
  OTLS_LDAP_TRY(deref, r->expect(ber::enumerated_tag));
  OTLS_LDAP_TRY(size_limit, r->expect(ber::integer_tag));
  OTLS_LDAP_TRY(time_limit, r->expect(ber::integer_tag));
  OTLS_LDAP_TRY(types_only, r->expect(ber::boolean_tag));
  OTLS_LDAP_TRY(types_only_value, ber::to_bool(*types_only));
  OTLS_LDAP_TRY(filter, r->next());
  if (filter->tag.cls != ber::tag_class::context) return errc::malformed_reply;
  OTLS_LDAP_TRY(attrs, r->expect(ber::sequence_tag));
  if (!r->at_end()) return errc::malformed_reply;
  OTLS_LDAP_TRY(a, r->enter(*attrs));
  while (!a->at_end()) {
    OTLS_LDAP_TRY(name, a->expect(ber::octet_string_tag));
    out.attributes.emplace_back(name->content);
  }
  return out;
}

result<bind_request> parse_bind_request(const message& m) {
  if (!m.is(op::bind_request)) return errc::malformed_reply;
  OTLS_LDAP_TRY(r, op_reader(m));
  bind_request out;
  OTLS_LDAP_TRY(version, r->expect(ber::integer_tag));
  OTLS_LDAP_TRY(version_value, ber::to_int(*version));
  out.version = *version_value;
  OTLS_LDAP_TRY(name, r->expect(ber::octet_string_tag));
  out.name = std::string(name->content);
  OTLS_LDAP_TRY(auth, r->next());
  if (auth->tag.cls != ber::tag_class::context) return errc::malformed_reply;
  out.simple = auth->tag == ber::context(0, false);
  out.empty_credentials = out.simple && auth->content.empty();
  if (!r->at_end()) return errc::malformed_reply;
  return out;
}

std::string encode_message(std::int32_t id, ber::tag op_tag, std::string_view op_content,
                           std::string_view controls) {
  return ber::sequence(ber::integer(id) + ber::tlv(op_tag, op_content) + std::string(controls));
}

std::string encode_starttls_request(std::int32_t id) {
  return encode_message(id, ber::application(23, true),
                        ber::octet_string(starttls_oid, ber::context(0, false)));
}

std::string encode_extended_response(std::int32_t id, std::int32_t code,
                                     std::string_view diagnostic, std::string_view response_name) {
  std::string content =
      ber::enumerated(code) + ber::octet_string("") + ber::octet_string(diagnostic);
  if (!response_name.empty()) content += ber::octet_string(response_name, ber::context(10, false));
  return encode_message(id, ber::application(24, true), content);
}

std::string encode_result(std::int32_t id, op response_op, std::int32_t code,
                          std::string_view diagnostic) {
  return encode_message(
      id, ber::application(static_cast<std::uint8_t>(response_op), true),
      ber::enumerated(code) + ber::octet_string("") + ber::octet_string(diagnostic));
}

std::string encode_root_dse_search(std::int32_t id, const std::vector<std::string>& attributes) {
  std::string attrs;
  for (const auto& a : attributes) attrs += ber::octet_string(a);
  const std::string content =
      ber::octet_string("") + ber::enumerated(0) /* baseObject */ +
      ber::enumerated(0) /* neverDerefAliases */ + ber::integer(0) + ber::integer(0) +
      ber::tlv(ber::boolean_tag, std::string(1, '\0')) +
      ber::octet_string("objectClass", ber::context(7, false)) /* present */ + ber::sequence(attrs);
  return encode_message(id, ber::application(3, true), content);
}

std::string encode_search_entry(std::int32_t id, const search_entry& e, std::string_view controls) {
  std::string attrs;
  for (const auto& [type, values] : e.attributes) {
    std::string vals;
    for (const auto& v : values) vals += ber::octet_string(v);
    attrs += ber::sequence(ber::octet_string(type) + ber::tlv(ber::set_tag, vals));
  }
  return encode_message(id, ber::application(4, true),
                        ber::octet_string(e.dn) + ber::sequence(attrs), controls);
}

std::string encode_unbind(std::int32_t id) {
  return encode_message(id, ber::application(2, false), "");
}

result<std::optional<message>> message_reader::next() {
  if (failed_) return failed_;
  // Every LDAPMessage is a universal SEQUENCE (0x30): anything else (a banner from another
  // protocol, an HTTP request) is refused at its first byte rather than waited on.
  if (!buffer_.empty() && static_cast<std::uint8_t>(buffer_[0]) != ber::sequence_tag.identifier())
    return failed_ = errc::malformed_reply;
  ber::header h;
  switch (ber::read_header(buffer_, h)) {
    case ber::header_status::need_more:
      return std::optional<message>{};
    case ber::header_status::malformed:
      return failed_ = errc::malformed_reply;
    case ber::header_status::too_big:
      return failed_ = core::errc::buffer_limit;
    case ber::header_status::complete:
      break;
  }
  if (h.tag != ber::sequence_tag) return failed_ = errc::malformed_reply;
  const std::size_t total = h.header_size + h.content_size;
  auto m = parse_message(std::string_view(buffer_).substr(0, total));
  if (!m) return failed_ = m.error();
  buffer_.erase(0, total);
  return std::optional<message>{std::move(*m)};
}

}  // namespace otls::proto::ldap
