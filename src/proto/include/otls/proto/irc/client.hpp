// IRC client role through STARTTLS (IRCv3 `tls` extension, deprecated in 2019 in favour of STS
// but still deployed; IRCv3 capability negotiation 3.2; RFC 2812 §3.1 QUIT, §3.7 PING/PONG):
// CAP LS 302, STARTTLS, 670 → TLS, CAP LS again inside TLS, CAP END, QUIT. No nick is
// registered: servers answer CAP LS before registration. Sans-I/O.
#pragma once

#include <optional>

#include "otls/proto/irc/message.hpp"
#include "otls/proto/session_base.hpp"

namespace otls::proto::irc {

// Where a client session stands (see client_base for the shared states; IRC has no greeting, so
// `greeting` is never used: the client speaks first).
enum class client_state {
  greeting,
  cap_ls,    // CAP LS 302 sent
  starttls,  // STARTTLS sent
  handshaking,
  cap_ls_after_tls,
  goodbye,  // QUIT sent
  goodbye_then_fail,
  finished,
};

// Messages a session reads past (NOTICEs, PINGs, unrelated numerics) before giving up.
inline constexpr unsigned max_ignored_messages = 256;
// NOTICEs kept for the report's banner.
inline constexpr std::size_t max_banner_notices = 16;

class client final : public client_base<client_state> {
 public:
  explicit client(client_options options);

  void feed(std::string_view bytes) override { messages_.feed(bytes); }
  action next() override;
  std::string take_leftover() override { return messages_.take_leftover(); }
  void on_tls_established() override;

  // The capabilities of the current phase's CAP LS (empty before it and right after TLS).
  const std::vector<capability>& capabilities_now() const { return caps_; }
  // The `sts` capability's policy in the current phase, if the server advertised one.
  std::optional<sts_policy> sts() const;

 private:
  using state = client_state;

  std::string goodbye_command() override;
  std::optional<action> on_message(const message& m);
  std::optional<action> on_cap_ls_phase(const message& m);
  std::optional<action> on_starttls_reply(const message& m);
  action after_capabilities();
  action read_past(const message& m);

  message_reader messages_;
  std::vector<capability> caps_;  // accumulated over a multi-line CAP LS reply
  std::size_t cap_ls_lines_ = 0;
  bool cap_answered_ = false;  // this phase's CAP LS was answered: CAP END goes before QUIT
  bool cap_worked_ = false;    // the plaintext CAP LS was answered
  unsigned ignored_ = 0;
};

}  // namespace otls::proto::irc
