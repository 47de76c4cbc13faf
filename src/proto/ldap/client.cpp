// LDAP client role through StartTLS (RFC 4511 §4.1.1, §4.4.1, §4.14; RFC 4513 §3.1; RFC 4512
// §5.1).
#include "otls/proto/ldap/client.hpp"

#include <utility>

namespace otls::proto::ldap {

const std::vector<std::string>& root_dse_attributes() {
  static const std::vector<std::string> attrs{"supportedExtension", "supportedSASLMechanisms",
                                              "supportedLDAPVersion", "vendorName",
                                              "vendorVersion"};
  return attrs;
}

client::client(client_options options) : client_base(std::move(options)) {}

action client::fail_with(error_code ec, std::string detail, const std::vector<std::string>& peer) {
  diag_.detail = std::move(detail);
  if (!peer.empty()) diag_.set_peer(peer);
  return fail(ec, nullptr);
}

action client::send_root_dse_search(state then) {
  state_ = then;
  root_dse_answered_ = false;
  root_dse_lines_.clear();
  outstanding_id_ = next_id_++;
  return action::write(encode_root_dse_search(outstanding_id_, root_dse_attributes()));
}

action client::next() {
  if (auto a = before_reading()) return std::move(*a);
  // An UnbindRequest has no response (RFC 4511 §4.3): the session ends once it is out.
  if (saying_goodbye()) return goodbye_answered();
  if (state_ == state::greeting)
    return send_root_dse_search(tls_active_ ? state::root_dse_after_tls : state::root_dse);
  for (;;) {
    auto m = messages_.next();
    if (!m) {
      return fail_with(m.error(),
                       m.error() == errc::malformed_reply
                           ? "the server sent something that is not an LDAP message"
                           : "unreadable response from the server: " + m.error().message());
    }
    if (!*m) return out_of_input(messages_.buffered() > 0, "LDAP message");
    // need_more from a handler means "read on": the next buffered message, else the network.
    action a = on_message(**m);
    if (a.what != action::kind::need_more) return a;
  }
}

action client::on_message(const message& m) {
  // A Notice of Disconnection (RFC 4511 §4.4.1): messageID 0, an ExtendedResponse; the server
  // closes right after it.
  if (m.id == 0) {
    auto r =
        m.is(op::extended_response) ? parse_result(m) : result<ldap_result>(errc::malformed_reply);
    if (!r)
      return fail_with(errc::unexpected_reply,
                       "the server sent an unsolicited message that is not "
                       "a Notice of Disconnection");
    return fail_with(errc::service_unavailable,
                     "the server disconnected (Notice of Disconnection): " + r->describe(),
                     {r->describe()});
  }
  if (m.id != outstanding_id_)
    return fail_with(errc::unexpected_reply, "the server answered messageID " +
                                                 std::to_string(m.id) + ", but " +
                                                 std::to_string(outstanding_id_) + " was asked");
  switch (state_) {
    case state::root_dse:
    case state::root_dse_after_tls:
      return on_root_dse(m);
    case state::starttls: {
      if (!m.is(op::extended_response))
        return fail_with(errc::unexpected_reply,
                         "the server answered StartTLS with something other than an "
                         "ExtendedResponse ([APPLICATION " +
                             std::to_string(m.op_tag.number) + "])");
      auto r = parse_result(m);
      if (!r) return fail_with(errc::malformed_reply, "the server's ExtendedResponse is malformed");
      return on_starttls_response(*r);
    }
    default:
      break;
  }
  return fail_with(errc::unexpected_reply, "an LDAP message where none was expected");
}

action client::on_root_dse(const message& m) {
  if (m.is(op::search_result_reference)) return action::need_more();  // referrals not followed
  if (m.is(op::search_result_entry)) {
    auto e = parse_search_entry(m);
    if (!e) return fail_with(errc::malformed_reply, "the server's root DSE entry is malformed");
    // A root DSE search returns one entry (RFC 4512 §5.1); a second one is not the root DSE.
    if (root_dse_answered_ || !e->dn.empty())
      return fail_with(errc::unexpected_reply, "the root DSE search returned an entry named '" +
                                                   e->dn + "' or more than one entry");
    root_dse_answered_ = true;
    for (const auto& [type, values] : e->attributes)
      for (const auto& v : values) root_dse_lines_.push_back(type + ": " + v);
    if (!tls_active_) {
      if (const auto* ext = e->find("supportedExtension")) {
        extensions_listed_ = true;
        for (const auto& v : *ext) facts_.starttls_offered |= v == starttls_oid;
      }
    }
    // LDAP has no greeting; the vendor attributes (RFC 3045) are the closest thing to one.
    if (facts_.banner.empty()) {
      for (const auto& [type, values] : e->attributes) {
        if ((type == "vendorName" || type == "vendorVersion") && !values.empty())
          facts_.banner.push_back(type + ": " + values.front());
      }
    }
    return action::need_more();  // read on: SearchResultDone follows
  }
  if (!m.is(op::search_result_done))
    return fail_with(errc::unexpected_reply,
                     "the server answered the root DSE search with "
                     "[APPLICATION " +
                         std::to_string(m.op_tag.number) + "]");
  auto done = parse_result(m);
  if (!done) return fail_with(errc::malformed_reply, "the server's SearchResultDone is malformed");
  // A refused root DSE read (e.g. an ACL) leaves the capabilities unknown, not the session
  // failed: StartTLS itself is what tells.
  record_capabilities(root_dse_lines_);
  if (done->code != result_code::success)
    facts_.warnings.push_back("the root DSE search " +
                              std::string(tls_active_ ? "after" : "before") +
                              " TLS was refused: " + done->describe());
  return after_root_dse();
}

action client::after_root_dse() {
  if (tls_active_) return goodbye();
  if (extensions_listed_ && !facts_.starttls_offered) {
    // The root DSE names its extended operations and StartTLS is not among them: a server
    // without it, or an attacker who removed it (RFC 4513 §3.1.5 is about the response; the
    // list is the offer).
    diag_.detail = "the root DSE's supportedExtension does not list StartTLS (" +
                   std::string(starttls_oid) + ")";
    if (options_.require_tls) return goodbye_and_fail(errc::starttls_not_supported, nullptr);
    return continue_in_plaintext(diag_.detail + ": the session continued in PLAINTEXT");
  }
  state_ = state::starttls;
  outstanding_id_ = next_id_++;
  return action::write(encode_starttls_request(outstanding_id_));
}

action client::on_starttls_response(const ldap_result& r) {
  if (r.code == result_code::success) {
    // RFC 4511 §4.14.2: responseName, when present, is the StartTLS OID.
    if (r.response_name && *r.response_name != starttls_oid)
      return fail_with(errc::unexpected_reply,
                       "the StartTLS response names another operation: " + *r.response_name,
                       {r.describe()});
    facts_.starttls_offered = true;  // accepted, hence offered in effect
    return go_ahead();
  }
  diag_.set_peer({r.describe()});
  // protocolError is what a server answers to an extended operation it does not know (RFC 4511
  // §4.12): StartTLS is not there. Anything else is a refusal with a reason.
  const bool unknown = r.code == result_code::protocol_error;
  diag_.detail = unknown ? "the server does not support StartTLS: " + r.describe()
                         : "the server refused StartTLS: " + r.describe();
  const error_code ec = unknown ? errc::starttls_not_supported : errc::starttls_rejected;
  if (options_.require_tls) return goodbye_and_fail(ec, nullptr);
  return continue_in_plaintext("StartTLS " + std::string(unknown ? "not supported" : "refused") +
                               " (" + r.describe() + "): the session continued in PLAINTEXT");
}

void client::on_tls_established() {
  // RFC 4513 §3.1.5 and DESIGN.md rule 2: what the root DSE said in plaintext is not reused; a
  // fresh reader starts inside TLS and the root DSE is read again.
  messages_ = message_reader{};
  restart_after_tls(state::greeting);
}

}  // namespace otls::proto::ldap
