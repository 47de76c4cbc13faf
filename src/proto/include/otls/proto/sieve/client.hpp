// ManageSieve client role up to and through STARTTLS (RFC 5804 §1.7, §2.2, §2.3): capabilities
// from the greeting, STARTTLS, the capabilities the server re-sends unasked after TLS, LOGOUT.
// Sans-I/O.
#pragma once

#include "otls/proto/session_base.hpp"
#include "otls/proto/sieve/syntax.hpp"

namespace otls::proto::sieve {

// Where a client session stands (see client_base for the shared states).
enum class client_state {
  greeting,
  starttls,
  handshaking,
  capabilities_after_tls,
  goodbye,  // LOGOUT sent
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

  // The capability response of the current phase (empty right after TLS, until re-sent).
  const response& capabilities_now() const { return caps_; }

 private:
  using state = client_state;

  std::string goodbye_command() override { return "LOGOUT\r\n"; }
  action on_response(const response& r);

  response_reader responses_;
  response caps_;
};

}  // namespace otls::proto::sieve
