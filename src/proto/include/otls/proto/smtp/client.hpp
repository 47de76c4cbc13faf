// SMTP/LMTP client role up to and through STARTTLS (RFC 5321, RFC 3207, RFC 2033): greeting,
// EHLO (HELO fallback), STARTTLS, EHLO again after TLS, QUIT. Sans-I/O.
#pragma once

#include <optional>

#include "otls/proto/session_base.hpp"
#include "otls/proto/smtp/reply.hpp"

namespace otls::proto::smtp {

// Where a client session stands (see client_base for the shared states).
enum class client_state {
  greeting,
  ehlo,
  helo,
  starttls,
  handshaking,
  ehlo_after_tls,
  goodbye,  // QUIT sent
  goodbye_then_fail,
  finished,
};

class client final : public client_base<client_state> {
 public:
  client(client_options options, variant v);

  void feed(std::string_view bytes) override { replies_.feed(bytes); }
  action next() override;
  std::string take_leftover() override { return replies_.take_leftover(); }
  void on_tls_established() override;

  // Parsed EHLO capabilities of the current phase (empty after HELO or before EHLO).
  const ehlo_capabilities& capabilities() const { return caps_; }

 private:
  using state = client_state;

  std::string goodbye_command() override { return "QUIT\r\n"; }
  action on_reply(const reply& r);
  action after_capabilities();
  std::string hello(std::string_view verb) const;

  variant variant_;
  reply_reader replies_;
  ehlo_capabilities caps_;
};

}  // namespace otls::proto::smtp
