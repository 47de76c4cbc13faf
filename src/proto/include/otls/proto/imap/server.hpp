// IMAP server role with STARTTLS (RFC 9051, RFC 3501, RFC 2595): greeting with capabilities,
// CAPABILITY, NOOP, LOGOUT, STARTTLS; a probe/demo server without a mailbox store.
//
// LOGIN and AUTHENTICATE are answered "NO [PRIVACYREQUIRED]" before TLS when starttls_required
// (which also advertises LOGINDISABLED, RFC 9051 §6.2.3), and "NO [AUTHENTICATIONFAILED]"
// otherwise: there is no account to log in to (RFC 9051 §7.1 response codes). Every other
// command is BAD. Command literals are accepted up to 4096 octets, synchronizing ({n}, answered
// "+") or not ({n+}, LITERAL-, RFC 7888); a larger one gets "BAD [TOOBIG]" and the connection is
// closed. Lines may end in CRLF or bare LF, as Dovecot and Cyrus accept: nothing is relayed, so
// there is no smuggling gap to close.
#pragma once

#include <string>
#include <vector>

#include "otls/proto/imap/response.hpp"
#include "otls/proto/session_base.hpp"

namespace otls::proto::imap {

// Where a server session stands (see server_base for the shared states).
enum class server_state { greet, command, starttls_pending, closing, finished };

class server final : public server_base<server_state> {
 public:
  explicit server(server_options options);

  void feed(std::string_view bytes) override { frames_.feed(bytes); }
  action next() override;
  std::string take_leftover() override { return frames_.take_leftover(); }
  void on_tls_established() override;

  // What this server advertises now, e.g. {"IMAP4rev1", "LITERAL-", "STARTTLS"}.
  std::vector<std::string> capabilities() const;

 private:
  using state = server_state;

  std::string too_many_errors_reply(std::string refusal) const override;

  action on_command(const command& cmd);
  action on_frame_error(error_code ec);
  action ok(const command& cmd, std::string_view text, std::string untagged = {});
  action refuse(const command& cmd, std::string_view status, std::string_view text);
  std::string capability_list() const;

  frame_reader frames_;
  std::size_t literals_continued_ = 0;  // "+" sent for this many literals of the partial command
};

}  // namespace otls::proto::imap
