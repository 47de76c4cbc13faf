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
#include "otls/proto/dialect.hpp"
#include "otls/proto/nntp/response.hpp"

namespace otls::proto::nntp {

class server final : public dialect {
 public:
  explicit server(server_options options);

  void feed(std::string_view bytes) override { lines_.feed(bytes); }
  void on_eof() override { eof_ = true; }
  action next() override;
  std::string take_leftover() override { return lines_.take_leftover(); }
  void on_tls_established() override;

  const session_facts& facts() const override { return facts_; }
  const diagnostics& diag() const override { return diag_; }

  bool tls_active() const { return tls_active_; }

 private:
  enum class state { greet, command, starttls_pending, closing, finished };

  action on_command(const std::string& line);
  action capabilities() const;
  action authinfo(const command& cmd);
  action error_reply(std::string text);
  action close_with(std::string text, error_code ec);

  server_options options_;
  core::line_reader lines_;
  state state_ = state::greet;
  bool tls_active_;
  bool eof_ = false;
  unsigned errors_ = 0;
  error_code close_error_;
  session_facts facts_;
  diagnostics diag_;
};

}  // namespace otls::proto::nntp
