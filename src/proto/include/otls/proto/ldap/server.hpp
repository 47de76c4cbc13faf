// LDAP server role with StartTLS (RFC 4511 §4.14, RFC 4513 §3; RFC 4512 §5.1 root DSE): a probe
// and demo server without a directory. It answers the root DSE, anonymous binds, StartTLS and
// unbind; other operations are refused with unwillingToPerform, unknown extended operations
// with protocolError, a second StartTLS with operationsError (RFC 4511 §4.14.1).
#pragma once

#include <string>

#include "otls/proto/ldap/message.hpp"
#include "otls/proto/session_base.hpp"

namespace otls::proto::ldap {

// Where a server session stands (see server_base for the shared states).
enum class server_state { greet, command, starttls_pending, closing, finished };

class server final : public server_base<server_state> {
 public:
  explicit server(server_options options);

  void feed(std::string_view bytes) override { messages_.feed(bytes); }
  action next() override;
  std::string take_leftover() override { return messages_.take_leftover(); }
  void on_tls_established() override;

 private:
  using state = server_state;

  // Never a line: LDAP closes with a Notice of Disconnection, sent by disconnect().
  std::string too_many_errors_reply(std::string refusal) const override { return refusal; }

  action on_request(const message& m);
  action on_search(const message& m);
  action on_bind(const message& m);
  action on_extended(const message& m);
  // A refusal counted against options.max_errors; the one that reaches it disconnects.
  action refuse(std::string response);
  // Notice of Disconnection (RFC 4511 §4.4.1) with `code`, then close with `ec`.
  action disconnect(std::int32_t code, std::string text, error_code ec);

  message_reader messages_;
};

}  // namespace otls::proto::ldap
