// POP3 client role up to and through STLS (RFC 1939, RFC 2449 CAPA, RFC 2595 §4 STLS, RFC 8314
// implicit TLS): greeting, CAPA, STLS, CAPA again after TLS, QUIT. Sans-I/O.
#pragma once

#include "otls/proto/pop3/response.hpp"
#include "otls/proto/session_base.hpp"

namespace otls::proto::pop3 {

// Where a client session stands (see client_base for the shared states).
enum class client_state {
  greeting,
  capa,
  stls,
  handshaking,
  capa_after_tls,
  goodbye,  // QUIT sent
  goodbye_then_fail,
  finished,
};

class client final : public client_base<client_state> {
 public:
  explicit client(client_options options);

  void feed(std::string_view bytes) override { responses_.feed(bytes); }
  action next() override;
  std::string take_leftover() override { return responses_.take_leftover(); }
  void on_tls_established() override;

  // CAPA lines of the current phase (empty before CAPA, after -ERR, and right after TLS).
  const capabilities& capabilities_now() const { return caps_; }

 private:
  using state = client_state;

  std::string goodbye_command() override { return "QUIT\r\n"; }
  action on_response(const response& r);
  action after_capabilities();

  response_reader responses_;
  bool capa_worked_ = false;  // the plaintext CAPA was answered with +OK
  capabilities caps_;
};

}  // namespace otls::proto::pop3
