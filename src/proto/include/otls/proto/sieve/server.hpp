// ManageSieve server role with STARTTLS (RFC 5804): a probe and demo server without a script
// store. Greeting capability list, CAPABILITY, STARTTLS (then the capability list again,
// unasked, §2.2), NOOP (with its TAG, §2.12), LOGOUT; AUTHENTICATE is always refused, and every
// script command needs a login that never happens.
//
// SASL is advertised empty before TLS whenever STARTTLS is offered (§1.7 allows an empty list
// exactly then; RFC 2595 §6 keeps PLAIN off cleartext); "PLAIN" appears inside TLS, or when no
// TLS is available at all and TLS is not required. starttls_required answers AUTHENTICATE before
// TLS with NO (ENCRYPT-NEEDED) (§1.3). Commands are read with the same tokenizer as responses,
// so literals {n+} are framed correctly and their octets are never taken for commands.
#pragma once

#include "otls/proto/session_base.hpp"
#include "otls/proto/sieve/syntax.hpp"

namespace otls::proto::sieve {

// Where a server session stands (see server_base for the shared states).
enum class server_state { greet, command, starttls_pending, capabilities_due, closing, finished };

class server final : public server_base<server_state> {
 public:
  explicit server(server_options options);

  void feed(std::string_view bytes) override { tokens_.feed(bytes); }
  action next() override;
  std::string take_leftover() override { return tokens_.take_leftover(); }
  void on_tls_established() override;

 private:
  using state = server_state;

  std::string too_many_errors_reply(std::string refusal) const override;

  action on_command(const std::vector<token>& tokens);
  std::string capability_list() const;

  tokenizer tokens_;
};

}  // namespace otls::proto::sieve
