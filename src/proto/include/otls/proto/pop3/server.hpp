// POP3 server role with STLS (RFC 1939, RFC 2449 CAPA, RFC 2595 §4, RFC 3206 response codes):
// a probe and demo server without a mail store. Greeting, CAPA, STLS, NOOP, QUIT; every login
// (USER, PASS, APOP, AUTH) is refused.
//
// starttls_required: before TLS, CAPA advertises nothing usable for login (no USER, no SASL) and
// login commands get "-ERR [AUTH] Command not permitted without TLS". RFC 3206 §4 names an
// attempt "in violation of policy" an [AUTH] failure; Dovecot answers the same way. PLAIN is
// never advertised in plaintext (RFC 2595 §6); USER is, for old clients, unless TLS is required.
//
// Command lines end in CRLF or a bare LF: POP3 has no message body that could be smuggled, and
// hand-typed sessions (openssl s_client without -crlf, telnet) send LF. Dovecot accepts both.
#pragma once

#include "otls/core/line_reader.hpp"
#include "otls/proto/pop3/response.hpp"
#include "otls/proto/session_base.hpp"

namespace otls::proto::pop3 {

// Where a server session stands (see server_base for the shared states).
enum class server_state { greet, command, starttls_pending, closing, finished };

class server final : public server_base<server_state> {
 public:
  explicit server(server_options options);

  void feed(std::string_view bytes) override { lines_.feed(bytes); }
  action next() override;
  std::string take_leftover() override { return lines_.take_leftover(); }
  void on_tls_established() override;

 private:
  using state = server_state;

  std::string too_many_errors_reply(std::string refusal) const override;

  action on_command(const std::string& line);
  action capa() const;

  core::line_reader lines_;
};

}  // namespace otls::proto::pop3
