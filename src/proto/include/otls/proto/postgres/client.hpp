// PostgreSQL client role up to TLS (PostgreSQL docs "SSL Session Encryption"): SSLRequest, then
// the one-byte answer 'S' (start TLS) or 'N' (no TLS). After the handshake the probe is done; no
// StartupMessage is sent, so no credentials or database names ever leave otls. Sans-I/O.
//
// Two client CVEs shape it: bytes behind the 'S' are a response injection (CVE-2021-23222) and go
// to take_leftover(); an ErrorResponse to the SSLRequest (servers too old for it) is reported
// without its text, which came unauthenticated before TLS (CVE-2024-10977).
#pragma once

#include <string>

#include "otls/proto/session_base.hpp"

namespace otls::proto::postgres {

// Where a client session stands (see client_base for the shared states).
enum class client_state {
  greeting,  // the SSLRequest is due
  reply,     // SSLRequest sent, waiting for 'S' / 'N'
  handshaking,
  goodbye,  // unused: PostgreSQL has no goodbye before the startup phase
  goodbye_then_fail,
  finished,
};

class client final : public client_base<client_state> {
 public:
  explicit client(client_options options);

  void feed(std::string_view bytes) override;
  action next() override;
  std::string take_leftover() override;
  void on_tls_established() override;

 private:
  using state = client_state;

  // Terminate ('X') belongs to an established session; before one, closing is the goodbye.
  std::string goodbye_command() override { return {}; }
  action on_reply(unsigned char first);

  std::string received_;  // bounded: only the first byte is ever needed
};

}  // namespace otls::proto::postgres
