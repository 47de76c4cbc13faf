// ManageSieve client role up to and through STARTTLS (RFC 5804 §1.7, §2.2, §2.3): capabilities
// from the greeting, STARTTLS, the capabilities the server re-sends unasked after TLS, LOGOUT.
// Sans-I/O.
#pragma once

#include "otls/proto/dialect.hpp"
#include "otls/proto/sieve/syntax.hpp"

namespace otls::proto::sieve {

class client final : public dialect {
 public:
  explicit client(client_options options);

  void feed(std::string_view bytes) override { responses_.feed(bytes); }
  void on_eof() override { eof_ = true; }
  action next() override;
  std::string take_leftover() override { return responses_.take_leftover(); }
  void on_tls_established() override;

  const session_facts& facts() const override { return facts_; }
  const diagnostics& diag() const override { return diag_; }

  // The capability response of the current phase (empty right after TLS, until re-sent).
  const response& capabilities_now() const { return caps_; }

 private:
  enum class state {
    greeting,
    starttls,
    handshaking,
    capabilities_after_tls,
    logout,
    logout_then_fail,
    finished,
  };

  action on_response(const response& r);
  action continue_in_plaintext(std::string warning, bool say_logout);
  action logout_and_fail(error_code ec, const response* culprit);
  action fail(error_code ec, const response* culprit);

  client_options options_;
  response_reader responses_;
  state state_ = state::greeting;
  bool tls_active_;
  bool eof_ = false;
  error_code pending_error_;
  response caps_;
  session_facts facts_;
  diagnostics diag_;
};

}  // namespace otls::proto::sieve
