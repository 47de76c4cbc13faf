// LDAP server role with StartTLS (RFC 4511 §4.2-4.5, §4.12, §4.14; RFC 4513 §3; RFC 4512 §5.1).
#include "otls/proto/ldap/server.hpp"

#include <utility>

namespace otls::proto::ldap {

server::server(server_options options) : server_base(std::move(options)) {
  // LDAP has no greeting: the client speaks first.
  state_ = state::command;
}

action server::disconnect(std::int32_t code, std::string text, error_code ec) {
  close_error_ = ec;
  state_ = state::closing;
  return action::write(encode_extended_response(0, code, text, notice_of_disconnection_oid));
}

action server::refuse(std::string response) {
  if (++errors_ >= options_.max_errors) {
    diag_.detail = "too many errors from the client";
    return disconnect(result_code::unwilling_to_perform, "too many errors", errc::too_many_errors);
  }
  return action::write(std::move(response));
}

action server::next() {
  if (auto early = before_reading(state::command, [] { return std::string(); }))
    return std::move(*early);
  for (;;) {
    auto m = messages_.next();
    if (!m) {
      // RFC 4511 §4.1.1: a PDU that cannot be parsed ends the session with a Notice of
      // Disconnection carrying protocolError.
      diag_.detail = m.error() == errc::malformed_reply
                         ? "the client sent something that is not an LDAP message"
                         : "the client sent too much: " + m.error().message();
      return disconnect(result_code::protocol_error, "malformed or oversized LDAP message",
                        m.error());
    }
    if (!*m) return out_of_input(messages_.buffered() > 0);
    // need_more from a handler means "read on": the next buffered request, else the network.
    action a = on_request(**m);
    if (a.what != action::kind::need_more) return a;
  }
}

action server::on_request(const message& m) {
  // messageID 0 is reserved for unsolicited notifications (RFC 4511 §4.1.1.1).
  if (m.id == 0) {
    diag_.detail = "the client used messageID 0";
    return disconnect(result_code::protocol_error, "messageID 0 is reserved",
                      errc::malformed_reply);
  }
  switch (static_cast<op>(m.op_tag.number)) {
    case op::unbind_request:
      // RFC 4511 §4.3: no response; the connection closes.
      state_ = state::finished;
      return action::done();
    case op::abandon_request:
      return action::need_more();  // nothing is outstanding (RFC 4511 §4.11: no response)
    case op::extended_request:
      return on_extended(m);
    case op::search_request:
      return on_search(m);
    case op::bind_request:
      return on_bind(m);
    case op::modify_request:
    case op::add_request:
    case op::del_request:
    case op::moddn_request:
    case op::compare_request:
      return refuse(encode_result(m.id, static_cast<op>(m.op_tag.number + 1),
                                  result_code::unwilling_to_perform,
                                  "this server has no directory"));
    default:
      break;
  }
  diag_.detail = "the client sent an operation that is not a request: [APPLICATION " +
                 std::to_string(m.op_tag.number) + "]";
  return disconnect(result_code::protocol_error, "unknown operation", errc::malformed_reply);
}

action server::on_extended(const message& m) {
  auto req = parse_extended_request(m);
  if (!req) {
    diag_.detail = "malformed ExtendedRequest";
    return disconnect(result_code::protocol_error, "malformed ExtendedRequest",
                      errc::malformed_reply);
  }
  if (req->name != starttls_oid)
    return refuse(encode_extended_response(m.id, result_code::protocol_error,
                                           "unsupported extended operation"));
  // RFC 4511 §4.14.1: the request has no value.
  if (req->value)
    return refuse(encode_extended_response(m.id, result_code::protocol_error,
                                           "StartTLS takes no requestValue"));
  if (tls_active_)
    return refuse(
        encode_extended_response(m.id, result_code::operations_error, "TLS already started"));
  // Without TLS this server is one that does not know StartTLS: the same answer as to any
  // unknown extended operation (RFC 4511 §4.12), and no supportedExtension to offer it.
  if (!options_.tls_available)
    return refuse(encode_extended_response(m.id, result_code::protocol_error,
                                           "unsupported extended operation"));
  // DESIGN.md rule 3: the success response goes out first; the driver then upgrades and
  // discards whatever the client pipelined behind the request (RFC 4511 §4.14.1 forbids it).
  state_ = state::starttls_pending;
  return action::write(encode_extended_response(m.id, result_code::success, "", starttls_oid));
}

action server::on_search(const message& m) {
  auto req = parse_search_request(m);
  if (!req) {
    diag_.detail = "malformed SearchRequest";
    return disconnect(result_code::protocol_error, "malformed SearchRequest",
                      errc::malformed_reply);
  }
  if (!req->base.empty() || req->scope != 0)
    return action::write(encode_result(m.id, op::search_result_done, result_code::no_such_object,
                                       "this server has only the root DSE"));
  // The root DSE (RFC 4512 §5.1): StartTLS is listed only where it can work.
  search_entry root;
  if (options_.tls_available && !tls_active_)
    root.attributes.emplace_back("supportedExtension",
                                 std::vector<std::string>{std::string(starttls_oid)});
  root.attributes.emplace_back("supportedLDAPVersion", std::vector<std::string>{"3"});
  root.attributes.emplace_back("vendorName", std::vector<std::string>{"otls"});
  return action::write(encode_search_entry(m.id, root) +
                       encode_result(m.id, op::search_result_done, result_code::success, ""));
}

action server::on_bind(const message& m) {
  auto req = parse_bind_request(m);
  if (!req) {
    diag_.detail = "malformed BindRequest";
    return disconnect(result_code::protocol_error, "malformed BindRequest", errc::malformed_reply);
  }
  // Anonymous simple binds succeed (RFC 4513 §5.1.1); there is no directory to check
  // credentials against. Before TLS on a server that requires it, nothing but StartTLS works.
  if (options_.starttls_required && !tls_active_)
    return refuse(encode_result(m.id, op::bind_response, 13 /* confidentialityRequired */,
                                "TLS is required"));
  if (req->version == 3 && req->simple && req->empty_credentials)
    return action::write(encode_result(m.id, op::bind_response, result_code::success, ""));
  return refuse(encode_result(m.id, op::bind_response, 49 /* invalidCredentials */,
                              "no directory: only anonymous binds"));
}

void server::on_tls_established() {
  // RFC 4513 §3.1.5: the session continues inside TLS; nothing read before it is used.
  tls_active_ = true;
  messages_ = message_reader{};
  state_ = state::command;
}

}  // namespace otls::proto::ldap
