// IMAP client role up to and through STARTTLS (RFC 9051, RFC 3501, RFC 2595): greeting
// (OK, PREAUTH, BYE), CAPABILITY (from the greeting's response code or asked for), STARTTLS,
// CAPABILITY again after TLS, LOGOUT. Implicit TLS (imaps, RFC 8314) skips the upgrade. Sans-I/O.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "otls/proto/imap/response.hpp"
#include "otls/proto/session_base.hpp"

namespace otls::proto::imap {

// Where a client session stands (see client_base for the shared states).
enum class client_state {
  greeting,
  capability,  // CAPABILITY sent, before or after TLS
  starttls,
  handshaking,
  goodbye,  // LOGOUT sent
  goodbye_then_fail,
  finished,
};

class client final : public client_base<client_state> {
 public:
  explicit client(client_options options);

  void feed(std::string_view bytes) override { frames_.feed(bytes); }
  action next() override;
  std::string take_leftover() override { return frames_.take_leftover(); }
  void on_tls_established() override;

  // Capabilities of the current phase, as sent ("IMAP4rev1", "STARTTLS", "AUTH=PLAIN").
  const std::vector<std::string>& capabilities() const { return caps_; }

 private:
  using state = client_state;

  std::string goodbye_command() override { return tagged("LOGOUT"); }
  std::optional<action> on_response(const response& r);  // nullopt: read on
  action on_greeting(const response& r);
  action capabilities_known();
  std::string tagged(std::string_view name);
  action send(std::string_view name, state next);
  void learn_capabilities(std::vector<std::string> caps);

  frame_reader frames_;
  unsigned tag_counter_ = 0;
  std::string tag_;  // of the command awaiting its tagged response
  std::vector<std::string> caps_;
};

}  // namespace otls::proto::imap
