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
#include "otls/proto/dialect.hpp"
#include "otls/proto/pop3/response.hpp"

namespace otls::proto::pop3 {

class server final : public dialect {
 public:
  explicit server(server_options options);

  void feed(std::string_view bytes) override { lines_.feed(bytes); }
  void on_eof() override { eof_ = true; }
  action next() override;
  std::string take_leftover() override { return lines_.take_leftover(); }
  void on_tls_established() override;

  const session_facts& facts() const override { return facts_; }
  const diagnostics& diag() const override { return diag_; }

  bool tls_active() const { return tls_active_; }

 private:
  enum class state { greet, command, starttls_pending, closing, finished };

  action on_command(const std::string& line);
  action capa() const;
  action error_reply(std::string text);
  action close_with(std::string text, error_code ec);

  server_options options_;
  core::line_reader lines_;
  state state_ = state::greet;
  bool tls_active_;
  bool eof_ = false;
  unsigned errors_ = 0;
  error_code close_error_;
  session_facts facts_;
  diagnostics diag_;
};

}  // namespace otls::proto::pop3
