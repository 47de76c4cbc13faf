// IRC server role with STARTTLS (IRCv3 tls extension and capability negotiation 3.2; RFC 2812
// §3.1 NICK/USER/QUIT, §3.7 PING): a probe and demo server without channels. No greeting;
// CAP LS offers `tls` before TLS only, STARTTLS → 670 → TLS; a second STARTTLS, STARTTLS after
// registration and STARTTLS without TLS available get 691 (ERR_STARTTLS).
//
// starttls_required: registration (NICK + USER) is refused with ERROR before TLS.
//
// Lines end in CRLF or a bare LF: IRC servers accept both (hand-typed sessions send LF).
#pragma once

#include <optional>

#include "otls/proto/irc/message.hpp"
#include "otls/proto/session_base.hpp"

namespace otls::proto::irc {

// Where a server session stands (see server_base for the shared states).
enum class server_state { greet, command, starttls_pending, closing, finished };

class server final : public server_base<server_state> {
 public:
  explicit server(server_options options);

  void feed(std::string_view bytes) override { lines_.feed(bytes); }
  action next() override;
  std::string take_leftover() override { return lines_.take_leftover(); }
  void on_tls_established() override;

 private:
  using state = server_state;

  std::string too_many_errors_reply(std::string refusal) const override;

  // nullopt: nothing to answer, read the next command.
  std::optional<action> on_message(const message& m);
  std::optional<action> on_cap(const message& m);
  action on_starttls();
  std::optional<action> maybe_register();
  std::string reply(std::string_view numeric, std::string_view text) const;
  std::string target() const { return nick_.empty() ? "*" : nick_; }

  core::line_reader lines_;
  std::string nick_;
  bool user_given_ = false;
  bool negotiating_caps_ = false;  // CAP LS seen, CAP END not yet: registration waits
  bool registered_ = false;
};

}  // namespace otls::proto::irc
