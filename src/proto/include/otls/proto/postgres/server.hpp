// PostgreSQL server role for the TLS upgrade (PostgreSQL docs "SSL Session Encryption", "Message
// Formats"): answers an SSLRequest with 'S' and hands over to TLS, or with 'N' when TLS is not
// available; a GSSENCRequest gets 'N'. Inside TLS it reads the StartupMessage and answers an
// ErrorResponse ("no database here"), so a real client sees a clean error after the handshake.
//
// Bytes pipelined behind the SSLRequest are handed to the driver to discard (CVE-2021-23214).
// Anything but a startup-phase request before TLS closes the connection without a reply.
#pragma once

#include <string>

#include "otls/proto/session_base.hpp"

namespace otls::proto::postgres {

// Where a server session stands (see server_base for the shared states).
enum class server_state {
  greet,  // reading a startup-phase request before TLS (PostgreSQL has no greeting)
  starttls_pending,
  startup,  // reading the StartupMessage: inside TLS, or after 'N' when TLS is unavailable
  closing,
  finished,
};

class server final : public server_base<server_state> {
 public:
  explicit server(server_options options);

  void feed(std::string_view bytes) override;
  action next() override;
  std::string take_leftover() override;
  void on_tls_established() override;

 private:
  using state = server_state;

  std::string too_many_errors_reply(std::string) const override { return {}; }
  action on_packet(std::uint32_t code, std::size_t body_size);

  std::string received_;
  bool gssenc_answered_ = false;
  bool overflow_ = false;  // more input than any startup packet can hold
};

}  // namespace otls::proto::postgres
