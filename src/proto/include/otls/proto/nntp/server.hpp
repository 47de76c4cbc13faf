// NNTP server role with STARTTLS (RFC 3977, RFC 4642, RFC 4643 §2.2 for AUTHINFO refusals):
// greeting, CAPABILITIES, STARTTLS, MODE READER, DATE, HELP and QUIT; no articles, no logins.
//
// starttls_required answers AUTHINFO with "483 Encryption or stronger authentication required"
// before TLS (RFC 4643 §2.2, as INN's nnrpd does) and lists a bare "AUTHINFO" capability, which
// says that authentication exists but is not available yet (RFC 4643 §2.1); after TLS it lists
// "AUTHINFO USER". Logins themselves always fail (481): this server has no accounts.
//
// Commands may end in bare LF as well as CRLF (INN's nnrpd accepts both, and people type NNTP
// by hand): no article data is ever accepted, so there is no message to smuggle.
#pragma once

#include <string>

#include "otls/core/line_reader.hpp"
#include "otls/proto/nntp/response.hpp"
#include "otls/proto/session_base.hpp"

namespace otls::proto::nntp {

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

  action on_command(const std::string& line);
  action capabilities() const;
  action authinfo(const command& cmd);

  core::line_reader lines_;
};

}  // namespace otls::proto::nntp
