// MySQL/MariaDB client role up to TLS (MySQL "Client/Server Protocol", "SSL Handshake"): read the
// server's initial handshake packet, report its version and capabilities, send the SSLRequest
// packet when CLIENT_SSL is offered, then start TLS. No HandshakeResponse is sent: no user name
// or password ever leaves otls. Sans-I/O.
#pragma once

#include <string>

#include "otls/proto/mysql/packet.hpp"
#include "otls/proto/session_base.hpp"

namespace otls::proto::mysql {

// Where a client session stands (see client_base for the shared states).
enum class client_state {
  greeting,          // waiting for the initial handshake packet
  ssl_request_sent,  // SSLRequest out: TLS starts without an answer
  handshaking,
  goodbye,  // unused: before authentication a close is the goodbye
  goodbye_then_fail,
  finished,
};

// What the client asks for in its SSLRequest: TLS, the 4.1 protocol and 4.1 authentication.
inline constexpr std::uint32_t client_ssl_request_flags =
    client_ssl | client_protocol_41 | client_secure_connection | client_long_password;

class client final : public client_base<client_state> {
 public:
  explicit client(client_options options);

  void feed(std::string_view bytes) override;
  action next() override;
  std::string take_leftover() override;
  void on_tls_established() override;

  // The parsed initial handshake (empty before it arrives).
  const std::optional<handshake>& server_handshake() const { return handshake_; }

 private:
  using state = client_state;

  std::string goodbye_command() override { return {}; }
  action on_first_packet(const packet& p);

  std::string received_;
  std::optional<handshake> handshake_;
};

}  // namespace otls::proto::mysql
