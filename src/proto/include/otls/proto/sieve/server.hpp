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

#include "otls/proto/dialect.hpp"
#include "otls/proto/sieve/syntax.hpp"

namespace otls::proto::sieve {

class server final : public dialect {
 public:
  explicit server(server_options options);

  void feed(std::string_view bytes) override { tokens_.feed(bytes); }
  void on_eof() override { eof_ = true; }
  action next() override;
  std::string take_leftover() override { return tokens_.take_leftover(); }
  void on_tls_established() override;

  const session_facts& facts() const override { return facts_; }
  const diagnostics& diag() const override { return diag_; }

  bool tls_active() const { return tls_active_; }

 private:
  enum class state { greet, command, starttls_pending, capabilities_due, closing, finished };

  action on_command(const std::vector<token>& tokens);
  std::string capability_list() const;
  action error_reply(std::string line);
  action close_with(std::string line, error_code ec);

  server_options options_;
  tokenizer tokens_;
  state state_ = state::greet;
  bool tls_active_;
  bool eof_ = false;
  unsigned errors_ = 0;
  error_code close_error_;
  session_facts facts_;
  diagnostics diag_;
};

}  // namespace otls::proto::sieve
