// POP3 client role up to and through STLS (RFC 1939, RFC 2449 CAPA, RFC 2595 §4 STLS, RFC 8314
// implicit TLS): greeting, CAPA, STLS, CAPA again after TLS, QUIT. Sans-I/O.
#pragma once

#include "otls/proto/dialect.hpp"
#include "otls/proto/pop3/response.hpp"

namespace otls::proto::pop3 {

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

  // CAPA lines of the current phase (empty before CAPA, after -ERR, and right after TLS).
  const capabilities& capabilities_now() const { return caps_; }

 private:
  enum class state {
    greeting,
    capa,
    stls,
    handshaking,
    capa_after_tls,
    quit,
    quit_then_fail,
    finished,
  };

  action on_response(const response& r);
  action after_capabilities();
  action continue_in_plaintext(std::string warning);
  action quit_and_fail(error_code ec, const response* culprit);
  action fail(error_code ec, const response* culprit);

  client_options options_;
  response_reader responses_;
  state state_ = state::greeting;
  bool tls_active_;
  bool eof_ = false;
  bool capa_worked_ = false;  // the plaintext CAPA was answered with +OK
  error_code pending_error_;
  std::string pending_write_;
  capabilities caps_;
  session_facts facts_;
  diagnostics diag_;
};

}  // namespace otls::proto::pop3
